/*
 * moves.h -- A_i Zr for a few rows at once, in vector lanes that hold
 * directions (internal; used by objective/perturbed_rows.c, the SPSA
 * losses, and kernels/rownorms.c, the leverage scores' A W).
 *
 * Row i's k products sum_c A(i, c) Zr[c, :] are a broadcast of A(i, c)
 * times a row of Zr (d x kp, row-major, kp a multiple of SMR_VL), one chain
 * per row and vector over c = 0..d-1 in order: no transpose of A, no
 * horizontal sum, the same bits whatever the caller does around it.
 * A(i, c) is read as a scalar at A[i rs + c cs], so either layout is read
 * in place (row-major: rs = ld, cs = 1; column-major: rs = 1, cs = ld).
 * The rb rows of a call share each load of Zr.
 *
 * Include after simd.h (vd, ldv, splatv and SMR_VL), in a file compiled
 * as simd.h says.
 */
#ifndef SMR_MOVES_H
#define SMR_MOVES_H

#define SMR_MOVES_NV 2 /* vectors of directions per group */

/* a[r][v] = lanes v SMR_VL .. of A_{i + r} Zr, r < rb, v < nv (a has rb
 * rows); rb and nv are constants at every call, so a stays in registers */
static inline __attribute__((always_inline)) void
smr_moves(int rb, int nv, int64_t i, int64_t d, const double *A, int64_t rs,
          int64_t cs, const double *Zr, int64_t kp, vd a[][SMR_MOVES_NV])
{
    for (int r = 0; r < rb; ++r)
        for (int v = 0; v < nv; ++v)
            a[r][v] = (vd){0};
    for (int64_t c = 0; c < d; ++c) {
        vd zc[SMR_MOVES_NV];
        for (int v = 0; v < nv; ++v)
            zc[v] = ldv(Zr + c * kp + v * SMR_VL);
        for (int r = 0; r < rb; ++r) {
            vd ac = splatv(A[(i + r) * rs + c * cs]);
            for (int v = 0; v < nv; ++v)
                a[r][v] += ac * zc[v];
        }
    }
}

#endif
