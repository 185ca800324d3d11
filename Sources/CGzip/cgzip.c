/*
 * CGzip — see include/cgzip.h for the contract.
 *
 * A small state machine around the deflate backend, so that everything except the deflate
 * data itself is judged by the same code whichever backend runs:
 *   PH_HEADER   parse the next member's header here, all of it (magic, method, reserved
 *               flags, FEXTRA, FNAME, FCOMMENT, FHCRC);
 *   PH_BODY     give the deflate data to the backend, which decodes it and computes CRC-32;
 *   PH_TRAILER  (zlib) collect the 8-byte trailer and compare CRC-32, then ISIZE.
 * Backends:
 *   - ISA-L: isal_inflate with crc_flag ISAL_GZIP_NO_HDR_VER — raw deflate, then ISA-L reads
 *     the 8-byte trailer itself and verifies it; it stops right after the trailer. (Its own
 *     header parser, ISAL_GZIP, loses FHCRC and flag state when a header with optional fields
 *     is split across calls, so it is not used.)
 *   - zlib: raw inflate (windowBits -15) plus crc32() of the output; it stops exactly at the
 *     end of the deflate data. zlib's gzip mode (windowBits 16 + 15) is not used because it
 *     reports a CRC mismatch as soon as the 4 CRC bytes arrive, where ISA-L needs all 8 bytes
 *     first (a member cut inside its ISIZE would be "corrupt" on one backend and "truncated"
 *     on the other).
 * Both: CRC-32 is compared first, then ISIZE; fewer than 8 trailer bytes before the end of
 * the input is truncation. The next member starts at the first byte after a trailer.
 */
#include "cgzip.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if !__has_include(<isa-l/igzip_lib.h>)
#error "ClickPipeline needs ISA-L's headers: apt-get install libisal-dev (see README.md)"
#endif
#include <isa-l.h>
#include <isa-l/crc64.h>
#include <isa-l/igzip_lib.h>

enum { PH_HEADER, PH_BODY, PH_TRAILER, PH_DONE, PH_ERROR };

/* Header sub-states (RFC 1952 §2.3). */
enum { HS_FIXED, HS_XLEN, HS_EXTRA, HS_NAME, HS_COMMENT, HS_HCRC, HS_DONE };
#define FL_HCRC 0x02
#define FL_EXTRA 0x04
#define FL_NAME 0x08
#define FL_COMMENT 0x10

/* Results of one backend step (errors are negative CG_ERR_*). */
enum { STEP_GOING = 0, STEP_MEMBER_END = 1 };

/* Both backends take 32-bit lengths; stay well below. */
#define CG_MAX_CHUNK ((size_t)1 << 30)

struct cg_gunzip {
  int backend; /* CG_BACKEND_ZLIB or CG_BACKEND_ISAL */
  int phase;

  const uint8_t *in; /* unconsumed caller bytes */
  size_t in_len;
  int eof;

  uint64_t consumed; /* caller bytes consumed (= file offset of *in) */
  uint64_t member;   /* members started */

  int hs;              /* header sub-state */
  uint8_t hdr[10];     /* fixed header of the current member */
  unsigned hdr_len;    /* bytes of the current fixed-size field collected */
  uint8_t field[8];    /* XLEN, HCRC or the trailer being collected */
  uint32_t extra_left; /* FEXTRA bytes still to skip */
  uint32_t hcrc;       /* CRC-32 of the header bytes so far (when FHCRC is set) */

  uint8_t last8[8]; /* the last 8 caller bytes consumed, oldest first (ISA-L errors) */

  uint32_t crc;   /* zlib: CRC-32 of the member's output so far */
  uint32_t isize; /* zlib: member's output length mod 2^32 */

  int error;
  uint64_t error_offset;
  uint64_t error_member;
  int error_in_header;
  const char *detail;

  z_stream zs;
  int zs_ready;
  struct inflate_state *isal;
};

/* ---------------------------------------------------------------- small helpers */

int cg_backend_available(int backend) {
  switch (backend) {
  case CG_BACKEND_DEFAULT:
  case CG_BACKEND_ZLIB:
    return 1;
  case CG_BACKEND_ISAL:
    return 1;
  default:
    return 0;
  }
}

const char *cg_backend_name(void) {
  return "isa-l";
}

