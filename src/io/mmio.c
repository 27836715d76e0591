/*
 * mmio.c -- Matrix Market reading and writing (dense).
 *
 * Format (NIST, "The Matrix Market Exchange Formats: Initial Design"):
 *   %%MatrixMarket matrix <array|coordinate> <real|integer> general
 *   % comment lines
 *   rows cols            (array)      or   rows cols nnz   (coordinate)
 *   values, column by column (array)  or   i j value, 1-based (coordinate)
 *
 * Hand-written rather than NIST's mmio.c: that file is not packaged by
 * Debian as a library, uses int sizes and fscanf without line tracking, and
 * we need exact size checks before allocation and a file:line in every
 * message.  The reader is fuzzed (fuzz/, CI runs it).
 */
#define _POSIX_C_SOURCE 200809L
#include "mmio.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MM_MAX_LINE (1 << 20)

typedef struct {
    FILE *f;
    const char *name;
    char *line;
    size_t cap;
    int64_t lineno;
    char *msg;
    size_t msglen;
    int64_t bytes_left; /* -1: unknown */
    int64_t max_bytes;  /* cap on one matrix */
} reader;

static int fail(reader *r, int code, const char *fmt, ...)
{
    if (r->msg && r->msglen) {
        int k = r->lineno > 0
                    ? snprintf(r->msg, r->msglen, "%s:%lld: ", r->name, (long long)r->lineno)
                    : snprintf(r->msg, r->msglen, "%s: ", r->name);
        if (k >= 0 && (size_t)k < r->msglen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->msg + k, r->msglen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* next line into r->line (newline stripped); 0 at EOF, <0 error code */
static int next_line(reader *r)
{
    errno = 0;
    ssize_t len = getline(&r->line, &r->cap, r->f);
    if (len < 0) {
        if (ferror(r->f))
            return -fail(r, SMR_ERR_IO, "read error: %s", strerror(errno ? errno : EIO));
        return 0;
    }
    r->lineno++;
    if (len > MM_MAX_LINE)
        return -fail(r, SMR_ERR_FORMAT, "line longer than %d bytes", MM_MAX_LINE);
    for (ssize_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)r->line[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return -fail(r, SMR_ERR_FORMAT,
                         "binary data (control byte 0x%02x); not a Matrix Market text file", c);
    }
    while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
        r->line[--len] = '\0';
    return 1;
}

/* next line that is neither a comment nor blank */
static int next_data_line(reader *r)
{
    for (;;) {
        int rc = next_line(r);
        if (rc <= 0)
            return rc;
        const char *p = r->line;
        while (isspace((unsigned char)*p))
            ++p;
        if (*p && *p != '%')
            return 1;
    }
}

static bool word_is(const char *w, const char *want)
{
    return strcasecmp(w, want) == 0;
}

static int parse_header(reader *r, bool *coordinate)
{
    int rc = next_line(r);
    if (rc < 0)
        return -rc;
    if (rc == 0)
        return fail(r, SMR_ERR_FORMAT, "empty file; not a Matrix Market file");
    char banner[64] = "", object[64] = "", format[64] = "", field[64] = "", sym[64] = "";
    int k = sscanf(r->line, "%63s %63s %63s %63s %63s", banner, object, format, field, sym);
    if (k < 1 || strcmp(banner, "%%MatrixMarket") != 0)
        return fail(r, SMR_ERR_FORMAT, "missing the '%%%%MatrixMarket' header; not a Matrix Market file");
    if (k < 5)
        return fail(r, SMR_ERR_FORMAT, "incomplete header: want '%%%%MatrixMarket matrix <array|coordinate> real general'");
    if (!word_is(object, "matrix"))
        return fail(r, SMR_ERR_FORMAT, "object '%s' is not supported (only 'matrix')", object);
    if (word_is(format, "coordinate"))
        *coordinate = true;
    else if (word_is(format, "array"))
        *coordinate = false;
    else
        return fail(r, SMR_ERR_FORMAT, "format '%s' is not supported (only 'array' or 'coordinate')", format);
    if (!word_is(field, "real") && !word_is(field, "integer") && !word_is(field, "double"))
        return fail(r, SMR_ERR_FORMAT, "field '%s' is not supported (only 'real' or 'integer')", field);
    if (!word_is(sym, "general"))
        return fail(r, SMR_ERR_FORMAT, "symmetry '%s' is not supported (only 'general')", sym);
    return SMR_OK;
}

/* a size token: a positive decimal integer that fits int64 */
static bool parse_count(const char *tok, int64_t *v)
{
    if (!isdigit((unsigned char)tok[0]))
        return false;
    errno = 0;
    char *end;
    long long x = strtoll(tok, &end, 10);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

/* a value token: a finite double */
static int parse_value(reader *r, const char *tok, double *v)
{
    errno = 0;
    char *end;
    double x = strtod(tok, &end);
    if (end == tok || *end)
        return fail(r, SMR_ERR_FORMAT, "entry '%.40s' is not a number", tok);
    if (isnan(x) || (isinf(x) && errno != ERANGE))
        return fail(r, SMR_ERR_FORMAT, "entry '%.40s' is not finite (NaN or Inf)", tok);
    if (errno == ERANGE && fabs(x) > 1.0)
        return fail(r, SMR_ERR_FORMAT, "entry '%.40s' overflows a double", tok);
    *v = x; /* underflow to a subnormal or zero is accepted */
    return SMR_OK;
}

static int64_t machine_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return INT64_MAX;
    return (int64_t)pages * (int64_t)size;
}

/* rows x cols (each already <= INT32_MAX) against memory, and the number
 * of entries against the file's length */
static int check_size(reader *r, int64_t rows, int64_t cols, int64_t entries,
                      int64_t min_bytes_per_entry)
{
    int64_t bytes = rows * cols; /* < 2^62: both checked <= INT32_MAX */
    if (bytes > INT64_MAX / 8 || bytes * 8 > r->max_bytes)
        return fail(r, SMR_ERR_TOO_LARGE,
                    "size %lld x %lld needs %.3g GB, more than the %.3g GB allowed (this machine's memory)",
                    (long long)rows, (long long)cols, 8.0 * (double)bytes / 1e9,
                    (double)r->max_bytes / 1e9);
    if (r->bytes_left >= 0 && entries > r->bytes_left / min_bytes_per_entry)
        return fail(r, SMR_ERR_TOO_LARGE,
                    "declares %lld entries but only %lld bytes follow: truncated file or wrong size line",
                    (long long)entries, (long long)r->bytes_left);
    return SMR_OK;
}

static int read_array(reader *r, int64_t rows, int64_t cols, double *a)
{
    int64_t total = rows * cols, got = 0;
    int rc;
    while ((rc = next_data_line(r)) > 0) {
        char *save = NULL;
        for (char *tok = strtok_r(r->line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
            if (got == total)
                return fail(r, SMR_ERR_FORMAT, "more entries than the %lld declared (%lld x %lld)",
                            (long long)total, (long long)rows, (long long)cols);
            int e = parse_value(r, tok, &a[got]);
            if (e != SMR_OK)
                return e;
            ++got;
        }
    }
    if (rc < 0)
        return -rc;
    if (got < total)
        return fail(r, SMR_ERR_FORMAT, "truncated: %lld entries declared (%lld x %lld), %lld found",
                    (long long)total, (long long)rows, (long long)cols, (long long)got);
    return SMR_OK;
}

static int read_coordinate(reader *r, int64_t rows, int64_t cols, int64_t nnz, double *a)
{
    int64_t got = 0;
    int rc;
    while ((rc = next_data_line(r)) > 0) {
        char *save = NULL, *tok[4];
        int k = 0;
        for (char *t = strtok_r(r->line, " \t", &save); t && k < 4; t = strtok_r(NULL, " \t", &save))
            tok[k++] = t;
        if (k != 3)
            return fail(r, SMR_ERR_FORMAT, "want 'row column value', found %s%d fields",
                        k == 4 ? "more than " : "", k == 4 ? 3 : k);
        if (got == nnz)
            return fail(r, SMR_ERR_FORMAT, "more entries than the %lld declared", (long long)nnz);
        int64_t i, j;
        if (!parse_count(tok[0], &i) || !parse_count(tok[1], &j))
            return fail(r, SMR_ERR_FORMAT, "index '%.20s %.20s' is not a pair of positive integers",
                        tok[0], tok[1]);
        if (i < 1 || i > rows || j < 1 || j > cols)
            return fail(r, SMR_ERR_FORMAT, "index (%lld, %lld) out of range for %lld x %lld",
                        (long long)i, (long long)j, (long long)rows, (long long)cols);
        double v = 0.0;
        int e = parse_value(r, tok[2], &v);
        if (e != SMR_OK)
            return e;
        double *slot = &a[(i - 1) + (j - 1) * rows];
        *slot += v;
        if (!isfinite(*slot))
            return fail(r, SMR_ERR_FORMAT, "duplicate entries at (%lld, %lld) sum past the double range",
                        (long long)i, (long long)j);
        ++got;
    }
    if (rc < 0)
        return -rc;
    if (got < nnz)
        return fail(r, SMR_ERR_FORMAT, "truncated: %lld entries declared, %lld found",
                    (long long)nnz, (long long)got);
    return SMR_OK;
}

static int read_all(reader *r, smr_matrix *out)
{
    bool coord = false;
    int rc = parse_header(r, &coord);
    if (rc != SMR_OK)
        return rc;
    if ((rc = next_data_line(r)) <= 0)
        return rc < 0 ? -rc : fail(r, SMR_ERR_FORMAT, "no size line after the header");
    char *save = NULL, *tok[4];
    int k = 0;
    for (char *t = strtok_r(r->line, " \t", &save); t && k < 4; t = strtok_r(NULL, " \t", &save))
        tok[k++] = t;
    int want = coord ? 3 : 2;
    int64_t rows, cols, nnz = 0;
    if (k != want || !parse_count(tok[0], &rows) || !parse_count(tok[1], &cols) ||
        (coord && !parse_count(tok[2], &nnz)))
        return fail(r, SMR_ERR_FORMAT, "bad size line: want '%s' as non-negative integers",
                    coord ? "rows columns entries" : "rows columns");
    if (rows == 0 || cols == 0)
        return fail(r, SMR_ERR_FORMAT, "size %lld x %lld: a matrix needs at least one row and one column",
                    (long long)rows, (long long)cols);
    /* dimensions first: no product is formed before both fit 32 bits */
    if (rows > INT32_MAX || cols > INT32_MAX)
        return fail(r, SMR_ERR_TOO_LARGE,
                    "size %lld x %lld exceeds the 32-bit BLAS limit of %d per dimension",
                    (long long)rows, (long long)cols, INT32_MAX);
    if (coord && nnz > rows * cols)
        return fail(r, SMR_ERR_FORMAT, "%lld entries declared for a %lld x %lld matrix",
                    (long long)nnz, (long long)rows, (long long)cols);
    /* each array entry needs >= 2 bytes ("0\n"), each coordinate one >= 6 */
    if ((rc = check_size(r, rows, cols, coord ? nnz : rows * cols, coord ? 6 : 2)) != SMR_OK)
        return rc;
    /* 64-byte aligned (a cache line): the one-pass kernels then need no
     * partial head before their aligned chunks (fused_cols.c).  The bits do
     * not depend on it (smr_simd in the header) */
    void *mem = NULL;
    size_t bytes = (size_t)(rows * cols) * sizeof(double);
    double *a = posix_memalign(&mem, 64, bytes) == 0 ? mem : NULL;
    if (a && coord)
        memset(a, 0, bytes);
    if (!a)
        return fail(r, SMR_ERR_NO_MEMORY, "out of memory for %lld x %lld", (long long)rows, (long long)cols);
    rc = coord ? read_coordinate(r, rows, cols, nnz, a) : read_array(r, rows, cols, a);
    if (rc != SMR_OK) {
        free(a);
        return rc;
    }
    *out = (smr_matrix){.rows = rows, .cols = cols, .data = a};
    return SMR_OK;
}

int smr_mm_read_stream(FILE *f, const char *name, smr_matrix *m, char *msg, size_t msglen)
{
    return smr_mm_read_stream_capped(f, name, machine_bytes(), m, msg, msglen);
}

int smr_mm_read_stream_capped(FILE *f, const char *name, int64_t max_bytes,
                              smr_matrix *m, char *msg, size_t msglen)
{
    reader r = {.f = f, .name = name ? name : "(stream)", .msg = msg, .msglen = msglen,
                .bytes_left = -1, .max_bytes = max_bytes};
    if (!f || !m)
        return fail(&r, SMR_ERR_NULL_POINTER, "no stream or no output matrix");
    int fd = fileno(f);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        long pos = ftell(f);
        r.bytes_left = (int64_t)st.st_size - (pos > 0 ? pos : 0);
    }
    int rc = read_all(&r, m);
    free(r.line);
    return rc;
}

int smr_mm_read(const char *path, smr_matrix *m, char *msg, size_t msglen)
{
    reader r = {.name = path ? path : "(null)", .msg = msg, .msglen = msglen};
    if (!path || !m)
        return fail(&r, SMR_ERR_NULL_POINTER, "no path or no output matrix");
    struct stat st;
    if (stat(path, &st) != 0)
        return fail(&r, SMR_ERR_IO, "cannot open: %s", strerror(errno));
    if (S_ISDIR(st.st_mode))
        return fail(&r, SMR_ERR_IO, "is a directory, not a file");
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(&r, SMR_ERR_IO, "cannot open: %s", strerror(errno));
    int rc = smr_mm_read_stream(f, path, m, msg, msglen);
    fclose(f);
    return rc;
}

void smr_matrix_free(smr_matrix *m)
{
    if (!m)
        return;
    free(m->data);
    *m = (smr_matrix){0};
}

int smr_mm_write(const char *path, int64_t rows, int64_t cols, const double *data,
                 int64_t ld, const char *comment, char *msg, size_t msglen)
{
    reader r = {.name = path ? path : "(null)", .msg = msg, .msglen = msglen};
    if (!path || !data)
        return fail(&r, SMR_ERR_NULL_POINTER, "no path or no data");
    if (rows <= 0 || cols <= 0)
        return fail(&r, SMR_ERR_BAD_SIZE, "size %lld x %lld", (long long)rows, (long long)cols);
    if (ld == 0)
        ld = rows;
    if (ld < rows)
        return fail(&r, SMR_ERR_BAD_LD, "leading dimension %lld < rows %lld", (long long)ld, (long long)rows);
    for (int64_t j = 0; j < cols; ++j)
        for (int64_t i = 0; i < rows; ++i)
            if (!isfinite(data[i + j * ld]))
                return fail(&r, SMR_ERR_NONFINITE_X, "entry (%lld, %lld) is not finite",
                            (long long)i + 1, (long long)j + 1);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return fail(&r, SMR_ERR_NO_MEMORY, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fail(&r, SMR_ERR_IO, "cannot create a file beside it: %s", strerror(e));
    }
    FILE *f = fdopen(fd, "w");
    bool ok = f != NULL;
    if (ok) {
        ok = fprintf(f, "%%%%MatrixMarket matrix array real general\n") > 0;
        if (ok && comment)
            for (const char *c = comment; ok && *c;) { /* one % line per line */
                size_t len = strcspn(c, "\n");
                ok = fprintf(f, "%% %.*s\n", (int)len, c) > 0;
                c += len + (c[len] == '\n');
            }
        ok = ok && fprintf(f, "%lld %lld\n", (long long)rows, (long long)cols) > 0;
        for (int64_t j = 0; ok && j < cols; ++j)
            for (int64_t i = 0; ok && i < rows; ++i)
                ok = fprintf(f, "%.17g\n", data[i + j * ld]) > 0;
        ok = (fflush(f) == 0) && ok;
        ok = (fsync(fileno(f)) == 0 || errno == EINVAL) && ok;
        ok = (fclose(f) == 0) && ok;
    } else {
        close(fd);
    }
    int e = errno;
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? SMR_OK : fail(&r, SMR_ERR_IO, "cannot write: %s", strerror(e ? e : EIO));
}
