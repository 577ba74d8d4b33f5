/*
 * fuzz: what the libFuzzer harnesses of tests/fuzz/ share. A header of static functions:
 * each harness (one executable per fuzz_<target>.c) includes it once.
 *
 *  - FUZZ_CHECK(cond): an invariant of the code under test. A failure prints the condition
 *    and aborts, which libFuzzer reports as a crash and saves the input. FUZZ_CHECK_MSG(cond,
 *    msg) also prints msg (a diag's message, say).
 *  - fuzz_dir(): a scratch folder made on first use (under $TMPDIR, else /dev/shm when it
 *    exists, else /tmp) and removed with its files when the process exits normally. Files
 *    the harnesses write (a database, a plugin, tandem.lua) live there.
 *  - fuzz_write(name, data, size): writes the input into a file of that folder; its path.
 *
 * The harnesses never print on success: libFuzzer's own lines are the run's log.
 */
#ifndef TANDEM_FUZZ_H
#define TANDEM_FUZZ_H

#define _GNU_SOURCE 1
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

#define FUZZ_CHECK_MSG(cond, msg)                                                          \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s (%s)\n", __FILE__,     \
				__LINE__, #cond, (msg));                                   \
			abort();                                                           \
		}                                                                          \
	} while (0)

static char fuzz_dir_path[256];

static __attribute__((unused)) int
fuzz_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static __attribute__((unused)) void
fuzz_dir_remove(void)
{
	if (fuzz_dir_path[0] != '\0')
		nftw(fuzz_dir_path, fuzz_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static __attribute__((unused)) const char *
fuzz_dir(void)
{
	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	const char *base = getenv("TMPDIR");
	struct stat sb;
	if (base == NULL || base[0] == '\0')
		base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/tandem_fuzz.XXXXXX", base);
	if (mkdtemp(fuzz_dir_path) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

/* The path of NAME in the scratch folder, valid until the next call. */
static __attribute__((unused)) const char *
fuzz_path(const char *name)
{
	static char buf[512];
	snprintf(buf, sizeof(buf), "%s/%s", fuzz_dir(), name);
	return buf;
}

/* Writes data[0..size) to NAME in the scratch folder (replacing it); returns its path. */
static __attribute__((unused)) const char *
fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	const char *path = fuzz_path(name);
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
	return path;
}

#endif