#define CG_STR2(x) #x
#define CG_STR(x) CG_STR2(x)
const char *cg_backend_version(void) {
  return CG_STR(ISAL_MAJOR_VERSION) "." CG_STR(ISAL_MINOR_VERSION) "." CG_STR(ISAL_PATCH_VERSION);
}

const char *cg_gunzip_backend_name(const cg_gunzip *g) {
  return g->backend == CG_BACKEND_ISAL ? "isa-l" : "zlib";
}

static int fail(cg_gunzip *g, int code, uint64_t offset, uint64_t member, int in_header,
                const char *detail) {
  g->phase = PH_ERROR;
  g->error = code;
  g->error_offset = offset;
  g->error_member = member;
  g->error_in_header = in_header;
  g->detail = detail ? detail : "";
  return code;
}

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void consume(cg_gunzip *g, size_t n) {
  g->in += n;
  g->in_len -= n;
  g->consumed += n;
}

static void remember_consumed(cg_gunzip *g, const uint8_t *p, size_t n) {
  if (n >= 8) {
    memcpy(g->last8, p + n - 8, 8);
  } else if (n > 0) {
    memmove(g->last8, g->last8 + n, 8 - n);
    memcpy(g->last8 + 8 - n, p, n);
  }
}

/* ---------------------------------------------------------------- backends */

static int backend_reset(cg_gunzip *g) {
  if (g->backend == CG_BACKEND_ISAL) {
    isal_inflate_reset(g->isal); /* keeps crc_flag = ISAL_GZIP_NO_HDR_VER */
    return 0;
  }
  if (!g->zs_ready) {
    memset(&g->zs, 0, sizeof g->zs);
    if (inflateInit2(&g->zs, -15) != Z_OK) return CG_ERR_MEMORY;
    g->zs_ready = 1;
  } else if (inflateReset(&g->zs) != Z_OK) {
    return CG_ERR_MEMORY;
  }
  g->crc = (uint32_t)crc32(0L, Z_NULL, 0);
  g->isize = 0;
  return 0;
}

static int isal_step(cg_gunzip *g, const uint8_t *src, size_t avail, uint8_t *out,
                     size_t out_avail, size_t *used, size_t *wrote, const char **detail) {
  struct inflate_state *s = g->isal;
  s->next_in = (uint8_t *)src;
  s->avail_in = (uint32_t)avail;
  s->next_out = out;
  s->avail_out = (uint32_t)out_avail;
  int r = isal_inflate(s);
  /* After an error ISA-L can leave avail_in larger than what it was given (0xFFFFFFFF seen, found
   * by Fuzz/ FuzzGzip with 13-byte reads): never count more than was given, nor less than nothing. */
  *used = s->avail_in <= avail ? avail - s->avail_in : avail;
  *wrote = out_avail - s->avail_out;
  remember_consumed(g, src, *used);
  switch (r) {
  case ISAL_DECOMP_OK:
    return s->block_state == ISAL_BLOCK_FINISH ? STEP_MEMBER_END : STEP_GOING;
  case ISAL_INCORRECT_CHECKSUM:
    /* ISA-L stops right after the trailer, so it is the last 8 bytes consumed. */
    if (load_le32(g->last8) == s->crc && load_le32(g->last8 + 4) != s->total_out) {
      *detail = "incorrect length check";
      return CG_ERR_LENGTH;
    }
    *detail = "incorrect data check";
    return CG_ERR_CRC;
  case ISAL_INVALID_BLOCK:
    *detail = "invalid deflate block";
    return CG_ERR_DATA;
  case ISAL_INVALID_SYMBOL:
    *detail = "invalid deflate symbol";
    return CG_ERR_DATA;
  case ISAL_INVALID_LOOKBACK:
    *detail = "invalid distance too far back";
    return CG_ERR_DATA;
  default:
    *detail = "isal_inflate failed";
    return CG_ERR_DATA;
  }
}

