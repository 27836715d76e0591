/*
 * fuzz_mm_read.c -- libFuzzer target for the Matrix Market reader.
 *
 * Feeds each input to smr_mm_read_stream through fmemopen (no temporary
 * files).  Built with clang -fsanitize=fuzzer,address,undefined when
 * SOFTMAXREG_BUILD_FUZZ=ON; CI runs it for a bounded time on a copy of
 * fuzz/corpus.  Any crash, sanitizer report, leak or hang fails the run.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "softmaxreg.h"
#include "io/mmio.h"

/* the same reader as smr_mm_read_stream, with a cap the fuzzer's memory
 * limit allows (the machine's RAM is the cap there) */
#define FUZZ_MAX_BYTES ((int64_t)256 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    smr_matrix m = {0};
    char msg[256];
    if (smr_mm_read_stream_capped(f, "fuzz", FUZZ_MAX_BYTES, &m, msg, sizeof msg) == SMR_OK) {
        /* the result must be usable: every entry finite */
        for (int64_t k = 0; k < m.rows * m.cols; ++k)
            if (!(m.data[k] - m.data[k] == 0.0))
                __builtin_trap();
        smr_matrix_free(&m);
    }
    fclose(f);
    return 0;
}
