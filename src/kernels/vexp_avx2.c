/*
 * vexp_avx2.c -- vexp.c's vector loop at 4 doubles per vector, for the
 * AVX2 level (simd.h says why the width differs).
 */
#define SMR_VL 4
#include "vexp.c"
