/*
 * random.c -- SPSA directions from a counter-based generator.
 *
 * Random123's Philox4x64-10 (Salmon et al., SC'11), header-only from Debian's
 * librandom123-dev.  Direction j of iteration `iter` under `seed` is a pure
 * function of (seed, iter, j): counter = (block, j, iter, stream), key =
 * (seed, constant).  Nothing is stored between steps, any direction can be
 * regenerated, and the same seed gives the same bits on any thread count.
 *
 * Uniforms are 53-bit, in the open interval (0, 1); normals are Box-Muller
 * pairs (4 normals per Philox call); Rademacher signs take one bit each.
 */
#include "kernels.h"

#include <Random123/philox.h>
#include <math.h>

static double u01(uint64_t u) { return ((double)(u >> 11) + 0.5) * 0x1.0p-53; }

void smr_k_direction(uint64_t seed, uint64_t iter, uint64_t j, int rademacher,
                     int64_t d, double *out)
{
    philox4x64_key_t key = {{seed, 0x736f66746d617872ull /* "softmaxr" */}};
    if (rademacher) {
        for (int64_t b = 0; b * 256 < d; ++b) {
            philox4x64_ctr_t c = {{(uint64_t)b, j, iter, 1}};
            philox4x64_ctr_t r = philox4x64(c, key);
            for (int64_t k = 0; k < 256 && b * 256 + k < d; ++k)
                out[b * 256 + k] = ((r.v[k / 64] >> (k % 64)) & 1u) ? 1.0 : -1.0;
        }
        return;
    }
    for (int64_t b = 0; b * 4 < d; ++b) {
        philox4x64_ctr_t c = {{(uint64_t)b, j, iter, 0}};
        philox4x64_ctr_t r = philox4x64(c, key);
        for (int h = 0; h < 2; ++h) {
            double rad = sqrt(-2.0 * log(u01(r.v[2 * h])));
            double ang = 6.283185307179586 * u01(r.v[2 * h + 1]);
            int64_t k = b * 4 + 2 * h;
            if (k < d)
                out[k] = rad * cos(ang);
            if (k + 1 < d)
                out[k + 1] = rad * sin(ang);
        }
    }
}

/* B indices uniform in [0, m), with replacement: Philox stream 2 of
 * (seed, iter); 64-bit draws reduced by multiply-shift (bias < m / 2^64). */
void smr_k_pick(uint64_t seed, uint64_t iter, int64_t m, int64_t B,
                int64_t *out)
{
    philox4x64_key_t key = {{seed, 0x736f66746d617872ull}};
    for (int64_t b = 0; b < B; b += 4) {
        philox4x64_ctr_t c = {{(uint64_t)b, 0, iter, 2}};
        philox4x64_ctr_t r = philox4x64(c, key);
        for (int h = 0; h < 4 && b + h < B; ++h)
            out[b + h] = (int64_t)(((unsigned __int128)r.v[h] * (uint64_t)m) >> 64);
    }
}

/* four uniforms in (0, 1) from Philox stream 5 of (seed, t) */
void smr_k_uniform4(uint64_t seed, uint64_t t, double u[4])
{
    philox4x64_key_t key = {{seed, 0x736f66746d617872ull}};
    philox4x64_ctr_t c = {{t, 0, 0, 5}};
    philox4x64_ctr_t r = philox4x64(c, key);
    for (int h = 0; h < 4; ++h)
        u[h] = u01(r.v[h]);
}
