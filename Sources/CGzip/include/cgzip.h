/*
 * CGzip — strict streaming gzip decoder and a 128-bit content hash, for ClickPipeline.
 *
 * Decoder backends: ISA-L `isal_inflate` (the default: about 2.5x faster than zlib, and a
 * required build dependency, libisal-dev) and zlib `inflate`, kept as an independent second
 * implementation that the tests and the fuzzer compare ISA-L against. Both behave the same way:
 *
 *  - the input is one or more gzip members back to back (as `cat a.gz b.gz` makes); their
 *    decompressed bytes form one stream;
 *  - each member's header is parsed by this library, not the backend: magic 1f 8b, method 8
 *    (deflate), reserved flag bits zero, optional FEXTRA/FNAME/FCOMMENT skipped, FHCRC checked;
 *  - each member's 8-byte trailer is checked: CRC-32 first (CG_ERR_CRC), then ISIZE
 *    (CG_ERR_LENGTH);
 *  - end of input inside a member (its header and trailer included) is CG_ERR_TRUNCATED;
 *  - after a complete member, the next bytes must be another member: anything that does not
 *    start with 1f 8b (zero padding included) is CG_ERR_TRAILING_GARBAGE. A lone 1f at the
 *    very end counts as the beginning of a member, so it is CG_ERR_TRUNCATED.
 *  - invalid deflate data is CG_ERR_DATA. Only here can the backends differ: on data that is
 *    both corrupt and cut short, ISA-L may notice the corruption (CG_ERR_DATA) before zlib,
 *    which then reports CG_ERR_TRUNCATED, and the detail text is the backend's own.
 *
 * Usage: cg_gunzip_new(); then repeatedly cg_gunzip_read(). Whenever it returns
 * CG_NEED_INPUT, give the next raw bytes with cg_gunzip_input(); the bytes must stay valid
 * and unchanged until the next CG_NEED_INPUT. At the end of the file give a zero-length
 * input with eof = 1. Errors are sticky.
 */
#ifndef CGZIP_H
#define CGZIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes of cg_gunzip_read. Non-negative: progress; negative: error (sticky). */
enum {
  CG_OK = 0,                    /* the output buffer is full; call again */
  CG_NEED_INPUT = 1,            /* every input byte was consumed; call cg_gunzip_input */
  CG_END = 2,                   /* the whole stream was decoded and checked */
  CG_ERR_TRUNCATED = -1,        /* end of input inside a member (header included) */
  CG_ERR_TRAILING_GARBAGE = -2, /* bytes after a complete member that do not start a member */
  CG_ERR_HEADER = -3,           /* bad gzip member header (method, flags, header CRC) */
  CG_ERR_DATA = -4,             /* invalid deflate data */
  CG_ERR_CRC = -5,              /* CRC-32 of a member's data does not match its trailer */
  CG_ERR_LENGTH = -6,           /* ISIZE of a member does not match its trailer */
  CG_ERR_MEMORY = -7,           /* out of memory */
  CG_ERR_USAGE = -8             /* API misuse (input given while some is still unconsumed) */
};

typedef struct cg_gunzip cg_gunzip;

enum {
  CG_BACKEND_DEFAULT = 0, /* ISA-L */
  CG_BACKEND_ZLIB = 1,
  CG_BACKEND_ISAL = 2
};

/* A new decoder, or NULL when out of memory. Its address never changes. */
cg_gunzip *cg_gunzip_new(void);
/* The same with a chosen backend (tests compare them); NULL if it is not compiled in. */
cg_gunzip *cg_gunzip_new_backend(int backend);
int cg_backend_available(int backend);
void cg_gunzip_free(cg_gunzip *g);

/* Supplies the next raw bytes (they follow the previous ones in the file). `eof` = 1 says
 * no more bytes will ever come after these. */
void cg_gunzip_input(cg_gunzip *g, const uint8_t *in, size_t len, int eof);

/* Decodes into out[0..<cap]. *produced receives the number of bytes written, which may be
 * non-zero with CG_NEED_INPUT or CG_END too. On a negative status, discard the output. */
int cg_gunzip_read(cg_gunzip *g, uint8_t *out, size_t cap, size_t *produced);

/* Details, for error messages. */
uint64_t cg_gunzip_consumed(const cg_gunzip *g);    /* raw bytes consumed so far */
uint64_t cg_gunzip_member(const cg_gunzip *g);      /* 1-based member being decoded, or the
                                                       last one completed */
uint64_t cg_gunzip_error_offset(const cg_gunzip *g);/* file offset the error refers to: the
                                                       first garbage byte, or the byte count
                                                       consumed when the error was found */
int cg_gunzip_error_in_header(const cg_gunzip *g);  /* 1 if the error is inside a header */
const char *cg_gunzip_error_detail(const cg_gunzip *g); /* backend's words, or "" */

/* "isa-l" or "zlib": of the default backend, and of a decoder. */
const char *cg_backend_name(void);
/* The default backend's version, "2.30.0" (from the ISA-L headers built against). */
const char *cg_backend_version(void);
const char *cg_gunzip_backend_name(const cg_gunzip *g);

/* 128-bit content hash: CRC-64/XZ (ECMA-182, reflected) and CRC-64/GO-ISO (reflected) of
 * the same bytes, side by side. Start from {0, 0}; chainable over consecutive chunks.
 * Uses ISA-L's carry-less-multiply CRCs; the slicing-by-8 tables of the portable version
 * give identical values. */
typedef struct cg_hash128 {
  uint64_t a; /* CRC-64/XZ */
  uint64_t b; /* CRC-64/GO-ISO */
} cg_hash128;

void cg_hash128_update(cg_hash128 *h, const void *data, size_t len);
/* Always the table implementation (for tests against the accelerated one). */
void cg_hash128_update_portable(cg_hash128 *h, const void *data, size_t len);

/* CRC-32 (the gzip/zlib polynomial, reflected), chainable from 0: ISA-L's folding CRC.
 * Checks the parts of a staged segment that are stored outside a zstd frame. */
uint32_t cg_crc32(uint32_t crc, const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* CGZIP_H */
