/*
 * fused_cols_avx2.c -- fused_cols.c's kernel at 4 doubles per vector, for
 * the AVX2 level (src/kernels/simd.h says why the width differs).
 */
#define SMR_VL 4
#include "fused_cols.c"
