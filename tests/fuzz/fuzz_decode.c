/*
 * fuzz_decode.c - libFuzzer target for payload decoding (evt_decode.c).
 *
 * Input layout: byte 0 picks a schema, byte 1 the options (bit 0: 4-byte
 * pointers, bit 1: --tx-compat), the rest is the payload. Schemas 0..N-1
 * are fixed and hand-made (Kernel-Network, structs with counts from
 * fields, strings of every kind, SIDs, socket addresses, maps, nested
 * TraceLogging-style arrays); the last selector instead reads a schema of
 * up to 16 fields from the input (8 bytes each, after a count byte), so
 * broken schemas (self-nesting structs, references forward or out of
 * range, unknown types) are fuzzed as well. Besides the sanitizers, the
 * target checks the decoder's contract: on failure the writer is back
 * where it was and err holds a reason; on success err is empty and the
 * braces and brackets of the output balance. Seeds:
 * tests/fuzz/corpus/decode/.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_decode.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define F(n, i, o)                                                             \
  {                                                                            \
    .name = n, .in = i, .out = o                                               \
  }
#define FL(n, i, o, fl, ln, cnt)                                               \
  {                                                                            \
    .name = n, .in = i, .out = o, .flags = fl, .len = ln, .count = cnt         \
  }
#define ST(n, fl, cnt, first_, nm)                                             \
  {                                                                            \
    .name = n, .in = EVT_IN_STRUCT, .flags = EVT_F_STRUCT | (fl),              \
    .count = cnt, .first = first_, .nmembers = nm                              \
  }
#define NF(a) ((uint16_t)(sizeof a / sizeof a[0]))
#define SCHEMA(a, ntop_)                                                       \
  {                                                                            \
    .provider = {7}, .nfields = NF(a), .ntop = ntop_, .fields = a              \
  }

/* 0: Kernel-Network TcpIp/Recv (GenericIPV4). */
static const struct evt_field kn_f[] = {
    F("PID", EVT_IN_UINT32, 0),
    F("size", EVT_IN_UINT32, 0),
    F("daddr", EVT_IN_UINT32, EVT_OUT_IPV4),
    F("saddr", EVT_IN_UINT32, EVT_OUT_IPV4),
    F("dport", EVT_IN_UINT16, EVT_OUT_PORT),
    F("sport", EVT_IN_UINT16, EVT_OUT_PORT),
    F("seqnum", EVT_IN_UINT32, 0),
    F("connid", EVT_IN_UINT32, 0),
};

/* 1: Kernel-Network IPv6 twin with binary addresses. */
static const struct evt_field kn6_f[] = {
    F("PID", EVT_IN_UINT32, 0),
    F("size", EVT_IN_UINT32, 0),
    FL("daddr", EVT_IN_BINARY, EVT_OUT_IPV6, EVT_F_LEN_FIXED, 16, 0),
    F("saddr", EVT_IN_BINARY, EVT_OUT_IPV6),
    F("dport", EVT_IN_UINT16, EVT_OUT_PORT),
    F("sport", EVT_IN_UINT16, EVT_OUT_PORT),
    F("seqnum", EVT_IN_UINT32, 0),
    F("connid", EVT_IN_POINTER, 0),
};

/* 2: a count field, an array of structs with a string and a nested
 * struct whose array length comes from a sibling member. */
static const struct evt_field sarr_f[] = {
    F("n", EVT_IN_UINT16, 0),
    ST("items", EVT_F_COUNT_FIELD, 0, 3, 3),
    F("tail", EVT_IN_UINT32, 0),
    F("k", EVT_IN_UINT8, 0),
    F("name", EVT_IN_UNICODESTRING, 0),
    ST("inner", 0, 0, 6, 2),
    F("k", EVT_IN_UINT8, 0),
    FL("v", EVT_IN_UINT16, EVT_OUT_HEXINT16, EVT_F_COUNT_FIELD, 0, 6),
};

