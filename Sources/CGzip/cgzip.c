/*
 * CGzip — see include/cgzip.h for the contract.
 *
 * Structure: a small state machine around the backend.
 *   PH_HEADER  collect the next member's 10-byte fixed header here (so truncation, trailing
 *              garbage and bad headers are judged the same way for both backends);
 *   PH_BODY    feed those 10 bytes, then the caller's bytes, to the backend until it reports
 *              the end of the member (trailer checked), then back to PH_HEADER.
 * The backend never sees bytes past the end of a member: zlib stops at Z_STREAM_END, and
 * ISA-L's isal_inflate (crc_flag ISAL_GZIP) stops right after the 8-byte trailer.
 */
#include "cgzip.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifdef CP_HAVE_ISAL
#include <isa-l/crc64.h>
#include <isa-l/igzip_lib.h>
#endif

enum { PH_HEADER, PH_BODY, PH_DONE, PH_ERROR };

/* Results of one backend step. */
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

  uint8_t hdr[10];       /* fixed header of the current member */
  unsigned hdr_len;      /* bytes collected */
  unsigned hdr_pending;  /* bytes of hdr not yet given to the backend */
  uint8_t last8[8];      /* the last 8 caller bytes consumed (oldest first) */

  int error;
  uint64_t error_offset;
  uint64_t error_member;
  int error_in_header;
  const char *detail;

  z_stream zs;
  int zs_ready;
  gz_header zhead;
#ifdef CP_HAVE_ISAL
  struct inflate_state *isal;
#endif
};

/* ---------------------------------------------------------------- backends */

int cg_backend_available(int backend) {
  switch (backend) {
  case CG_BACKEND_DEFAULT:
  case CG_BACKEND_ZLIB:
    return 1;
#ifdef CP_HAVE_ISAL
  case CG_BACKEND_ISAL:
    return 1;
#endif
  default:
    return 0;
  }
}

