/*
 * bench_read_impl.h -- the reference reads' loops at one vector width,
 * included by bench_read.c once per ISA level (BR_W doubles per vector,
 * BR_TARGET the function attribute, BR_SUF the name suffix).  Plain
 * loads and adds: the reference is what reading A costs, so it must be
 * the fastest plain read the CPU runs (bench_read.c says why).
 */
#define BR_CAT2(a, b) a##_##b
#define BR_CAT(a, b) BR_CAT2(a, b)
#define BR_FN(name) BR_CAT(name, BR_SUF)
#define BR_VT BR_CAT(br_vec, BR_SUF)

typedef double BR_VT __attribute__((vector_size(8 * BR_W)));

/* acc += a[0 .. len) in four accumulators of BR_W lanes (4 W doubles,
 * at least two 64-byte lines, per iteration), the loads aligned to 64
 * bytes: a scalar head up to the first line boundary (malloc returns A
 * 16 bytes past a line, and a 64-byte load there straddles two lines on
 * every load), a scalar tail; the scalar parts go to *s */
BR_TARGET static inline __attribute__((always_inline)) void
BR_FN(br_add)(BR_VT acc[4], const double *a, int64_t len, double *s)
{
    int64_t i = 0;
    for (; i < len && ((uintptr_t)(a + i) & 63u); ++i)
        *s += a[i];
    for (; i + 4 * BR_W <= len; i += 4 * BR_W)
        for (int q = 0; q < 4; ++q) {
            BR_VT x;
            memcpy(&x, a + i + BR_W * q, sizeof x);
            acc[q] += x;
        }
    for (; i < len; ++i)
        *s += a[i];
}

/* sum of a[0 .. len), in chunks of BR_CHUNK doubles (16 KiB): on this
 * machine a read so cut ran 10-16 % faster than one loop over the whole
 * range (2 GB and 128 MB, 1 and 2 threads, a /tmp driver, the variants'
 * order rotated; chunks of 4 KiB about as fast, 128 KiB and more as slow
 * as one loop), and the reference must be the fastest read we have */
#ifndef BR_CHUNK
#define BR_CHUNK 2048
#endif
BR_TARGET static double BR_FN(br_sum)(const double *a, int64_t len)
{
    BR_VT acc[4] = {{0}};
    double s = 0;
    for (int64_t i = 0; i < len; i += BR_CHUNK)
        BR_FN(br_add)(acc, a + i, len - i < BR_CHUNK ? len - i : BR_CHUNK, &s);
    for (int q = 0; q < 4; ++q)
        for (int l = 0; l < BR_W; ++l)
            s += acc[q][l];
    return s;
}

/* rows r0 .. r1 - 1 of A (d each, contiguous), 8 at a time: their 8 d
 * doubles summed, then b of the 8 read and u of the 8 written */
BR_TARGET static double BR_FN(br_floor_rows)(const double *A, int64_t r0, int64_t r1,
                                             int64_t d, const double *b, double *u)
{
    BR_VT acc[4] = {{0}};
    double s = 0;
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) {
        BR_FN(br_add)(acc, A + r * d, 8 * d, &s);
        for (int q = 0; q < 8 / BR_W; ++q) {
            BR_VT bv;
            memcpy(&bv, b + r + BR_W * q, sizeof bv);
            bv = bv * 0.5 + acc[q];
            memcpy(u + r + BR_W * q, &bv, sizeof bv);
        }
    }
    for (; r < r1; ++r) {
        for (int64_t j = 0; j < d; ++j)
            s += A[r * d + j];
        u[r] = 0.5 * b[r];
    }
    for (int q = 0; q < 4; ++q)
        for (int l = 0; l < BR_W; ++l)
            s += acc[q][l];
    return s;
}

/* u[r0 .. r1) *= 0.999 in place and the sum of (u - b)^2 */
BR_TARGET static double BR_FN(br_floor_finish)(int64_t r0, int64_t r1, const double *b,
                                               double *u)
{
    BR_VT acc = {0};
    int64_t r = r0;
    for (; r + BR_W <= r1; r += BR_W) {
        BR_VT uv, bv;
        memcpy(&uv, u + r, sizeof uv);
        memcpy(&bv, b + r, sizeof bv);
        uv *= 0.999;
        memcpy(u + r, &uv, sizeof uv);
        acc += (uv - bv) * (uv - bv);
    }
    double s = 0;
    for (; r < r1; ++r) {
        u[r] *= 0.999;
        s += (u[r] - b[r]) * (u[r] - b[r]);
    }
    for (int l = 0; l < BR_W; ++l)
        s += acc[l];
    return s;
}

#undef BR_VT
#undef BR_FN
#undef BR_CAT
#undef BR_CAT2
