/* version.c -- the version of the library actually linked, and the vector
 * instructions its kernels run with here. */
#include "softmaxreg.h"
#include "../kernels/kernels.h"

const char *smr_version(void) { return SMR_VERSION_STRING; }

int smr_version_number(void) { return SMR_VERSION_NUMBER; }

const char *smr_simd(void)
{
    static const char *const name[] = {"portable", "avx2", "avx512"};
    return name[smr_k_simd_level()];
}
