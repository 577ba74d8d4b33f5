/*
 * tandem: implementation of the public embedding API declared in tandem.h.
 */
#include "tandem.h"

const char *
tandem_version(void)
{
	return TANDEM_VERSION;
}
