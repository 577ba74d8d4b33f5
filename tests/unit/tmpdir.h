/*
 * tmpdir: a scratch folder for one cmocka test group, for the unit tests that
 * write files (test_npy.c, test_matrix.c). tmpdir_setup and tmpdir_teardown are
 * the group's setup and teardown; tmpdir_path names a file inside the folder.
 * A header of static functions: each test program includes it once.
 */
#ifndef TANDEM_TEST_TMPDIR_H
#define TANDEM_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64];

static int
tmpdir_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tandem_test.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
tmpdir_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* tmpdir/name, valid until the next call. */
static const char *
tmpdir_path(const char *name)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

#endif
