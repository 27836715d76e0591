/*
 * perturbed_rows_avx2.c -- perturbed_rows.c's loop at 4 doubles per
 * vector, for the AVX2 level (src/kernels/simd.h says why the width
 * differs).
 */
#define SMR_VL 4
#include "perturbed_rows.c"
