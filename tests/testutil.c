#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif
#ifdef TU_ASAN
#include <sanitizer/asan_interface.h>
#define TU_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TU_POISON(p, n) ((void)(p), (void)(n))
#define TU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 1; }

static uint64_t next64(tu_rng *r)
{   /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double tu_uniform(tu_rng *r) { return (double)(next64(r) >> 11) * 0x1.0p-53; }

double tu_normal(tu_rng *r)
{
    double u1 = tu_uniform(r), u2 = tu_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double tu_a(const smr_problem *p, int64_t i, int64_t j)
{
    int64_t ld = p->lda ? p->lda : (p->layout == SMR_ROW_MAJOR ? p->d : p->n);
    return p->layout == SMR_ROW_MAJOR ? p->A[i * ld + j] : p->A[i + j * ld];
}

void tu_problem_make(tu_problem *tp, const tu_spec *s)
{
    tu_rng r;
    tu_seed(&r, s->seed);
    memset(tp, 0, sizeof *tp);
    int64_t packed = s->layout == SMR_ROW_MAJOR ? s->d : s->n;
    int64_t ld = packed + s->lda_pad;
    int64_t outer = s->layout == SMR_ROW_MAJOR ? s->n : s->d;
    tp->a_len = (size_t)(outer * ld);
    if (s->a_off > 0) {
        /* the allocation's lines around A are poisoned under
         * AddressSanitizer, so a read before A's first entry or past its
         * last one is reported even inside the allocation */
        tp->a_mem_len = (tp->a_len + 16) / 8 * 8;
        tp->A_mem = aligned_alloc(64, tp->a_mem_len * sizeof(double));
        tp->A = tp->A_mem ? tp->A_mem + (s->a_off - 1) : NULL;
        if (tp->A) {
            TU_POISON(tp->A_mem, (size_t)(s->a_off - 1) * sizeof(double));
            TU_POISON(tp->A + tp->a_len,
                      (size_t)(tp->A_mem + tp->a_mem_len - (tp->A + tp->a_len)) *
                          sizeof(double));
        }
    } else {
        tp->A = tp->A_mem = malloc(tp->a_len * sizeof(double));
    }
    tp->b = malloc((size_t)s->n * sizeof(double));
    double scale = s->a_scale > 0 ? s->a_scale : 1.0;
    for (size_t k = 0; k < tp->a_len; ++k)
        tp->A[k] = ((int64_t)(k % (size_t)ld) < packed) ? scale * tu_normal(&r)
                                                       : NAN;
    double sum = 0;
    for (int64_t i = 0; i < s->n; ++i)
        sum += (tp->b[i] = tu_uniform(&r) + 0.01);
    for (int64_t i = 0; i < s->n; ++i)
        tp->b[i] /= sum;
    if (s->with_w) {
        tp->w = malloc((size_t)s->n * sizeof(double));
        double ws = s->w_scale > 0 ? s->w_scale : 1.0;
        for (int64_t i = 0; i < s->n; ++i)
            tp->w[i] = ws * (0.5 + tu_uniform(&r));
    }
    tp->p = (smr_problem){.n = s->n, .d = s->d, .A = tp->A,
                          .layout = s->layout,
                          .lda = s->lda_pad ? ld : 0, .b = tp->b, .w = tp->w,
                          .lambda = s->lambda};
}

void tu_make_realizable(tu_problem *tp, double *xs, double scale, uint64_t seed)
{
    const smr_problem *p = &tp->p;
    tu_rng r;
    tu_seed(&r, seed);
    for (int64_t j = 0; j < p->d; ++j)
        xs[j] = scale * tu_normal(&r) / sqrt((double)p->d);
    long double *z = malloc((size_t)p->n * sizeof(long double)), m = -INFINITY, s = 0;
    for (int64_t i = 0; i < p->n; ++i) {
        z[i] = 0;
        for (int64_t j = 0; j < p->d; ++j)
            z[i] += (long double)tu_a(p, i, j) * xs[j];
        m = fmaxl(m, z[i]);
    }
    for (int64_t i = 0; i < p->n; ++i)
        s += (z[i] = expl(z[i] - m));
    for (int64_t i = 0; i < p->n; ++i)
        tp->b[i] = (double)(z[i] / s);
    free(z);
}

void tu_problem_free(tu_problem *tp)
{
    TU_UNPOISON(tp->A_mem, tp->a_mem_len * sizeof(double));
    free(tp->A_mem);
    free(tp->b);
    free(tp->w);
    memset(tp, 0, sizeof *tp);
}

long double tu_ref_loss_grad(const smr_problem *p, const double *x,
                             long double *g, long double *H)
{
    int64_t n = p->n, d = p->d;
    assert_true(n > 0 && d > 0);
    long double *z = malloc((size_t)n * sizeof(long double));
    long double *f = malloc((size_t)n * sizeof(long double));
    long double m = -INFINITY, alpha = 0;
    for (int64_t i = 0; i < n; ++i) {
        z[i] = 0;
        for (int64_t j = 0; j < d; ++j)
            z[i] += (long double)tu_a(p, i, j) * x[j];
        if (z[i] > m)
            m = z[i];
    }
    for (int64_t i = 0; i < n; ++i)
        alpha += (f[i] = expl(z[i] - m));
    long double L = 0, fc = 0, kappa = 0;
    for (int64_t i = 0; i < n; ++i) {
        f[i] /= alpha;
        long double c = f[i] - p->b[i];
        L += 0.5L * c * c;
        fc += f[i] * c;
        kappa += (3 * f[i] - 2 * p->b[i]) * f[i];
        if (p->w)
            L += 0.5L * (p->w[i] * z[i]) * (p->w[i] * z[i]);
    }
    for (int64_t j = 0; j < d; ++j)
        L += 0.5L * p->lambda * x[j] * x[j];
    if (g) {
        for (int64_t j = 0; j < d; ++j) {
            long double s = 0;
            for (int64_t i = 0; i < n; ++i) {
                long double r = f[i] * (f[i] - p->b[i]) - fc * f[i];
                if (p->w)
                    r += (long double)p->w[i] * p->w[i] * z[i];
                s += tu_a(p, i, j) * r;
            }
            g[j] = s + p->lambda * x[j];
        }
    }
    if (H) {
        size_t du = (size_t)d & 0xffffffu; /* d > 0: test sizes are small */
        long double *pv = calloc(du, sizeof(long double));
        long double *qv = calloc(du, sizeof(long double));
        for (int64_t j = 0; j < d; ++j)
            for (int64_t i = 0; i < n; ++i) {
                long double v = f[i] * (2 * f[i] - p->b[i]);
                pv[j] += tu_a(p, i, j) * f[i];
                qv[j] += tu_a(p, i, j) * v;
            }
        for (int64_t j = 0; j < d; ++j)
            for (int64_t k = 0; k < d; ++k) {
                long double s = 0;
                for (int64_t i = 0; i < n; ++i) {
                    long double v = f[i] * (2 * f[i] - p->b[i]);
                    long double e = v - fc * f[i];
                    if (p->w)
                        e += (long double)p->w[i] * p->w[i];
                    s += tu_a(p, i, j) * e * tu_a(p, i, k);
                }
                s += -pv[j] * qv[k] - qv[j] * pv[k] + kappa * pv[j] * pv[k];
                H[j + k * d] = s + (j == k ? p->lambda : 0);
            }
        free(pv);
        free(qv);
    }
    free(z);
    free(f);
    return L;
}

static double loss_of(const smr_problem *p, const double *x)
{
    double L = NAN;
    assert_int_equal(smr_loss(p, x, &L), SMR_OK);
    return L;
}

void tu_fd_gradient(const smr_problem *p, const double *x, double h, double *g)
{
    int64_t d = p->d;
    double *xp = malloc((size_t)d * sizeof(double));
    memcpy(xp, x, (size_t)d * sizeof(double));
    for (int64_t j = 0; j < d; ++j) {
        double hj = h * fmax(1.0, fabs(x[j]));
        xp[j] = x[j] + hj;
        double lp = loss_of(p, xp);
        xp[j] = x[j] - hj;
        double lm = loss_of(p, xp);
        xp[j] = x[j];
        g[j] = (lp - lm) / (2 * hj);
    }
    free(xp);
}

void tu_fd_hessian(const smr_problem *p, const double *x, double h, double *H)
{
    int64_t d = p->d;
    double *xp = malloc((size_t)d * sizeof(double));
    double *gp = malloc((size_t)d * sizeof(double));
    double *gm = malloc((size_t)d * sizeof(double));
    memcpy(xp, x, (size_t)d * sizeof(double));
    for (int64_t k = 0; k < d; ++k) {
        double hk = h * fmax(1.0, fabs(x[k]));
        xp[k] = x[k] + hk;
        assert_int_equal(smr_gradient(p, xp, gp), SMR_OK);
        xp[k] = x[k] - hk;
        assert_int_equal(smr_gradient(p, xp, gm), SMR_OK);
        xp[k] = x[k];
        for (int64_t j = 0; j < d; ++j)
            H[j + k * d] = (gp[j] - gm[j]) / (2 * hk);
    }
    free(xp);
    free(gp);
    free(gm);
}

double tu_norm_inf(int64_t n, const double *v)
{
    double m = 0;
    for (int64_t i = 0; i < n; ++i)
        m = fmax(m, fabs(v[i]));
    return m;
}

double tu_diff_inf(int64_t n, const double *a, const double *b)
{
    double m = 0;
    for (int64_t i = 0; i < n; ++i)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}
