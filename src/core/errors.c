/*
 * errors.c -- one sentence for every error code (designated initializers,
 * so the table cannot drift out of order with the enum).
 */
#include "softmaxreg.h"

static const char *const messages[SMR_ERR_COUNT_] = {
    [SMR_OK] = "success",
    [SMR_ERR_NULL_POINTER] = "a required pointer argument is NULL",
    [SMR_ERR_BAD_SIZE] = "a size (n, d or a count) is zero or negative",
    [SMR_ERR_BAD_LAYOUT] = "the layout is neither SMR_ROW_MAJOR nor SMR_COL_MAJOR",
    [SMR_ERR_BAD_LD] = "a leading dimension is smaller than the row or column it must hold",
    [SMR_ERR_TOO_LARGE] = "a size exceeds what the 32-bit BLAS/LAPACK integer can address",
    [SMR_ERR_BAD_LAMBDA] = "the ridge weight lambda is negative, NaN or infinite",
    [SMR_ERR_NONFINITE_A] = "the matrix A contains a NaN or an infinity",
    [SMR_ERR_NONFINITE_B] = "the target b contains a NaN or an infinity",
    [SMR_ERR_NONFINITE_W] = "the row weights w contain a NaN or an infinity",
    [SMR_ERR_NONFINITE_X] = "the point x (or another input vector or matrix) contains a NaN or an infinity",
    [SMR_ERR_OVERFLOW] = "the inputs are finite but a result overflowed the double range",
    [SMR_ERR_NO_MEMORY] = "a memory allocation failed",
    [SMR_ERR_NOT_POSDEF] = "the matrix is not numerically positive definite (Cholesky failed)",
    [SMR_ERR_LAPACK] = "LAPACK reported an unexpected argument error",
    [SMR_ERR_BAD_OPTION] = "a solver option is out of its valid range",
    [SMR_ERR_BAD_ARGUMENT] = "an argument is out of its valid range",
    [SMR_ERR_IO] = "a file could not be opened, read or written",
    [SMR_ERR_FORMAT] = "a file's content is malformed or of an unsupported kind",
};

const char *smr_strerror(int code)
{
    if (code < 0 || code >= SMR_ERR_COUNT_ || !messages[code])
        return "unknown error code";
    return messages[code];
}
