/*
 * Unit tests for core/io/outfile.c: a file appears only when complete, a
 * failure leaves neither the target nor a temporary file, devices are written
 * in place; outfile_lock's holder sees the file that is at the path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/outfile.h"

#include "tmpdir.h"

/* Files in the scratch folder. */
static int
nfiles(void)
{
	DIR *dir = opendir(tmpdir);
	assert_non_null(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

static void
appears_when_committed(void **state)
{
	(void)state;
	struct outfile o = {0};
	struct diag d = {0};
	const char *path = tmpdir_path("out.csv");
	assert_int_equal(outfile_open(&o, path, &d), 0);
	assert_string_equal(outfile_name(&o), path);
	fputs("a,b\n", o.f);
	assert_int_equal(access(path, F_OK), -1); /* still under its temporary name */
	assert_int_equal(nfiles(), 1);
	assert_int_equal(outfile_close(&o, 1, &d), 0);
	assert_int_equal(outfile_commit(&o, &d), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[16] = {0};
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "a,b\n");
	assert_int_equal(nfiles(), 1);
	unlink(path);
}

static void
failure_leaves_nothing(void **state)
{
	(void)state;
	struct outfile o = {0};
	struct diag d = {0};
	assert_int_equal(outfile_open(&o, tmpdir_path("gone.csv"), &d), 0);
	fputs("x\n", o.f);
	assert_int_equal(outfile_close(&o, 0, &d), -1);
	assert_int_equal(nfiles(), 0);

	assert_int_equal(outfile_open(&o, tmpdir_path("kept.csv"), &d), 0);
	assert_int_equal(outfile_close(&o, 1, &d), 0);
	outfile_discard(&o);
	assert_int_equal(nfiles(), 0);
}

static void
errors_name_the_target(void **state)
{
	(void)state;
	struct outfile o = {0};
	struct diag d = {0};
	char path[160];
	snprintf(path, sizeof(path), "%s/no/such/dir/x.csv", tmpdir);
	assert_int_equal(outfile_open(&o, path, &d), -1);
	assert_int_equal(d.code, DIAG_IO);
	assert_non_null(strstr(d.msg, "cannot write '"));
	assert_non_null(strstr(d.msg, "/no/such/dir/x.csv'"));

	if (access("/dev/full", W_OK) == 0) { /* a device: written in place, fails at the flush */
		diag_clear(&d);
		assert_int_equal(outfile_open(&o, "/dev/full", &d), 0);
		for (int i = 0; i < 100000; i++)
			fputs("0123456789", o.f);
		assert_int_equal(outfile_close(&o, 1, &d), -1);
		assert_non_null(strstr(d.msg, "cannot write '/dev/full'"));
	}
}

/* outfile_write_all: the whole document or nothing. */
static void
write_all(void **state)
{
	(void)state;
	struct diag d = {0};
	const char *path = tmpdir_path("doc.ics");
	assert_int_equal(outfile_write_all(path, "BEGIN\r\nEND\r\n", 12, &d), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char buf[32] = {0};
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 12);
	fclose(f);
	assert_memory_equal(buf, "BEGIN\r\nEND\r\n", 12);
	assert_int_equal(nfiles(), 1);
	unlink(path);

	char bad[160];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.ics", tmpdir);
	assert_int_equal(outfile_write_all(bad, "x", 1, &d), -1);
	assert_non_null(strstr(d.msg, "cannot write '"));
	assert_int_equal(nfiles(), 0);
}

static void
standard_output(void **state)
{
	(void)state;
	struct outfile o = {0};
	struct diag d = {0};
	assert_int_equal(outfile_open(&o, NULL, &d), 0);
	assert_ptr_equal(o.f, stdout);
	assert_string_equal(outfile_name(&o), "standard output");
	assert_int_equal(outfile_close(&o, 1, &d), 0);
	assert_int_equal(outfile_commit(&o, &d), 0);
}

static void
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* An appender that waited while the file was replaced appends to the new file: with the
 * lock on the old one only, its line would go to the file the rename took away. */
static void
lock_follows_replacement(void **state)
{
	(void)state;
	struct diag d = {0};
	const char *path = tmpdir_path("messages.jsonl");
	assert_int_equal(outfile_write_all(path, "old 1\nold 2\n", 12, &d), 0);
	int held = outfile_lock(path, O_RDONLY, &d);
	assert_true(held >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The inherited descriptor shares the parent's lock (a flock belongs to the open
		 * file description): let it go, as a process that did not fork would have none. */
		close(held);
		alarm(10); /* a lock never granted ends the test, not the suite */
		struct diag cd = {0};
		int fd = outfile_lock(path, O_RDWR | O_APPEND | O_CREAT, &cd);
		_exit(fd < 0 || write(fd, "child\n", 6) != 6 ? 1 : 0);
	}
	/* The child is waiting for the lock (or not started yet: either way it must end up
	 * writing to the new file). */
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	assert_int_equal(outfile_write_all(path, "old 2\n", 6, &d), 0);
	close(held);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	char buf[64];
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf, "old 2\nchild\n");
	unlink(path);
}

static void
lock_missing_file(void **state)
{
	(void)state;
	struct diag d = {0};
	const char *path = tmpdir_path("none.jsonl");
	errno = 0;
	assert_int_equal(outfile_lock(path, O_RDONLY, &d), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(d.msg, "cannot open '"));
	assert_non_null(strstr(d.msg, "none.jsonl"));
	assert_int_equal(access(path, F_OK), -1);
	/* With O_CREAT it is made, 0644 under the umask. */
	int fd = outfile_lock(path, O_RDWR | O_CREAT, &d);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(appears_when_committed),
	    cmocka_unit_test(failure_leaves_nothing),
	    cmocka_unit_test(errors_name_the_target),
	    cmocka_unit_test(write_all),
	    cmocka_unit_test(standard_output),
	    cmocka_unit_test(lock_follows_replacement),
	    cmocka_unit_test(lock_missing_file),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