static int zlib_step(cg_gunzip *g, const uint8_t *src, size_t avail, uint8_t *out,
                     size_t out_avail, size_t *used, size_t *wrote, const char **detail) {
  z_stream *z = &g->zs;
  z->next_in = (Bytef *)src;
  z->avail_in = (uInt)avail;
  z->next_out = out;
  z->avail_out = (uInt)out_avail;
  int r = inflate(z, Z_NO_FLUSH);
  *used = avail - z->avail_in;
  *wrote = out_avail - z->avail_out;
  if (*wrote > 0) {
    g->crc = (uint32_t)crc32(g->crc, out, (uInt)*wrote);
    g->isize += (uint32_t)*wrote;
  }
  switch (r) {
  case Z_STREAM_END:
    return STEP_MEMBER_END;
  case Z_OK:
  case Z_BUF_ERROR: /* no progress possible: the caller sees used == wrote == 0 */
    return STEP_GOING;
  case Z_MEM_ERROR:
    *detail = "out of memory";
    return CG_ERR_MEMORY;
  default: /* Z_DATA_ERROR; Z_NEED_DICT and Z_STREAM_ERROR cannot happen here */
    *detail = z->msg ? z->msg : "inflate failed";
    return CG_ERR_DATA;
  }
}

/* ---------------------------------------------------------------- API */

cg_gunzip *cg_gunzip_new_backend(int backend) {
  if (backend == CG_BACKEND_DEFAULT) {
    backend = CG_BACKEND_ISAL;
  }
  if (!cg_backend_available(backend)) return NULL;
  cg_gunzip *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->backend = backend;
  g->phase = PH_HEADER;
  g->hs = HS_FIXED;
  g->detail = "";
  if (backend == CG_BACKEND_ISAL) {
    g->isal = malloc(sizeof *g->isal);
    if (!g->isal) {
      free(g);
      return NULL;
    }
    isal_inflate_init(g->isal);
    g->isal->crc_flag = ISAL_GZIP_NO_HDR_VER; /* raw deflate, then check CRC-32 and ISIZE */
  }
  return g;
}

cg_gunzip *cg_gunzip_new(void) { return cg_gunzip_new_backend(CG_BACKEND_DEFAULT); }

void cg_gunzip_free(cg_gunzip *g) {
  if (!g) return;
  if (g->zs_ready) inflateEnd(&g->zs);
  free(g->isal);
  free(g);
}

void cg_gunzip_input(cg_gunzip *g, const uint8_t *in, size_t len, int eof) {
  if (g->phase == PH_ERROR || g->phase == PH_DONE) return;
  if (g->in_len != 0) {
    fail(g, CG_ERR_USAGE, g->consumed, g->member, 0,
         "input given before the previous input was consumed");
    return;
  }
  g->in = len ? in : NULL;
  g->in_len = len;
  if (eof) g->eof = 1;
}

/* Consumes header bytes. Returns 0 (header complete, hs == HS_DONE, or input exhausted)
 * or a recorded error. */
