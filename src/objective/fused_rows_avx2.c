/*
 * fused_rows_avx2.c -- fused_rows.c's kernels at 4 doubles per vector,
 * for the AVX2 level (src/kernels/simd.h says why the width differs).
 */
#define SMR_VL 4
#include "fused_rows.c"