/* 3: strings of every kind and lengths from fields. */
static const struct evt_field strs_f[] = {
    F("len", EVT_IN_UINT8, 0),
    FL("s", EVT_IN_UNICODESTRING, 0, EVT_F_LEN_FIELD, 0, 0),
    FL("a", EVT_IN_ANSISTRING, EVT_OUT_UTF8, EVT_F_LEN_FIELD, 0, 0),
    F("cs", EVT_IN_COUNTEDSTRING, 0),
    F("ca", EVT_IN_COUNTEDANSISTRING, 0),
    F("rs", EVT_IN_WBEM_REVCOUNTEDSTRING, 0),
    F("ra", EVT_IN_WBEM_REVCOUNTEDANSISTRING, 0),
    F("z", EVT_IN_ANSISTRING, 0),
    F("uc", EVT_IN_WBEM_UNICODECHAR, 0),
    FL("arr", EVT_IN_UNICODESTRING, 0, EVT_F_COUNT_INLINE, 0, 0),
    F("rest", EVT_IN_WBEM_NONNULLSTRING, 0),
};

/* 4: SIDs, times, GUIDs, pointers. */
static const struct evt_field sids_f[] = {
    F("sid", EVT_IN_SID, 0),
    F("user", EVT_IN_WBEM_SID, 0),
    F("ft", EVT_IN_FILETIME, 0),
    F("st", EVT_IN_SYSTEMTIME, EVT_OUT_DATETIME_UTC),
    F("g", EVT_IN_GUID, 0),
    F("p", EVT_IN_POINTER, 0),
    F("sz", EVT_IN_WBEM_SIZET, 0),
    FL("sids", EVT_IN_SID, 0, EVT_F_COUNT_INLINE, 0, 0),
    F("hd", EVT_IN_WBEM_HEXDUMP, 0),
};

/* 5: socket addresses and binary. */
static const struct evt_field sock_f[] = {
    F("n", EVT_IN_UINT8, 0),
    FL("sa", EVT_IN_BINARY, EVT_OUT_SOCKETADDRESS, EVT_F_LEN_FIELD, 0, 0),
    FL("sa2", EVT_IN_BINARY, EVT_OUT_SOCKETADDRESS, EVT_F_LEN_FIXED, 28, 0),
    F("cb", EVT_IN_COUNTEDBINARY, EVT_OUT_SOCKETADDRESS),
    FL("cu", EVT_IN_UINT8, 0, EVT_F_CUSTOM, 0, 0),
    FL("bins", EVT_IN_BINARY, EVT_OUT_IPV6, EVT_F_COUNT_INLINE, 0, 0),
};

/* 6: maps, numbers, floats, booleans. */
static const struct evt_map_entry vm_e[] = {
    {0, "Zero"}, {1, "One"}, {7, "Seven"}};
static const struct evt_map vm = {"VM", false, 3, vm_e};
static const struct evt_map_entry bm_e[] = {
    {1, "A"}, {2, "B"}, {0x0C, "CD"}, {0x80000000u, "Top"}};
static const struct evt_map bm = {"BM", true, 4, bm_e};
static const struct evt_field maps_f[] = {
    {.name = "v", .in = EVT_IN_UINT32, .map = &vm},
    {.name = "b", .in = EVT_IN_UINT32, .map = &bm},
    {.name = "lazy", .in = EVT_IN_UINT8, .map_name = "BM"},
    {.name = "b8", .in = EVT_IN_INT8, .map = &bm},
    F("f", EVT_IN_FLOAT, 0),
    F("d", EVT_IN_DOUBLE, 0),
    F("bo", EVT_IN_BOOLEAN, 0),
    F("i64", EVT_IN_INT64, 0),
    F("h", EVT_IN_HEXINT64, EVT_OUT_ERRORCODE),
    F("ts", EVT_IN_UINT64, EVT_OUT_DATETIME),
    F("ch", EVT_IN_UINT8, EVT_OUT_STRING),
    F("v", EVT_IN_INT16, EVT_OUT_NOPRINT),
};

/* 7: TraceLogging-style vcount arrays of nested structs. */
static const struct evt_field tl_f[] = {
    ST("outer", EVT_F_COUNT_INLINE, 0, 2, 2),
    F("after", EVT_IN_UINT8, 0),
    F("id", EVT_IN_UINT16, 0),
    ST("inner", EVT_F_COUNT_INLINE, 0, 4, 2),
    F("x", EVT_IN_UINT8, 0),
    FL("y", EVT_IN_ANSISTRING, 0, EVT_F_COUNT_FIXED, 0, 2),
};