static int parse_header(cg_gunzip *g) {
  while (g->hs != HS_DONE) {
    if (g->hs == HS_FIXED) {
      while (g->hdr_len < 10 && g->in_len > 0) {
        uint8_t c = *g->in;
        if (g->hdr_len == 0 && c != 0x1f) {
          if (g->member == 0) return fail(g, CG_ERR_HEADER, g->consumed, 1, 1, "not gzip");
          return fail(g, CG_ERR_TRAILING_GARBAGE, g->consumed, g->member, 0, "");
        }
        if (g->hdr_len == 1 && c != 0x8b) {
          if (g->member == 0) return fail(g, CG_ERR_HEADER, g->consumed - 1, 1, 1, "not gzip");
          return fail(g, CG_ERR_TRAILING_GARBAGE, g->consumed - 1, g->member, 0, "");
        }
        g->hdr[g->hdr_len++] = c;
        consume(g, 1);
      }
      if (g->hdr_len < 10) return 0;
      g->member++;
      if (g->hdr[2] != 8)
        return fail(g, CG_ERR_HEADER, g->consumed, g->member, 1, "unknown compression method");
      if (g->hdr[3] & 0xe0)
        return fail(g, CG_ERR_HEADER, g->consumed, g->member, 1, "unknown header flags set");
      g->hcrc = (g->hdr[3] & FL_HCRC) ? (uint32_t)crc32(0L, g->hdr, 10) : 0;
      g->hdr_len = 0;
      g->hs = HS_XLEN;
      continue;
    }

    uint8_t flags = g->hdr[3];
    int absent = ((g->hs == HS_XLEN || g->hs == HS_EXTRA) && !(flags & FL_EXTRA)) ||
                 (g->hs == HS_NAME && !(flags & FL_NAME)) ||
                 (g->hs == HS_COMMENT && !(flags & FL_COMMENT)) ||
                 (g->hs == HS_HCRC && !(flags & FL_HCRC));
    if (absent || (g->hs == HS_EXTRA && g->extra_left == 0)) {
      g->hs++;
      continue;
    }
    if (g->in_len == 0) return 0;

    const uint8_t *start = g->in;
    size_t take = 0;
    int done = 0;
    switch (g->hs) {
    case HS_XLEN:
    case HS_HCRC:
      while (g->hdr_len < 2 && take < g->in_len) g->field[g->hdr_len++] = start[take++];
      done = g->hdr_len == 2;
      break;
    case HS_EXTRA:
      take = g->in_len < g->extra_left ? g->in_len : g->extra_left;
      g->extra_left -= (uint32_t)take;
      done = g->extra_left == 0;
      break;
    case HS_NAME:
    case HS_COMMENT: {
      const uint8_t *nul = memchr(start, 0, g->in_len);
      take = nul ? (size_t)(nul - start) + 1 : g->in_len;
      done = nul != NULL;
      break;
    }
    default:
      break;
    }
    /* FHCRC covers every header byte before the CRC-16 itself. */
    if ((flags & FL_HCRC) && g->hs != HS_HCRC) g->hcrc = (uint32_t)crc32(g->hcrc, start, (uInt)take);
    consume(g, take);
    if (!done) continue; /* input exhausted: returns above */

    if (g->hs == HS_XLEN) {
      g->extra_left = (uint32_t)g->field[0] | (uint32_t)g->field[1] << 8;
      g->hdr_len = 0;
    } else if (g->hs == HS_HCRC) {
      uint32_t stored = (uint32_t)g->field[0] | (uint32_t)g->field[1] << 8;
      g->hdr_len = 0;
      if (stored != (g->hcrc & 0xffff))
        return fail(g, CG_ERR_HEADER, g->consumed, g->member, 1, "header crc mismatch");
    }
    g->hs++;
  }
  return 0;
}

/* zlib: collects the 8-byte trailer and checks it. Returns 0 (complete and correct, or input
 * exhausted) or a recorded error. */
static int parse_trailer(cg_gunzip *g, int *complete) {
  size_t take = 8 - g->hdr_len;
  if (take > g->in_len) take = g->in_len;
  if (take) memcpy(g->field + g->hdr_len, g->in, take);
  g->hdr_len += (unsigned)take;
  consume(g, take);
  *complete = g->hdr_len == 8;
  if (!*complete) return 0;
  g->hdr_len = 0;
  if (load_le32(g->field) != g->crc)
    return fail(g, CG_ERR_CRC, g->consumed, g->member, 0, "incorrect data check");
  if (load_le32(g->field + 4) != g->isize)
    return fail(g, CG_ERR_LENGTH, g->consumed, g->member, 0, "incorrect length check");
  return 0;
}

