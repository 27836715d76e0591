/*
 * sketch.c -- the randomized pieces of the leverage-score sparsifier.
 *
 * CountSketch (Clarkson-Woodruff): row i of M = diag(s) A goes, with a random
 * sign, into one random row h(i) of an m x d sketch:  SM[h(i), :] += sgn_i s_i a_i.
 * One streaming pass over A, O(nnz(A)).  Hash and sign come from splitmix64
 * of (seed, row) (cheaper than a Philox call per row, which cost a third of
 * the sketch), so a sketch is a pure function of the seed.
 * Gaussian matrices for the Johnson-Lindenstrauss projection come from
 * smr_k_direction (stream 0/1) under a derived seed.
 */
#include "kernels.h"

#include <string.h>

void smr_k_countsketch(const smr_mat *A, const double *scale, uint64_t seed,
                       int64_t m, int64_t *bucket, double *sgnscale, double *SM)
{
    int64_t n = A->n, d = A->d;
    /* hash and sign of row i: splitmix64 of (seed, i), a fast mixer whose
     * outputs pass BigCrush; a CountSketch needs only a well-spread hash */
    uint64_t base = seed * 0x9E3779B97F4A7C15ull;
    for (int64_t i = 0; i < n; ++i) {
        uint64_t z = base + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        bucket[i] = (int64_t)(((unsigned __int128)z * (uint64_t)m) >> 64);
        sgnscale[i] = (z & 1u) ? scale[i] : -scale[i];
    }
    /* SM is stored in A's layout: row-major m x d (ld d) or col-major (ld m) */
    memset(SM, 0, (size_t)(m * d) * sizeof(double));
    if (A->row_major) {
        for (int64_t i = 0; i < n; ++i) {
            double s = sgnscale[i];
            if (s == 0.0)
                continue;
            const double *a = A->a + i * A->ld;
            double *dst = SM + bucket[i] * d;
            for (int64_t j = 0; j < d; ++j)
                dst[j] += s * a[j];
        }
    } else {
        for (int64_t j = 0; j < d; ++j) {
            const double *col = A->a + j * A->ld;
            double *dst = SM + j * m;
            for (int64_t i = 0; i < n; ++i)
                dst[bucket[i]] += sgnscale[i] * col[i];
        }
    }
}