static const struct evt_schema schemas[] = {
    SCHEMA(kn_f, 8),    SCHEMA(kn6_f, 8),  SCHEMA(sarr_f, 3),
    SCHEMA(strs_f, 11), SCHEMA(sids_f, 9), SCHEMA(sock_f, 6),
    SCHEMA(maps_f, 12), SCHEMA(tl_f, 2),
};
#define NSCHEMAS (sizeof schemas / sizeof schemas[0])

/* In-types a fuzzed schema may use (index by a byte). */
static const uint16_t fuzz_in[] = {
    0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11, 12,
    13,  14,  15,  16,  17,  18,  19,  20,  21,  22,  23,  24, 25,
    300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 26, 99};
static const char *const fuzz_names[] = {"a", "b", "a", "", "c", "a"};

static struct evt_registry *reg;

/* The last selector: a schema read from the input. */
static size_t
read_schema(const uint8_t *p, size_t n, struct evt_field *f,
            struct evt_schema *s)
{
  if (n < 1) return 0;
  unsigned nf = p[0] % 17, ntop = (p[0] >> 5) % 8;
  size_t used = 1;
  memset(f, 0, 16 * sizeof *f);
  for (unsigned i = 0; i < nf && used + 8 <= n; i++, used += 8) {
    const uint8_t *q = p + used;
    f[i].name = fuzz_names[q[0] % 6];
    f[i].in = fuzz_in[q[1] % (sizeof fuzz_in / sizeof fuzz_in[0])];
    f[i].out = q[2] < 40 ? q[2] : (q[2] < 48 ? EVT_OUT_NOPRINT : 0);
    f[i].flags = (uint16_t)(q[3] | (q[0] & 0x80 ? EVT_F_UTC : 0));
    f[i].len = q[4] % 24;
    f[i].count = q[5] % 24;
    f[i].first = q[6] % 20;
    f[i].nmembers = q[7] % 5;
    if (q[0] & 0x40)
      f[i].map = (q[0] & 0x20) ? &bm : &vm;
    else if (q[0] & 0x20)
      f[i].map_name = "VM";
    s->nfields = (uint16_t)(i + 1);
  }
  memset(s->provider, 0, sizeof s->provider);
  s->provider[0] = 7;
  s->ntop = (uint16_t)(ntop < s->nfields ? ntop : s->nfields);
  s->fields = f;
  return used;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct jsonw w;
  static bool init;
  if (!init) {
    jw_init(&w);
    reg = evt_registry_new();
    if (!reg) abort();
    static const uint8_t prov[16] = {7};
    if (evt_registry_add_map(reg, prov, &vm) != 0 ||
        evt_registry_add_map(reg, prov, &bm) != 0)
      abort();
    init = true;
  }
  if (size < 2) return 0;
  unsigned sel = data[0] % (NSCHEMAS + 1);
  struct evt_opts o = {(data[1] & 2) != 0};
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.ptr_size = (data[1] & 1) ? 4 : 8;
  data += 2;
  size -= 2;

  struct evt_field ff[16];
  struct evt_schema fs;
  const struct evt_schema *s;
  if (sel < NSCHEMAS) {
    s = &schemas[sel];
  } else {
    memset(&fs, 0, sizeof fs);
    size_t used = read_schema(data, size, ff, &fs);
    data += used;
    size -= used;
    s = &fs;
  }

  /* Copy the payload so that reads past its end hit a redzone. */
  uint8_t *p = malloc(size ? size : 1);
  if (!p) abort();
  if (size) memcpy(p, data, size);
  ev.data = p;
  ev.data_len = (uint32_t)size;

  char err[160];
  jw_reset(&w);
  jw_obj_begin(&w);
  jw_key(&w, "EventData");
  size_t before = w.len;
  int rc = evt_decode_payload(reg, s, &ev, &o, &w, err, sizeof err);
  if (rc != 0) {
    if (rc != -1 || w.len != before || !err[0] || !memchr(err, 0, sizeof err))
      abort();
  } else {
    if (err[0]) abort();
    jw_obj_end(&w);
    /* Brackets outside strings must balance. */
    int depth = 0;
    bool str = false;
    for (size_t i = 0; i < w.len; i++) {
      char c = w.buf[i];
      if (str) {
        if (c == '\\')
          i++;
        else if (c == '"')
          str = false;
      } else if (c == '"') {
        str = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        depth--;
      }
      if (depth < 0) abort();
    }
    if (depth != 0 || str) abort();
  }
  free(p);
  return 0;
}
