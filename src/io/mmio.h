/* mmio.h -- internal entry of the Matrix Market reader (io layer). */
#ifndef SMR_MMIO_H
#define SMR_MMIO_H

#include "softmaxreg.h"

/* smr_mm_read_stream with an explicit cap on the bytes a matrix may take
 * (the public functions pass this machine's physical memory; the fuzz
 * target a small cap, to exercise the same path without exhausting RAM). */
int smr_mm_read_stream_capped(FILE *f, const char *name, int64_t max_bytes,
                              smr_matrix *m, char *msg, size_t msglen);

#endif