const char *cg_backend_name(void) {
#ifdef CP_HAVE_ISAL
  return "isa-l";
#else
  return "zlib";
#endif
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

static int backend_reset(cg_gunzip *g) {
#ifdef CP_HAVE_ISAL
  if (g->backend == CG_BACKEND_ISAL) {
    isal_inflate_reset(g->isal); /* keeps crc_flag = ISAL_GZIP */
    return 0;
  }
#endif
  if (!g->zs_ready) {
    memset(&g->zs, 0, sizeof g->zs);
    if (inflateInit2(&g->zs, 16 + 15) != Z_OK) return CG_ERR_MEMORY;
    g->zs_ready = 1;
  } else if (inflateReset(&g->zs) != Z_OK) {
    return CG_ERR_MEMORY;
  }
  /* Only to learn when the header is over (done = 1); extra/name/comment are not kept. */
  memset(&g->zhead, 0, sizeof g->zhead);
  inflateGetHeader(&g->zs, &g->zhead);
  return 0;
}

/* 1 while the backend is still inside the member's header. */
static int backend_in_header(const cg_gunzip *g) {
#ifdef CP_HAVE_ISAL
  if (g->backend == CG_BACKEND_ISAL) return g->isal->wrapper_flag == 0;
#endif
  return g->zhead.done == 0;
}

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One backend call. Returns STEP_GOING, STEP_MEMBER_END or a negative CG_ERR_* (without
 * recording it). `*detail` gets a static description for errors. */
static int backend_step(cg_gunzip *g, const uint8_t *src, size_t avail, uint8_t *out,
                        size_t out_avail, size_t *used, size_t *wrote, const char **detail) {
  *detail = "";
#ifdef CP_HAVE_ISAL
  if (g->backend == CG_BACKEND_ISAL) {
    struct inflate_state *s = g->isal;
    s->next_in = (uint8_t *)src;
    s->avail_in = (uint32_t)avail;
    s->next_out = out;
    s->avail_out = (uint32_t)out_avail;
    int r = isal_inflate(s);
    *used = avail - s->avail_in;
    *wrote = out_avail - s->avail_out;
    if (r == ISAL_DECOMP_OK)
      return s->block_state == ISAL_BLOCK_FINISH ? STEP_MEMBER_END : STEP_GOING;
    return r; /* classified by the caller, which knows the trailer bytes */
  }
#endif
  z_stream *z = &g->zs;
  z->next_in = (Bytef *)src;
  z->avail_in = (uInt)avail;
  z->next_out = out;
  z->avail_out = (uInt)out_avail;
  int r = inflate(z, Z_NO_FLUSH);
  *used = avail - z->avail_in;
  *wrote = out_avail - z->avail_out;
  switch (r) {
  case Z_STREAM_END:
    return STEP_MEMBER_END;
  case Z_OK:
  case Z_BUF_ERROR: /* no progress possible: the caller sees used == wrote == 0 */
    return STEP_GOING;
  case Z_MEM_ERROR:
    *detail = "out of memory";
    return CG_ERR_MEMORY;
  case Z_DATA_ERROR: {
    const char *m = z->msg ? z->msg : "";
    *detail = m;
    if (strcmp(m, "incorrect data check") == 0) return CG_ERR_CRC;
    if (strcmp(m, "incorrect length check") == 0) return CG_ERR_LENGTH;
    if (strcmp(m, "incorrect header check") == 0 || strcmp(m, "unknown compression method") == 0 ||
        strcmp(m, "unknown header flags set") == 0 || strcmp(m, "header crc mismatch") == 0)
      return CG_ERR_HEADER;
    return CG_ERR_DATA;
  }
  default: /* Z_NEED_DICT cannot happen with gzip; Z_STREAM_ERROR would be a bug */
    *detail = z->msg ? z->msg : "inflate failed";
    return CG_ERR_DATA;
  }
}

#ifdef CP_HAVE_ISAL
static int classify_isal_error(cg_gunzip *g, int r, const char **detail) {
  struct inflate_state *s = g->isal;
  switch (r) {
  case ISAL_INCORRECT_CHECKSUM:
    if (s->wrapper_flag == 0) {
      *detail = "header crc mismatch";
      return CG_ERR_HEADER;
    }
    /* The trailer is the last 8 bytes consumed: ISA-L stops right after it. */
    if (load_le32(g->last8) != s->crc) {
      *detail = "incorrect data check";
      return CG_ERR_CRC;
    }
    if (load_le32(g->last8 + 4) != s->total_out) {
      *detail = "incorrect length check";
      return CG_ERR_LENGTH;
    }
    *detail = "incorrect data check";
    return CG_ERR_CRC;
  case ISAL_INVALID_WRAPPER:
    *detail = "invalid gzip wrapper";
    return CG_ERR_HEADER;
  case ISAL_UNSUPPORTED_METHOD:
    *detail = "unknown compression method";
    return CG_ERR_HEADER;
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
#endif

/* ---------------------------------------------------------------- API */

cg_gunzip *cg_gunzip_new_backend(int backend) {
  if (backend == CG_BACKEND_DEFAULT) {
#ifdef CP_HAVE_ISAL
    backend = CG_BACKEND_ISAL;
#else
    backend = CG_BACKEND_ZLIB;
#endif
  }
  if (!cg_backend_available(backend)) return NULL;
  cg_gunzip *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->backend = backend;
  g->phase = PH_HEADER;
  g->detail = "";
#ifdef CP_HAVE_ISAL
  if (backend == CG_BACKEND_ISAL) {
    g->isal = malloc(sizeof *g->isal);
    if (!g->isal) {
      free(g);
      return NULL;
    }
    isal_inflate_init(g->isal);
    g->isal->crc_flag = ISAL_GZIP; /* parse the header, check CRC-32 and ISIZE */
  }
#endif
  return g;
}

cg_gunzip *cg_gunzip_new(void) { return cg_gunzip_new_backend(CG_BACKEND_DEFAULT); }

void cg_gunzip_free(cg_gunzip *g) {
  if (!g) return;
  if (g->zs_ready) inflateEnd(&g->zs);
#ifdef CP_HAVE_ISAL
  free(g->isal);
#endif
  free(g);
}

void cg_gunzip_input(cg_gunzip *g, const uint8_t *in, size_t len, int eof) {
  if (g->phase == PH_ERROR || g->phase == PH_DONE) return;
  if (g->in_len != 0) {
    fail(g, CG_ERR_USAGE, g->consumed, g->member, 0, "input given before the previous was consumed");
    return;
  }
  g->in = len ? in : NULL;
  g->in_len = len;
  if (eof) g->eof = 1;
}

static void remember_consumed(cg_gunzip *g, const uint8_t *p, size_t n) {
  if (n >= 8) {
    memcpy(g->last8, p + n - 8, 8);
  } else if (n > 0) {
    memmove(g->last8, g->last8 + n, 8 - n);
    memcpy(g->last8 + 8 - n, p, n);
  }
}

int cg_gunzip_read(cg_gunzip *g, uint8_t *out, size_t cap, size_t *produced) {
  size_t made = 0;
  *produced = 0;
  if (g->phase == PH_ERROR) return g->error;
  if (g->phase == PH_DONE) return CG_END;

  for (;;) {
    if (g->phase == PH_HEADER) {
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
        g->in++;
        g->in_len--;
        g->consumed++;
      }
      if (g->hdr_len < 10) {
        if (!g->eof) {
          *produced = made;
          return CG_NEED_INPUT;
        }
        if (g->hdr_len == 0 && g->member > 0) {
          g->phase = PH_DONE;
          *produced = made;
          return CG_END;
        }
        return fail(g, CG_ERR_TRUNCATED, g->consumed, g->member + 1, 1, "");
      }
      g->member++;
      if (g->hdr[2] != 8)
        return fail(g, CG_ERR_HEADER, g->consumed, g->member, 1, "unknown compression method");
      if (g->hdr[3] & 0xe0)
        return fail(g, CG_ERR_HEADER, g->consumed, g->member, 1, "unknown header flags set");
      int rr = backend_reset(g);
      if (rr < 0) return fail(g, rr, g->consumed, g->member, 1, "out of memory");
      g->hdr_pending = 10;
      g->phase = PH_BODY;
    }

    /* PH_BODY */
    if (made == cap) {
      *produced = made;
      return CG_OK;
    }
    int from_hdr = g->hdr_pending > 0;
    const uint8_t *src = from_hdr ? g->hdr + (10 - g->hdr_pending) : g->in;
    size_t avail = from_hdr ? g->hdr_pending : g->in_len;
    if (avail > CG_MAX_CHUNK) avail = CG_MAX_CHUNK;
    size_t out_avail = cap - made;
    if (out_avail > CG_MAX_CHUNK) out_avail = CG_MAX_CHUNK;
    /* zlib refuses a NULL next_in with avail_in 0 on some paths; give it a valid pointer. */
    if (!src) src = g->hdr;

    size_t used = 0, wrote = 0;
    const char *detail = "";
    int r = backend_step(g, src, avail, out + made, out_avail, &used, &wrote, &detail);
    made += wrote;
    if (from_hdr) {
      g->hdr_pending -= (unsigned)used;
    } else {
      remember_consumed(g, src, used);
      g->in += used;
      g->in_len -= used;
      g->consumed += used;
    }
    if (r == STEP_MEMBER_END) {
      g->phase = PH_HEADER;
      g->hdr_len = 0;
      continue;
    }
    if (r < 0) {
#ifdef CP_HAVE_ISAL
      if (g->backend == CG_BACKEND_ISAL) r = classify_isal_error(g, r, &detail);
#endif
      int in_header = (r == CG_ERR_HEADER);
      return fail(g, r, g->consumed, g->member, in_header, detail);
    }
    if (used == 0 && wrote == 0) {
      if (from_hdr)
        return fail(g, CG_ERR_DATA, g->consumed, g->member, 1, "decoder stalled in the header");
      if (avail == 0) {
        if (!g->eof) {
          *produced = made;
          return CG_NEED_INPUT;
        }
        return fail(g, CG_ERR_TRUNCATED, g->consumed, g->member, backend_in_header(g), "");
      }
      return fail(g, CG_ERR_DATA, g->consumed, g->member, 0, "decoder stalled");
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

void cg_hash128_update(cg_hash128 *h, const void *data, size_t len) {
#ifdef CP_HAVE_ISAL
  h->a = crc64_ecma_refl(h->a, data, len);
  h->b = crc64_iso_refl(h->b, data, len);
#else
  cg_hash128_update_portable(h, data, len);
#endif
}
