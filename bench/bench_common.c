#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"
#include "kernels/kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SMR_BENCH_CFLAGS
#define SMR_BENCH_CFLAGS "unknown"
#endif
#include "smr_bench_commit.h" /* SMR_BENCH_COMMIT, written at build time */

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void bench_blas_idle(void)
{
    /* OpenBLAS's workers spin ~2^28 cycles (~64 ms here) after a threaded
     * call; wait them out so the next measurement has the cores */
    struct timespec t = {0, 200000000L};
    nanosleep(&t, NULL);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t state = 1;
void bench_seed(uint64_t s) { state = s; }

static double uniform(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return ((double)((z ^ (z >> 31)) >> 11) + 0.5) * 0x1.0p-53;
}

double bench_normal(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

const char *bench_machine(void)
{
    static char line[1024];
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char buf[512];
        while (fgets(buf, sizeof buf, f))
            if (!strncmp(buf, "model name", 10)) {
                char *c = strchr(buf, ':');
                if (c) {
                    snprintf(cpu, sizeof cpu, "%s", c + 2);
                    cpu[strcspn(cpu, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    for (char *c = cpu; *c; ++c)
        if (*c == ',' || *c == ';')
            *c = ' ';
    snprintf(line, sizeof line, "cpu=%s;cores=%ld;blas_threads=%d;simd=%s;cflags=%s;version=%s;commit=%s",
             cpu, sysconf(_SC_NPROCESSORS_ONLN), openblas_get_num_threads(), smr_simd(),
             SMR_BENCH_CFLAGS, smr_version(), SMR_BENCH_COMMIT);
    return line;
}

void bench_problem(int64_t n, int64_t d, double *A, double *b, double *xs)
{
    for (int64_t k = 0; k < n * d; ++k)
        A[k] = bench_normal() / sqrt((double)d);
    for (int64_t j = 0; j < d; ++j)
        xs[j] = bench_normal();
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        b[i] = cblas_ddot((int)d, A + i * d, 1, xs, 1);
        mx = b[i] > mx ? b[i] : mx;
    }
    for (int64_t i = 0; i < n; ++i)
        sum += (b[i] = exp(b[i] - mx));
    for (int64_t i = 0; i < n; ++i)
        b[i] /= sum;
}

/* rows of the sum: thread t of T takes a contiguous, 8-aligned share */
typedef double v8d __attribute__((vector_size(64)));
typedef struct { const double *a; int64_t len; double s[SMR_MAX_THREADS]; } sum_ctx;
static void sum_part(void *v, int t, int T)
{
    sum_ctx *c = v;
    int64_t i0 = c->len / 8 * t / T * 8, i1 = t == T - 1 ? c->len : c->len / 8 * (t + 1) / T * 8;
    v8d acc[4] = {{0}};
    int64_t i = i0;
    for (; i + 32 <= i1; i += 32)
        for (int q = 0; q < 4; ++q) {
            v8d x;
            memcpy(&x, c->a + i + 8 * q, sizeof x);
            acc[q] += x;
        }
    double s = 0;
    for (; i < i1; ++i)
        s += c->a[i];
    for (int q = 0; q < 4; ++q)
        for (int l = 0; l < 8; ++l)
            s += acc[q][l];
    c->s[t] = s;
}

/* bench_nvec_floor: thread t takes rows [n t / T, n (t + 1) / T), in
 * groups of 8 rows: their 8 d doubles summed, then b and u of the 8 */
typedef struct {
    const double *a, *b;
    double *u;
    int64_t n, d;
    double s[SMR_MAX_THREADS];
} floor_ctx;
static void floor_read(void *v, int t, int T)
{
    floor_ctx *c = v;
    int64_t r0 = c->n * t / T, r1 = c->n * (t + 1) / T, d = c->d;
    v8d acc[4] = {{0}};
    double s = 0;
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) {
        const double *a = c->a + r * d;
        int64_t i = 0, len = 8 * d;
        for (; i + 32 <= len; i += 32)
            for (int q = 0; q < 4; ++q) {
                v8d x;
                memcpy(&x, a + i + 8 * q, sizeof x);
                acc[q] += x;
            }
        for (; i < len; ++i)
            s += a[i];
        v8d bv;
        memcpy(&bv, c->b + r, sizeof bv);
        bv = bv * 0.5 + acc[0];
        memcpy(c->u + r, &bv, sizeof bv);
    }
    for (; r < r1; ++r) {
        for (int64_t j = 0; j < d; ++j)
            s += c->a[r * d + j];
        c->u[r] = 0.5 * c->b[r];
    }
    for (int q = 0; q < 4; ++q)
        for (int l = 0; l < 8; ++l)
            s += acc[q][l];
    c->s[t] = s;
}
static void floor_finish(void *v, int t, int T)
{
    floor_ctx *c = v;
    int64_t r0 = c->n * t / T, r1 = c->n * (t + 1) / T, r = r0;
    v8d acc = {0};
    for (; r + 8 <= r1; r += 8) {
        v8d uv, bv;
        memcpy(&uv, c->u + r, sizeof uv);
        memcpy(&bv, c->b + r, sizeof bv);
        uv *= 0.999;
        memcpy(c->u + r, &uv, sizeof uv);
        acc += (uv - bv) * (uv - bv);
    }
    double s = 0;
    for (; r < r1; ++r) {
        c->u[r] *= 0.999;
        s += (c->u[r] - c->b[r]) * (c->u[r] - c->b[r]);
    }
    for (int l = 0; l < 8; ++l)
        s += acc[l];
    c->s[t] += s;
}

double bench_nvec_floor(const double *a, int64_t n, int64_t d, const double *b, double *u)
{
    floor_ctx c = {.a = a, .b = b, .u = u, .n = n, .d = d};
    int T = smr_k_threads();
    smr_k_parallel(T, floor_read, &c);
    smr_k_parallel(T, floor_finish, &c);
    double s = 0;
    for (int t = 0; t < T; ++t)
        s += c.s[t];
    return s;
}

double bench_stream_sum(const double *a, int64_t len)
{
    sum_ctx c = {.a = a, .len = len};
    int T = smr_k_threads();
    smr_k_parallel(T, sum_part, &c);
    double s = 0;
    for (int t = 0; t < T; ++t)
        s += c.s[t];
    return s;
}
