/*
 * tandem.h: the public embedding API of libtandem (the only installed header).
 *
 * An embedder links libtandem (pkg-config --libs tandem), installs a log handler,
 * opens a workspace database and calls the same operations the CLI uses. The
 * functions below are stable; internal module headers are not installed.
 */
#ifndef TANDEM_H
#define TANDEM_H

#ifdef __cplusplus
extern "C" {
#endif

/* The library version, "MAJOR.MINOR.PATCH". */
const char *tandem_version(void);

#ifdef __cplusplus
}
#endif

#endif
