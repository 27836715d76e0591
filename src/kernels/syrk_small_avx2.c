/*
 * syrk_small_avx2.c -- syrk_small.c's kernel at 4 doubles per vector, for
 * the AVX2 level (simd.h says why the width differs).
 */
#define SMR_VL 4
#include "syrk_small.c"
