/*
 * test_mmio.c -- Matrix Market I/O: exact write/read round trips, coordinate
 * input, and every malformed-input class refused with its code and a
 * message naming file and line, before any allocation for absurd sizes.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/smr_mmio_XXXXXX";

static const char *path_of(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static const char *put(const char *name, const char *content, size_t len)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(content, 1, len, f);
    fclose(f);
    return p;
}

static void test_round_trip(void **state)
{
    (void)state;
    tu_rng r;
    tu_seed(&r, 9);
    enum { R = 37, C = 5, LD = 40 };
    double a[LD * C];
    for (int k = 0; k < LD * C; ++k)
        a[k] = tu_normal(&r) * pow(10.0, (double)(k % 40) - 20.0);
    a[0] = DBL_MAX;
    a[1] = -DBL_MIN;
    a[2] = 4.9e-324; /* smallest subnormal */
    a[3] = -0.0;
    a[4] = 1.0 / 3.0;
    a[5] = 0.1;
    const char *p = path_of("rt.mtx");
    char msg[256];
    assert_int_equal(smr_mm_write(p, R, C, a, LD, "a comment\nover two lines", msg, sizeof msg), SMR_OK);
    smr_matrix m = {0};
    assert_int_equal(smr_mm_read(p, &m, msg, sizeof msg), SMR_OK);
    assert_int_equal(m.rows, R);
    assert_int_equal(m.cols, C);
    /* 64-byte aligned, as the header promises (results depend on A's
     * offset modulo 64: smr_simd in softmaxreg.h) */
    assert_int_equal((uintptr_t)m.data % 64, 0);
    for (int j = 0; j < C; ++j)
        assert_memory_equal(m.data + j * R, a + j * LD, R * sizeof(double)); /* bit exact */
    smr_matrix_free(&m);
    assert_null(m.data);
    /* overwriting an existing file leaves a complete file */
    assert_int_equal(smr_mm_write(p, 1, 1, a + 4, 0, NULL, msg, sizeof msg), SMR_OK);
    assert_int_equal(smr_mm_read(p, &m, msg, sizeof msg), SMR_OK);
    assert_true(m.rows == 1 && m.data[0] == 1.0 / 3.0);
    smr_matrix_free(&m);
    /* a non-finite entry is refused, nothing written */
    double bad[2] = {1, NAN};
    assert_int_equal(smr_mm_write(path_of("bad.mtx"), 2, 1, bad, 2, NULL, msg, sizeof msg),
                     SMR_ERR_NONFINITE_X);
    assert_int_equal(access(path_of("bad.mtx"), F_OK), -1);
    assert_int_equal(smr_mm_write("/nonexistent-dir/x.mtx", 2, 1, a, 2, NULL, msg, sizeof msg), SMR_ERR_IO);
    assert_non_null(strstr(msg, "/nonexistent-dir/x.mtx"));
}

static void test_coordinate_and_forms(void **state)
{
    (void)state;
    const char *c = "%%MatrixMarket matrix coordinate real general\n% comment\n\n3 2 4\n1 1 1.5\n3 2 -2\n"
                    "1 1 0.25\n2 1 7e-1\n";
    smr_matrix m;
    char msg[256];
    assert_int_equal(smr_mm_read(put("c.mtx", c, strlen(c)), &m, msg, sizeof msg), SMR_OK);
    double want[6] = {1.75, 0.7, 0, 0, 0, -2};
    assert_int_equal(m.rows, 3);
    assert_int_equal((uintptr_t)m.data % 64, 0);
    assert_memory_equal(m.data, want, sizeof want); /* the zeros included */
    smr_matrix_free(&m);
    /* integer field, CRLF line ends, several values per line */
    const char *a = "%%MatrixMarket matrix array integer general\r\n2 2\r\n1 2\r\n3\r\n4\r\n";
    assert_int_equal(smr_mm_read(put("a.mtx", a, strlen(a)), &m, msg, sizeof msg), SMR_OK);
    assert_true(m.data[0] == 1 && m.data[3] == 4);
    smr_matrix_free(&m);
    /* underflow to a subnormal or zero is accepted */
    const char *u = "%%MatrixMarket matrix array real general\n1 1\n1e-320\n";
    assert_int_equal(smr_mm_read(put("u.mtx", u, strlen(u)), &m, msg, sizeof msg), SMR_OK);
    assert_true(m.data[0] > 0 && m.data[0] < DBL_MIN);
    smr_matrix_free(&m);
}

