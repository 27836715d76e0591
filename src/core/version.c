/* version.c -- the version of the library actually linked. */
#include "softmaxreg.h"

const char *smr_version(void) { return SMR_VERSION_STRING; }

int smr_version_number(void) { return SMR_VERSION_NUMBER; }
