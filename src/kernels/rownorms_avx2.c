/*
 * rownorms_avx2.c -- rownorms.c's loop at 4 doubles per vector, for the
 * AVX2 level (src/kernels/simd.h says why the width differs).
 */
#define SMR_VL 4
#include "rownorms.c"