typedef struct { const char *name, *content; int code; const char *in_msg; } bad_case;

static void test_malformed(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"empty", "", SMR_ERR_FORMAT, "empty file"},
        {"noheader", "1 1\n2\n", SMR_ERR_FORMAT, ":1: missing"},
        {"complex", "%%MatrixMarket matrix array complex general\n1 1\n1 0\n", SMR_ERR_FORMAT, "complex"},
        {"pattern", "%%MatrixMarket matrix coordinate pattern general\n1 1 1\n1 1\n", SMR_ERR_FORMAT, "pattern"},
        {"symmetric", "%%MatrixMarket matrix array real symmetric\n1 1\n1\n", SMR_ERR_FORMAT, "symmetric"},
        {"vectorobj", "%%MatrixMarket vector array real general\n1\n1\n", SMR_ERR_FORMAT, "object"},
        {"shortheader", "%%MatrixMarket matrix array\n1 1\n1\n", SMR_ERR_FORMAT, "incomplete header"},
        {"nosize", "%%MatrixMarket matrix array real general\n% only a comment\n", SMR_ERR_FORMAT, "no size line"},
        {"badsize", "%%MatrixMarket matrix array real general\n2 x\n", SMR_ERR_FORMAT, ":2: bad size line"},
        {"negsize", "%%MatrixMarket matrix array real general\n-2 1\n1\n2\n", SMR_ERR_FORMAT, "bad size line"},
        {"zerosize", "%%MatrixMarket matrix array real general\n0 3\n", SMR_ERR_FORMAT, "at least one row"},
        {"hugesize", "%%MatrixMarket matrix array real general\n3000000000 2\n1\n", SMR_ERR_TOO_LARGE, "32-bit"},
        {"memsize", "%%MatrixMarket matrix array real general\n2000000000 2000000000\n1\n", SMR_ERR_TOO_LARGE, "memory"},
        {"filesize", "%%MatrixMarket matrix array real general\n100000 1000\n1\n2\n", SMR_ERR_TOO_LARGE, "bytes follow"},
        /* found by the fuzzer: rows * cols overflowed before the range check */
        {"dimoverflow", "%%MatrixMarket matrix array real general\n2 4975542244881494471\n1\n", SMR_ERR_TOO_LARGE, "32-bit"},
        {"coorddimoverflow", "%%MatrixMarket matrix coordinate real general\n4975542244881494471 4 1\n1 1 1\n", SMR_ERR_TOO_LARGE, "32-bit"},
        {"overflowcount", "%%MatrixMarket matrix array real general\n99999999999999999999 1\n", SMR_ERR_FORMAT, "bad size line"},
        {"truncated", "%%MatrixMarket matrix array real general\n3 1\n1\n2\n", SMR_ERR_FORMAT, "truncated: 3 entries declared"},
        {"toomany", "%%MatrixMarket matrix array real general\n2 1\n1\n2\n3\n", SMR_ERR_FORMAT, ":5: more entries"},
        {"word", "%%MatrixMarket matrix array real general\n2 1\n1\nabc\n", SMR_ERR_FORMAT, ":4: entry 'abc' is not a number"},
        {"trailing", "%%MatrixMarket matrix array real general\n2 1\n1\n2x\n", SMR_ERR_FORMAT, "not a number"},
        {"nan", "%%MatrixMarket matrix array real general\n2 1\n1\nnan\n", SMR_ERR_FORMAT, "not finite"},
        {"inf", "%%MatrixMarket matrix array real general\n2 1\n-Infinity\n1\n", SMR_ERR_FORMAT, "not finite"},
        {"overflow", "%%MatrixMarket matrix array real general\n2 1\n1\n1e999\n", SMR_ERR_FORMAT, "overflows"},
        {"coordrange", "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n", SMR_ERR_FORMAT, "out of range"},
        {"coordzero", "%%MatrixMarket matrix coordinate real general\n2 2 1\n0 1 1.0\n", SMR_ERR_FORMAT, "out of range"},
        {"coordneg", "%%MatrixMarket matrix coordinate real general\n2 2 1\n-1 1 1.0\n", SMR_ERR_FORMAT, "positive integers"},
        {"coordfields", "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1\n", SMR_ERR_FORMAT, "found 2 fields"},
        {"coordless", "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 1\n", SMR_ERR_FORMAT, "truncated"},
        {"coordmore", "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1\n2 2 1\n", SMR_ERR_FORMAT, "more entries"},
        {"coordnnz", "%%MatrixMarket matrix coordinate real general\n2 2 5\n1 1 1\n", SMR_ERR_FORMAT, "5 entries declared for a 2 x 2"},
        {"coordsum", "%%MatrixMarket matrix coordinate real general\n2 1 2\n1 1 1e308\n1 1 1e308\n", SMR_ERR_FORMAT, "sum past"},
    };
    char msg[512];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
        const char *p = put(cases[k].name, cases[k].content, strlen(cases[k].content));
        smr_matrix m = {.rows = 77, .cols = 77, .data = NULL};
        msg[0] = '\0';
        int rc = smr_mm_read(p, &m, msg, sizeof msg);
        TU_CHECK(rc == cases[k].code, "%s: code %d (%s), want %d; msg: %s", cases[k].name, rc,
                 smr_strerror(rc), cases[k].code, msg);
        TU_CHECK(strstr(msg, cases[k].in_msg) != NULL, "%s: message '%s' lacks '%s'", cases[k].name,
                 msg, cases[k].in_msg);
        TU_CHECK(strstr(msg, p) == msg, "%s: message '%s' does not start with the path", cases[k].name, msg);
        assert_true(m.rows == 77 && m.data == NULL); /* untouched */
    }
    /* binary: NUL bytes */
    static const char bin[] = "%%MatrixMarket matrix array real general\n1 1\n\0\x01\x02\n";
    assert_int_equal(smr_mm_read(put("bin", bin, sizeof bin - 1), &(smr_matrix){0}, msg, sizeof msg),
                     SMR_ERR_FORMAT);
    assert_non_null(strstr(msg, "binary"));
    static const char bin2[] = "\x7f" "ELF\x02\x01\x01\0\0\0";
    assert_int_equal(smr_mm_read(put("elf", bin2, sizeof bin2 - 1), &(smr_matrix){0}, msg, sizeof msg),
                     SMR_ERR_FORMAT);
    /* a directory, a missing path, NULLs */
    assert_int_equal(smr_mm_read(dir, &(smr_matrix){0}, msg, sizeof msg), SMR_ERR_IO);
    assert_non_null(strstr(msg, "directory"));
    assert_int_equal(smr_mm_read(path_of("missing.mtx"), &(smr_matrix){0}, msg, sizeof msg), SMR_ERR_IO);
    assert_non_null(strstr(msg, "missing.mtx"));
    assert_int_equal(smr_mm_read(NULL, &(smr_matrix){0}, msg, sizeof msg), SMR_ERR_NULL_POINTER);
    assert_int_equal(smr_mm_read(dir, NULL, NULL, 0), SMR_ERR_NULL_POINTER);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_coordinate_and_forms),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