int cg_gunzip_read(cg_gunzip *g, uint8_t *out, size_t cap, size_t *produced) {
  size_t made = 0;
  *produced = 0;
  if (g->phase == PH_ERROR) return g->error;
  if (g->phase == PH_DONE) return CG_END;

  for (;;) {
    if (g->phase == PH_HEADER) {
      int r = parse_header(g);
      if (r < 0) return r;
      if (g->hs != HS_DONE) { /* every input byte consumed inside a header */
        if (!g->eof) {
          *produced = made;
          return CG_NEED_INPUT;
        }
        if (g->hs == HS_FIXED && g->hdr_len == 0 && g->member > 0) {
          g->phase = PH_DONE;
          *produced = made;
          return CG_END;
        }
        return fail(g, CG_ERR_TRUNCATED, g->consumed, g->member + (g->hs == HS_FIXED), 1, "");
      }
      int rr = backend_reset(g);
      if (rr < 0) return fail(g, rr, g->consumed, g->member, 1, "out of memory");
      g->phase = PH_BODY;
    }

    if (g->phase == PH_TRAILER) {
      int complete = 0;
      int r = parse_trailer(g, &complete);
      if (r < 0) return r;
      if (!complete) {
        if (!g->eof) {
          *produced = made;
          return CG_NEED_INPUT;
        }
        return fail(g, CG_ERR_TRUNCATED, g->consumed, g->member, 0, "");
      }
      g->phase = PH_HEADER;
      g->hs = HS_FIXED;
      continue;
    }

    /* PH_BODY */
    if (made == cap) {
      *produced = made;
      return CG_OK;
    }
    /* Backends want a valid pointer even with nothing to read. */
    const uint8_t *src = g->in_len ? g->in : g->hdr;
    size_t avail = g->in_len < CG_MAX_CHUNK ? g->in_len : CG_MAX_CHUNK;
    size_t out_avail = cap - made < CG_MAX_CHUNK ? cap - made : CG_MAX_CHUNK;
    size_t used = 0, wrote = 0;
    const char *detail = "";
    int r;
    if (g->backend == CG_BACKEND_ISAL)
      r = isal_step(g, src, avail, out + made, out_avail, &used, &wrote, &detail);
    else
      r = zlib_step(g, src, avail, out + made, out_avail, &used, &wrote, &detail);
    made += wrote;
    consume(g, used);

    if (r == STEP_MEMBER_END) {
      if (g->backend == CG_BACKEND_ZLIB) {
        g->phase = PH_TRAILER;
        g->hdr_len = 0;
      } else { /* ISA-L has read and verified the trailer */
        g->phase = PH_HEADER;
        g->hs = HS_FIXED;
      }
      continue;
    }
    if (r < 0) return fail(g, r, g->consumed, g->member, 0, detail);
    if (used == 0 && wrote == 0) {
      if (avail == 0) {
        if (!g->eof) {
          *produced = made;
          return CG_NEED_INPUT;
        }
        return fail(g, CG_ERR_TRUNCATED, g->consumed, g->member, 0, "");
      }
      return fail(g, CG_ERR_DATA, g->consumed, g->member, 0, "decoder made no progress");
    }
  }
}

uint64_t cg_gunzip_consumed(const cg_gunzip *g) { return g->consumed; }

uint64_t cg_gunzip_member(const cg_gunzip *g) {
  return g->phase == PH_ERROR ? g->error_member : g->member;
}

uint64_t cg_gunzip_error_offset(const cg_gunzip *g) { return g->error_offset; }

int cg_gunzip_error_in_header(const cg_gunzip *g) { return g->error_in_header; }

const char *cg_gunzip_error_detail(const cg_gunzip *g) { return g->detail; }

/* ---------------------------------------------------------------- hash */

#define CRC64_ECMA_REFL 0xC96C5795D7870F42ULL /* ECMA-182, reflected (CRC-64/XZ) */
#define CRC64_ISO_REFL 0xD800000000000000ULL  /* ISO 3309, reflected (CRC-64/GO-ISO) */

static uint64_t table_ecma[8][256];
static uint64_t table_iso[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void fill_table(uint64_t t[8][256], uint64_t poly) {
  for (unsigned i = 0; i < 256; i++) {
    uint64_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    t[0][i] = c;
  }
  for (unsigned i = 0; i < 256; i++)
    for (int k = 1; k < 8; k++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
}

static void init_tables(void) {
  fill_table(table_ecma, CRC64_ECMA_REFL);
  fill_table(table_iso, CRC64_ISO_REFL);
}

static uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/* Slicing-by-8, reflected, initial value and final XOR all ones (chainable like ISA-L's). */
static uint64_t crc64_sliced(uint64_t t[8][256], uint64_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  while (n >= 8) {
    crc ^= load_le64(p);
    crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^
          t[4][(crc >> 24) & 0xff] ^ t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^
          t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void cg_hash128_update_portable(cg_hash128 *h, const void *data, size_t len) {
  pthread_once(&tables_once, init_tables);
  h->a = crc64_sliced(table_ecma, h->a, data, len);
  h->b = crc64_sliced(table_iso, h->b, data, len);
}

uint32_t cg_crc32(uint32_t crc, const void *data, size_t len) {
  return crc32_gzip_refl(crc, (const unsigned char *)data, (uint64_t)len);
}

void cg_hash128_update(cg_hash128 *h, const void *data, size_t len) {
  h->a = crc64_ecma_refl(h->a, data, len);
  h->b = crc64_iso_refl(h->b, data, len);
}
