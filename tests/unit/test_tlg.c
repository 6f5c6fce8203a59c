/*
 * test_tlg.c - unit test of the TraceLogging metadata compiler
 * (etwcat/evt_tlg.c).
 *
 * Regular cases: metadata blobs taken from real traces (the EventSchema
 * hex strings of the dissect.etl reference decodings of
 * perfview__primitive-types.etl, etl-parser__AMSITrace.etl,
 * perfview__SelfDescribingSingleEvent.etl and
 * ebpf-for-windows__ebpforwindows.etl), hand-built blobs for nested
 * structs, arrays of structs, vcount, ccount, custom fields, field tags
 * and every out-type translation, and the registry cache. Error cases:
 * truncated blobs, unterminated names and tags, unknown in-types, structs
 * missing members, nesting too deep, plus a sweep over every prefix and
 * many random mutations of real blobs (run under ASan/UBSan). When
 * ../shared/corpus/etl exists, every EventSchema of the reference files is
 * compiled and the field names of PrimitiveTypesTest are compared with
 * TraceEvent's own decoding; without it those checks are skipped.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_registry.h"
#include "etwcat/evt_tlg.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS "../shared/corpus/etl"

static const uint8_t prov_a[16] = {0xd4, 0x3d, 0xdd, 0xd3, 0xc2, 0xaa,
                                   0x2a, 0x4e, 0x8d, 0xd4, 0xa8, 0xfb,
                                   0x61, 0xb7, 0x76, 0x15};
static const uint8_t prov_b[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                   9, 10, 11, 12, 13, 14, 15, 16};

/* Metadata blobs from the reference decodings (dissect.etl EventSchema). */
static const char hex_primitive[] =
    "b600005072696d697469766554797065735465737400737472696e675f74797065"
    "0002626f6f6c65616e5f74797065008403636861725f74797065008402696e7431"
    "365f747970650005696e7433325f74797065000775696e7431365f747970650006"
    "75696e7433325f747970650008696e7436345f74797065000a75696e7436345f74"
    "797065000a677569645f74797065000f66696c655f74696d655f74797065001173"
    "797374656d5f74696d655f747970650012";
static const char hex_amsi[] =
    "2b0000416d736953637269707400456e67696e6500015363726970740001526177"
    "2053637269707400c602";
static const char hex_selfdesc[] =
    "170000546573744576656e740061009802620001630001";
static const char hex_ebpf_guids[] =
    "300080004562706647656e657269634d657373616765004d65737361676500022a"
    "6775696431000f2a6775696432000f";
static const char hex_ebpf_error[] =
    "2900004562706647656e657269634572726f72004572726f724d65737361676500"
    "024572726f720007";

static int
hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* unhex - decode hex text (n chars) into a malloc'd buffer. */
static uint8_t *
unhex(const char *h, size_t n, size_t *len)
{
  uint8_t *b = malloc(n / 2 + 1);
  if (!b) {
    fprintf(stderr, "test_tlg: out of memory\n");
    exit(1);
  }
  size_t k = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    int hi = hexval(h[i]), lo = hexval(h[i + 1]);
    if (hi < 0 || lo < 0) break;
    b[k++] = (uint8_t)(hi << 4 | lo);
  }
  *len = k;
  return b;
}

/* A metadata blob under construction. */
struct mb {
  uint8_t b[4096];
  size_t n;
};

static void
mb_u8(struct mb *m, uint8_t v)
{
  if (m->n < sizeof m->b) m->b[m->n++] = v;
}

static void
mb_u16(struct mb *m, uint16_t v)
{
  mb_u8(m, (uint8_t)v);
  mb_u8(m, (uint8_t)(v >> 8));
}

static void
mb_str(struct mb *m, const char *s)
{
  do
    mb_u8(m, (uint8_t)*s);
  while (*s++);
}

static void
mb_begin(struct mb *m, const char *event)
{
  m->n = 0;
  mb_u16(m, 0);
  mb_u8(m, 0); /* no event tags */
  mb_str(m, event);
}

/* mb_field - name + InMeta (+ OutMeta when in_meta has bit 7). */
static void
mb_field(struct mb *m, const char *name, uint8_t in_meta, uint8_t out_meta)
{
  mb_str(m, name);
  mb_u8(m, in_meta);
  if (in_meta & 0x80) mb_u8(m, out_meta);
}

static void
mb_end(struct mb *m)
{
  m->b[0] = (uint8_t)m->n;
  m->b[1] = (uint8_t)(m->n >> 8);
}

static const struct evt_schema *
compile(struct evt_registry *r, const uint8_t *p, size_t n, char *err,
        size_t errlen)
{
  err[0] = 0;
  return evt_tlg_compile(r, prov_a, NULL, p, n, err, errlen);
}

static const struct evt_schema *
compile_mb(struct evt_registry *r, const struct mb *m, char *err)
{
  return compile(r, m->b, m->n, err, 200);
}

static const struct evt_schema *
compile_hex(struct evt_registry *r, const char *h, char *err)
{
  size_t n;
  uint8_t *b = unhex(h, strlen(h), &n);
  const struct evt_schema *s = compile(r, b, n, err, 200);
  free(b);
  return s;
}

static struct evt_registry *
new_registry(void)
{
  struct evt_registry *r = evt_registry_new();
  if (!r) {
    fprintf(stderr, "test_tlg: out of memory\n");
    exit(1);
  }
  return r;
}

/* ---- regular cases ---------------------------------------------------- */

static void
test_primitive_types(void)
{
  struct evt_registry *r = new_registry();
  char err[200];
  const struct evt_schema *s = compile_hex(r, hex_primitive, err);
  CHECK(s != NULL);
  if (!s) {
    fprintf(stderr, "primitive-types: %s\n", err);
    evt_registry_free(r);
    return;
  }
  static const struct {
    const char *name;
    uint16_t in, out;
  } want[] = {
      {"string_type", EVT_IN_ANSISTRING, 0},
      {"boolean_type", EVT_IN_UINT8, EVT_OUT_BOOLEAN},
      {"char_type", EVT_IN_UINT8, EVT_OUT_STRING},
      {"int16_type", EVT_IN_INT16, 0},
      {"int32_type", EVT_IN_INT32, 0},
      {"uint16_type", EVT_IN_UINT16, 0},
      {"uint32_type", EVT_IN_UINT32, 0},
      {"int64_type", EVT_IN_UINT64, 0},
      {"uint64_type", EVT_IN_UINT64, 0},
      {"guid_type", EVT_IN_GUID, 0},
      {"file_time_type", EVT_IN_FILETIME, 0},
      {"system_time_type", EVT_IN_SYSTEMTIME, 0},
  };
  CHECK_STR(s->event_name, "PrimitiveTypesTest");
  CHECK_STR(s->source, "tracelogging");
  CHECK(s->nfields == 12 && s->ntop == 12);
  for (size_t i = 0; i < 12 && i < s->nfields; i++) {
    CHECK_STR(s->fields[i].name, want[i].name);
    CHECK(s->fields[i].in == want[i].in);
    CHECK(s->fields[i].out == want[i].out);
    CHECK(s->fields[i].flags == 0);
  }
  CHECK(memcmp(s->provider, prov_a, 16) == 0);
  CHECK(!s->classic && s->id == 0 && s->version == 0);
  evt_registry_free(r);
}

static void
test_amsi_vcount(void)
{
  struct evt_registry *r = new_registry();
  char err[200];
  const struct evt_schema *s = compile_hex(r, hex_amsi, err);
  CHECK(s != NULL);
  if (s) {
    CHECK_STR(s->event_name, "AmsiScript");
    CHECK(s->nfields == 3 && s->ntop == 3);
    CHECK_STR(s->fields[0].name, "Engine");
    CHECK(s->fields[0].in == EVT_IN_UNICODESTRING);
    CHECK_STR(s->fields[2].name, "Raw Script");
    CHECK(s->fields[2].in == EVT_IN_UINT16);
    CHECK(s->fields[2].out == EVT_OUT_STRING);
    CHECK(s->fields[2].flags == EVT_F_COUNT_INLINE);
  }
  evt_registry_free(r);
}

static void
test_selfdesc_struct(void)
{
  struct evt_registry *r = new_registry();
  char err[200];
  const struct evt_schema *s = compile_hex(r, hex_selfdesc, err);
  CHECK(s != NULL);
  if (s) {
    CHECK_STR(s->event_name, "TestEvent");
    CHECK(s->nfields == 3 && s->ntop == 1);
    CHECK_STR(s->fields[0].name, "a");
    CHECK(s->fields[0].flags == EVT_F_STRUCT);
    CHECK(s->fields[0].first == 1 && s->fields[0].nmembers == 2);
    CHECK_STR(s->fields[1].name, "b");
    CHECK_STR(s->fields[2].name, "c");
    CHECK(s->fields[1].in == EVT_IN_UNICODESTRING);
  }
  evt_registry_free(r);
}

static void
test_ebpf_tags(void)
{
  struct evt_registry *r = new_registry();
  char err[200];
  /* Two event tag bytes (0x80 0x00) before the name. */
  const struct evt_schema *s = compile_hex(r, hex_ebpf_guids, err);
  CHECK(s != NULL);
  if (s) {
    CHECK_STR(s->event_name, "EbpfGenericMessage");
    CHECK(s->nfields == 3);
    CHECK_STR(s->fields[1].name, "*guid1");
    CHECK(s->fields[1].in == EVT_IN_GUID);
  }
  s = compile_hex(r, hex_ebpf_error, err);
  CHECK(s != NULL);
  if (s) {
    CHECK_STR(s->event_name, "EbpfGenericError");
    CHECK(s->nfields == 2);
    CHECK(s->fields[0].in == EVT_IN_ANSISTRING);
    CHECK(s->fields[1].in == EVT_IN_INT32);
  }
  evt_registry_free(r);
}

/*
 * x u8; s1 {a u16; s2 {b; c}; d}; y i32; arr[3] {e}; v u32[vcount];
 * cust (custom, 3 bytes of type info); the expected breadth-first layout:
 *   0 x, 1 s1, 2 y, 3 arr, 4 v, 5 cust | 6 a, 7 s2, 8 d | 9 e | 10 b, 11 c
 */
static void
test_nested_layout(void)
{
  struct evt_registry *r = new_registry();
  struct mb m;
  char err[200];
  mb_begin(&m, "Nested");
  mb_field(&m, "x", EVT_IN_UINT8, 0);
  mb_field(&m, "s1", 0x80 | EVT_IN_STRUCT, 3);
  mb_field(&m, "a", EVT_IN_UINT16, 0);
  mb_field(&m, "s2", 0x80 | EVT_IN_STRUCT, 2);
  mb_field(&m, "b", EVT_IN_UNICODESTRING, 0);
  mb_field(&m, "c", EVT_IN_ANSISTRING, 0);
  mb_field(&m, "d", EVT_IN_GUID, 0);
  mb_field(&m, "y", EVT_IN_INT32, 0);
  mb_field(&m, "arr", 0x80 | 0x20 | EVT_IN_STRUCT, 1);
  mb_u16(&m, 3);
  mb_field(&m, "e", EVT_IN_UINT64, 0);
  mb_field(&m, "v", 0x40 | EVT_IN_UINT32, 0);
  mb_field(&m, "cust", 0x60 | 14, 0);
  mb_u16(&m, 3);
  mb_u8(&m, 0xAA);
  mb_u8(&m, 0xBB);
  mb_u8(&m, 0xCC);
  mb_end(&m);
  const struct evt_schema *s = compile_mb(r, &m, err);
  CHECK(s != NULL);
  if (!s) {
    fprintf(stderr, "nested: %s\n", err);
    evt_registry_free(r);
    return;
  }
  static const char *const names[] = {"x", "s1", "y", "arr", "v", "cust",
                                      "a", "s2", "d", "e",   "b", "c"};
  CHECK(s->nfields == 12 && s->ntop == 6);
  for (size_t i = 0; i < 12 && i < s->nfields; i++)
    CHECK_STR(s->fields[i].name, names[i]);
  const struct evt_field *f = s->fields;
  CHECK(f[1].flags == EVT_F_STRUCT && f[1].first == 6 && f[1].nmembers == 3);
  CHECK(f[7].flags == EVT_F_STRUCT && f[7].first == 10 && f[7].nmembers == 2);
  CHECK(f[3].flags == (EVT_F_STRUCT | EVT_F_COUNT_FIXED));
  CHECK(f[3].count == 3 && f[3].first == 9 && f[3].nmembers == 1);
  CHECK(f[4].flags == EVT_F_COUNT_INLINE && f[4].in == EVT_IN_UINT32);
  CHECK(f[5].flags == EVT_F_CUSTOM);
  CHECK(f[5].in == EVT_IN_COUNTEDBINARY);
  CHECK(f[9].in == EVT_IN_UINT64);
  CHECK(f[2].in == EVT_IN_INT32);
  evt_registry_free(r);
}

/* A vcount array of structs nested in a struct, and an empty struct. */
static void
test_struct_arrays(void)
{
  struct evt_registry *r = new_registry();
  struct mb m;
  char err[200];
  mb_begin(&m, "Arrays");
  mb_field(&m, "outer", 0x80 | EVT_IN_STRUCT, 2);
  mb_field(&m, "list", 0x80 | 0x40 | EVT_IN_STRUCT, 2);
  mb_field(&m, "k", EVT_IN_UINT8, 0);
  mb_field(&m, "v", EVT_IN_UINT8, 0);
  mb_field(&m, "empty", 0x80 | EVT_IN_STRUCT, 0);
  mb_field(&m, "last", EVT_IN_UINT8, 0);
  mb_end(&m);
  const struct evt_schema *s = compile_mb(r, &m, err);
  CHECK(s != NULL);
  if (s) {
    /* 0 outer, 1 last | 2 list, 3 empty | 4 k, 5 v */
    CHECK(s->nfields == 6 && s->ntop == 2);
    CHECK_STR(s->fields[1].name, "last");
    CHECK(s->fields[0].first == 2 && s->fields[0].nmembers == 2);
    CHECK(s->fields[2].flags == (EVT_F_STRUCT | EVT_F_COUNT_INLINE));
    CHECK(s->fields[2].first == 4 && s->fields[2].nmembers == 2);
    CHECK_STR(s->fields[3].name, "empty");
    CHECK(s->fields[3].flags == EVT_F_STRUCT && s->fields[3].nmembers == 0);
    CHECK_STR(s->fields[5].name, "v");
  }
  evt_registry_free(r);
}

/* Field tags after the OutMeta, and an event with no fields. */
static void
test_field_tags(void)
{
  struct evt_registry *r = new_registry();
  struct mb m;
  char err[200];
  mb_begin(&m, "Tagged");
  mb_field(&m, "t", 0x80 | EVT_IN_UINT32, 0x80 | 4); /* hex, tags follow */
  mb_u8(&m, 0x81);
  mb_u8(&m, 0x82);
  mb_u8(&m, 0x03);
  mb_field(&m, "u", EVT_IN_UINT8, 0);
  mb_end(&m);
  const struct evt_schema *s = compile_mb(r, &m, err);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->nfields == 2);
    CHECK(s->fields[0].out == EVT_OUT_HEXINT32);
    CHECK_STR(s->fields[1].name, "u");
  }
  mb_begin(&m, "");
  mb_end(&m);
  s = compile_mb(r, &m, err);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->nfields == 0 && s->ntop == 0);
    CHECK_STR(s->event_name, "");
  }
  evt_registry_free(r);
}

static void
test_out_types(void)
{
  static const struct {
    uint8_t tl_out, in;
    uint16_t want;
  } t[] = {
      {0, EVT_IN_UINT32, EVT_OUT_NULL},
      {1, EVT_IN_UINT32, EVT_OUT_NOPRINT},
      {2, EVT_IN_UINT8, EVT_OUT_STRING},
      {3, EVT_IN_UINT8, EVT_OUT_BOOLEAN},
      {4, EVT_IN_INT8, EVT_OUT_HEXINT8},
      {4, EVT_IN_UINT16, EVT_OUT_HEXINT16},
      {4, EVT_IN_INT32, EVT_OUT_HEXINT32},
      {4, EVT_IN_UINT64, EVT_OUT_HEXINT64},
      {4, 14, EVT_OUT_HEXBINARY},
      {4, EVT_IN_COUNTEDBINARY, EVT_OUT_HEXBINARY},
      {4, EVT_IN_DOUBLE, EVT_OUT_NULL},
      {5, EVT_IN_UINT32, EVT_OUT_PID},
      {6, EVT_IN_UINT32, EVT_OUT_TID},
      {7, EVT_IN_UINT16, EVT_OUT_PORT},
      {8, EVT_IN_UINT32, EVT_OUT_IPV4},
      {9, 14, EVT_OUT_IPV6},
      {10, 14, EVT_OUT_SOCKETADDRESS},
      {11, EVT_IN_UNICODESTRING, EVT_OUT_XML},
      {12, EVT_IN_ANSISTRING, EVT_OUT_JSON},
      {13, EVT_IN_UINT32, EVT_OUT_WIN32ERROR},
      {14, EVT_IN_UINT32, EVT_OUT_NTSTATUS},
      {15, EVT_IN_INT32, EVT_OUT_HRESULT},
      {16, EVT_IN_INT64, EVT_OUT_DATETIME},
      {17, EVT_IN_UINT8, EVT_OUT_BYTE},
      {17, EVT_IN_UINT16, EVT_OUT_SHORT},
      {17, EVT_IN_HEXINT32, EVT_OUT_INT},
      {17, EVT_IN_UINT64, EVT_OUT_LONG},
      {18, EVT_IN_INT8, EVT_OUT_UNSIGNEDBYTE},
      {18, EVT_IN_INT16, EVT_OUT_UNSIGNEDSHORT},
      {18, EVT_IN_INT32, EVT_OUT_UNSIGNEDINT},
      {18, EVT_IN_HEXINT64, EVT_OUT_UNSIGNEDLONG},
      {18, EVT_IN_FLOAT, EVT_OUT_NULL},
      {19, EVT_IN_UINT32, EVT_OUT_NULL},
      {31, EVT_IN_UINT32, EVT_OUT_NULL},
      {32, EVT_IN_INT32, EVT_OUT_HRESULT},
      {33, EVT_IN_FILETIME, EVT_OUT_CULTURE_INSENSITIVE_DATETIME},
      {35, EVT_IN_ANSISTRING, EVT_OUT_UTF8},
      {36, 14, EVT_OUT_PKCS7_WITH_TYPE_INFO},
      {37, EVT_IN_UINT64, EVT_OUT_CODE_POINTER},
      {38, EVT_IN_FILETIME, EVT_OUT_DATETIME_UTC},
      {39, EVT_IN_UINT32, EVT_OUT_NULL},
      {127, EVT_IN_UINT32, EVT_OUT_NULL},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    uint16_t got = evt_tlg_out_to_tdh(t[i].tl_out, t[i].in);
    CHECK(got == t[i].want);
    if (got != t[i].want)
      fprintf(stderr, "  out %u in %u: got %u want %u\n", t[i].tl_out, t[i].in,
              got, t[i].want);
  }

  /* Through the compiler: BINARY becomes counted, DATETIME_UTC flags. */
  struct evt_registry *r = new_registry();
  struct mb m;
  char err[200];
  mb_begin(&m, "Out");
  mb_field(&m, "bin", 0x80 | 14, 9);
  mb_field(&m, "utc", 0x80 | EVT_IN_FILETIME, 38);
  mb_field(&m, "ptr", 16, 0);
  mb_field(&m, "nul", 0, 0);
  mb_end(&m);
  const struct evt_schema *s = compile_mb(r, &m, err);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->fields[0].in == EVT_IN_COUNTEDBINARY);
    CHECK(s->fields[0].out == EVT_OUT_IPV6);
    CHECK(s->fields[1].out == EVT_OUT_DATETIME_UTC);
    CHECK(s->fields[1].flags == EVT_F_UTC);
    CHECK(s->fields[2].in == EVT_IN_POINTER);
    CHECK(s->fields[3].in == EVT_IN_NULL);
  }
  evt_registry_free(r);
}

/* Exactly EVT_TLG_MAX_DEPTH nested structs compile; one more does not. */
static void
build_deep(struct mb *m, int depth)
{
  mb_begin(m, "Deep");
  for (int i = 0; i < depth; i++)
    mb_field(m, "s", 0x80 | EVT_IN_STRUCT, 1);
  mb_field(m, "leaf", EVT_IN_UINT8, 0);
  mb_end(m);
}

static void
test_depth_limit(void)
{
  struct evt_registry *r = new_registry();
  struct mb m;
  char err[200];
  build_deep(&m, EVT_TLG_MAX_DEPTH);
  const struct evt_schema *s = compile_mb(r, &m, err);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->nfields == EVT_TLG_MAX_DEPTH + 1 && s->ntop == 1);
    /* Each struct's single member is the next slot. */
    for (int i = 0; i < EVT_TLG_MAX_DEPTH; i++)
      CHECK(s->fields[i].first == i + 1 && s->fields[i].nmembers == 1);
    CHECK_STR(s->fields[EVT_TLG_MAX_DEPTH].name, "leaf");
  }
  build_deep(&m, EVT_TLG_MAX_DEPTH + 1);
  CHECK(compile_mb(r, &m, err) == NULL);
  CHECK(strstr(err, "nested deeper") != NULL);
  evt_registry_free(r);
}

/* evt_tlg_schema: cache hits, provider name from the traits. */
static void
test_cache_and_traits(void)
{
  struct evt_registry *r = new_registry();
  size_t n;
  uint8_t *meta = unhex(hex_primitive, strlen(hex_primitive), &n);
  static const uint8_t traits[] = {15,  0,   's', 'o', 'l', 'a', 'r', '_',
                                   's', 'y', 's', 't', 'e', 'm', 0};
  struct etl_event ev;
  char err[200] = "";
  memset(&ev, 0, sizeof ev);
  memcpy(ev.provider, prov_a, 16);
  ev.tl_meta = meta;
  ev.tl_meta_len = (uint16_t)n;
  ev.tl_traits = traits;
  ev.tl_traits_len = sizeof traits;
  const struct evt_schema *s1 = evt_tlg_schema(r, &ev, err, sizeof err);
  const struct evt_schema *s2 = evt_tlg_schema(r, &ev, err, sizeof err);
  CHECK(s1 != NULL && s1 == s2);
  if (s1) CHECK_STR(s1->provider_name, "solar_system");
  CHECK_STR(evt_registry_provider_name(r, prov_a), "solar_system");

  /* Same bytes, other provider: a separate entry; broken traits are
   * ignored, not fatal. */
  static const uint8_t bad_traits[] = {40, 0, 'x', 'y'};
  memcpy(ev.provider, prov_b, 16);
  ev.tl_traits = bad_traits;
  ev.tl_traits_len = sizeof bad_traits;
  const struct evt_schema *s3 = evt_tlg_schema(r, &ev, err, sizeof err);
  CHECK(s3 != NULL && s3 != s1);
  if (s3) CHECK(s3->provider_name == NULL);
  CHECK(evt_registry_provider_name(r, prov_b) == NULL);

  /* Traits without a NUL inside their size are ignored too. */
  static const uint8_t unterminated[] = {4, 0, 'a', 'b', 0};
  ev.tl_traits = unterminated;
  ev.tl_traits_len = sizeof unterminated;
  meta[n - 1] ^= 1; /* another blob, so it is compiled again */
  CHECK(evt_tlg_schema(r, &ev, err, sizeof err) != NULL);
  CHECK(evt_registry_provider_name(r, prov_b) == NULL);

  /* No metadata at all. */
  ev.tl_meta = NULL;
  ev.tl_meta_len = 0;
  CHECK(evt_tlg_schema(r, &ev, err, sizeof err) == NULL);
  CHECK(strstr(err, "no TraceLogging metadata") != NULL);
  free(meta);
  evt_registry_free(r);
}

/* ---- error cases ------------------------------------------------------ */

static void
expect_fail(struct evt_registry *r, const uint8_t *p, size_t n,
            const char *needle, int line)
{
  char err[200];
  const struct evt_schema *s = compile(r, p, n, err, sizeof err);
  check_count++;
  if (s || !strstr(err, needle)) {
    check_failures++;
    fprintf(stderr, "%s:%d: want failure \"%s\", got %s \"%s\"\n", __FILE__,
            line, needle, s ? "success" : "failure", err);
  }
}

#define EXPECT_FAIL(r, p, n, needle) expect_fail(r, p, n, needle, __LINE__)

static void
test_errors(void)
{
  struct evt_registry *r = new_registry();
  struct mb m;

  static const uint8_t tiny[] = {3, 0, 0};
  EXPECT_FAIL(r, tiny, 0, "too short");
  EXPECT_FAIL(r, tiny, 1, "too short");
  EXPECT_FAIL(r, tiny, 3, "too short");

  /* Size larger than the item. */
  mb_begin(&m, "E");
  mb_field(&m, "f", EVT_IN_UINT8, 0);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n - 1, "declares");

  /* Tags that never end. */
  static const uint8_t tags[] = {6, 0, 0x81, 0x82, 0x83, 0x84};
  EXPECT_FAIL(r, tags, sizeof tags, "tags run past");

  /* Event name without NUL. */
  static const uint8_t ename[] = {6, 0, 0, 'a', 'b', 'c'};
  EXPECT_FAIL(r, ename, sizeof ename, "event name not terminated");

  /* Field name without NUL. */
  mb_begin(&m, "E");
  mb_str(&m, "f");
  m.n--; /* drop the NUL */
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "not terminated");

  /* Field name with no InMeta after it. */
  mb_begin(&m, "E");
  mb_str(&m, "f");
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "cut short");

  /* OutMeta announced but missing. */
  mb_begin(&m, "E");
  mb_str(&m, "f");
  mb_u8(&m, 0x80 | EVT_IN_UINT8);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "cut short");

  /* Field tags running off the end. */
  mb_begin(&m, "E");
  mb_field(&m, "f", 0x80 | EVT_IN_UINT8, 0x80);
  mb_u8(&m, 0x81);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "tags run past");

  /* ccount with only one byte of count. */
  mb_begin(&m, "E");
  mb_field(&m, "f", 0x20 | EVT_IN_UINT8, 0);
  mb_u8(&m, 3);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "cut short");

  /* custom type info longer than the blob. */
  mb_begin(&m, "E");
  mb_field(&m, "f", 0x60 | 14, 0);
  mb_u16(&m, 10);
  mb_u8(&m, 1);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "cut short");

  /* Unknown in-types. */
  for (uint8_t in = 26; in < 32; in++) {
    mb_begin(&m, "E");
    mb_field(&m, "f", in, 0);
    mb_end(&m);
    EXPECT_FAIL(r, m.b, m.n, "unknown in-type");
  }

  /* A struct that announces more fields than follow. */
  mb_begin(&m, "E");
  mb_field(&m, "s", 0x80 | EVT_IN_STRUCT, 3);
  mb_field(&m, "a", EVT_IN_UINT8, 0);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "missing 2");

  /* Nested: the inner struct is complete, the outer is not. */
  mb_begin(&m, "E");
  mb_field(&m, "o", 0x80 | EVT_IN_STRUCT, 2);
  mb_field(&m, "i", 0x80 | EVT_IN_STRUCT, 1);
  mb_field(&m, "a", EVT_IN_UINT8, 0);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "struct 'o' is missing 1");

  /* A custom struct is meaningless. */
  mb_begin(&m, "E");
  mb_field(&m, "s", 0x80 | 0x60 | EVT_IN_STRUCT, 1);
  mb_u16(&m, 0);
  mb_field(&m, "a", EVT_IN_UINT8, 0);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "custom struct");

  /* Deep nesting (also in test_depth_limit), with empty innermost. */
  mb_begin(&m, "E");
  for (int i = 0; i < EVT_TLG_MAX_DEPTH; i++)
    mb_field(&m, "s", 0x80 | EVT_IN_STRUCT, 1);
  mb_field(&m, "z", 0x80 | EVT_IN_STRUCT, 0);
  mb_end(&m);
  EXPECT_FAIL(r, m.b, m.n, "nested deeper");

  /* A NULL err buffer is allowed. */
  CHECK(evt_tlg_compile(r, prov_a, NULL, tiny, 1, NULL, 0) == NULL);
  evt_registry_free(r);
}

/* A deterministic generator, so failures reproduce. */
static uint32_t rng_state = 0x2545F491u;

static uint32_t
rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* Every prefix (with Size patched to match) and random byte flips of the
 * real blobs: each either compiles or fails with a message; the
 * sanitizers watch the reads. A compiled schema is checked for a valid
 * layout. */
static void
check_layout(const struct evt_schema *s)
{
  CHECK(s->ntop <= s->nfields);
  for (uint16_t i = 0; i < s->nfields; i++) {
    const struct evt_field *f = &s->fields[i];
    CHECK(f->name != NULL);
    if (f->flags & EVT_F_STRUCT)
      CHECK(f->nmembers == 0 ||
            (f->first >= s->ntop && f->first > i &&
             (uint32_t)f->first + f->nmembers <= s->nfields));
  }
}

static void
test_sweep(void)
{
  static const char *const vec[] = {hex_primitive, hex_amsi, hex_selfdesc,
                                    hex_ebpf_guids, hex_ebpf_error};
  struct evt_registry *r = new_registry();
  char err[200];
  unsigned ok = 0, bad = 0;
  for (size_t v = 0; v < sizeof vec / sizeof vec[0]; v++) {
    size_t n;
    uint8_t *b = unhex(vec[v], strlen(vec[v]), &n);
    uint8_t *c = malloc(n);
    if (!c) exit(1);
    for (size_t k = 0; k <= n; k++) {
      memcpy(c, b, k);
      if (k >= 2) {
        c[0] = (uint8_t)k;
        c[1] = (uint8_t)(k >> 8);
      }
      const struct evt_schema *s = compile(r, c, k, err, sizeof err);
      if (s) {
        check_layout(s);
        ok++;
      } else {
        CHECK(err[0] != 0);
        bad++;
      }
    }
    for (int i = 0; i < 2000; i++) {
      memcpy(c, b, n);
      int flips = 1 + (int)(rng() % 4);
      for (int j = 0; j < flips; j++)
        c[rng() % n] = (uint8_t)rng();
      const struct evt_schema *s = compile(r, c, n, err, sizeof err);
      if (s)
        check_layout(s);
      else
        CHECK(err[0] != 0);
    }
    free(c);
    free(b);
  }
  CHECK(ok > 0 && bad > 0);
  evt_registry_free(r);
}

/* ---- real data -------------------------------------------------------- */

static char *
read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap + 1);
  while (b) {
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    char *nb = realloc(b, cap * 2 + 1);
    if (!nb) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  fclose(f);
  if (b) {
    b[n] = 0;
    *len = n;
  }
  return b;
}

/* Compile every EventSchema of one dissect.etl reference file, with the
 * ProviderName that precedes it as traits. Returns the schema of the
 * first one (for further checks) or NULL. */
static const struct evt_schema *
compile_reference(struct evt_registry *r, const char *file, uint8_t tag,
                  unsigned *count)
{
  char path[512];
  size_t len;
  snprintf(path, sizeof path, "%s/reference/%s", CORPUS, file);
  char *text = read_file(path, &len);
  const struct evt_schema *first = NULL;
  CHECK(text != NULL);
  if (!text) return NULL;
  static const char key[] = "\"EventSchema\": \"";
  static const char pkey[] = "\"ProviderName\": \"";
  for (char *p = strstr(text, key); p; p = strstr(p, key)) {
    p += sizeof key - 1;
    size_t hl = strspn(p, "0123456789abcdef"), mn;
    uint8_t *meta = unhex(p, hl, &mn);
    /* The provider name is logged just before, on the same line. */
    char *line = p;
    while (line > text && line[-1] != '\n')
      line--;
    char *pn = strstr(line, pkey);
    uint8_t traits[256];
    size_t tn = 0;
    if (pn && pn < p) {
      pn += sizeof pkey - 1;
      size_t nl;
      uint8_t *name = unhex(pn, strspn(pn, "0123456789abcdef"), &nl);
      if (nl + 3 <= sizeof traits) {
        tn = nl + 3;
        traits[0] = (uint8_t)tn;
        traits[1] = 0;
        memcpy(traits + 2, name, nl);
        traits[2 + nl] = 0;
      }
      free(name);
    }
    struct etl_event ev;
    char err[200] = "";
    memset(&ev, 0, sizeof ev);
    memcpy(ev.provider, prov_b, 16);
    ev.provider[0] = tag; /* one provider per file */
    ev.tl_meta = meta;
    ev.tl_meta_len = (uint16_t)mn;
    ev.tl_traits = tn ? traits : NULL;
    ev.tl_traits_len = (uint16_t)tn;
    const struct evt_schema *s = evt_tlg_schema(r, &ev, err, sizeof err);
    CHECK(s != NULL);
    if (!s) fprintf(stderr, "%s: %s\n", file, err);
    if (s && !first) first = s;
    (*count)++;
    free(meta);
  }
  free(text);
  return first;
}

/* The names TraceEvent printed for the first PrimitiveTypesTest event:
 * "...; DataLen=78; string_type=Mercury; boolean_type=False; ..." */
static void
check_baseline_names(const struct evt_schema *s)
{
  char path[512];
  size_t len;
  snprintf(path, sizeof path, "%s/reference/%s", CORPUS,
           "perfview__primitive-types.perfview-baseline.txt");
  char *text = read_file(path, &len);
  CHECK(text != NULL);
  if (!text) return;
  char *ev = strstr(text, "solar_system/PrimitiveTypesTest");
  char *p = ev ? strstr(ev, "DataLen=") : NULL;
  CHECK(p != NULL);
  uint16_t i = 0;
  while (p && (p = strstr(p, "; ")) != NULL) {
    p += 2;
    char *eq = strchr(p, '=');
    char *nl = strchr(p, '\n');
    if (!eq || (nl && nl < eq)) break;
    CHECK(i < s->nfields);
    if (i < s->nfields) {
      size_t kl = (size_t)(eq - p);
      check_count++;
      if (strlen(s->fields[i].name) != kl ||
          memcmp(s->fields[i].name, p, kl) != 0) {
        check_failures++;
        fprintf(stderr, "baseline field %u: got %s, want %.*s\n", i,
                s->fields[i].name, (int)kl, p);
      }
    }
    i++;
  }
  CHECK(i == s->nfields);
  free(text);
}

static int
test_corpus(void)
{
  FILE *f = fopen(CORPUS "/README.md", "rb");
  if (!f) {
    fprintf(stderr, "test_tlg: %s absent, real-data checks skipped\n", CORPUS);
    return 0;
  }
  fclose(f);
  struct evt_registry *r = new_registry();
  unsigned n = 0;
  const struct evt_schema *s =
      compile_reference(r, "perfview__primitive-types.dissect.jsonl", 1, &n);
  CHECK(n == 5);
  if (s) {
    CHECK_STR(s->event_name, "PrimitiveTypesTest");
    CHECK_STR(s->provider_name, "solar_system");
    check_baseline_names(s);
  }
  n = 0;
  s = compile_reference(r, "etl-parser__AMSITrace.dissect.jsonl", 2, &n);
  CHECK(n == 19);
  if (s) {
    CHECK_STR(s->event_name, "AmsiScript");
    CHECK_STR(s->provider_name, "AmsiTrace");
  }
  n = 0;
  s = compile_reference(r, "perfview__SelfDescribingSingleEvent.dissect.jsonl",
                        3, &n);
  CHECK(n == 1);
  if (s) {
    CHECK_STR(s->provider_name, "MySource");
    CHECK(s->ntop == 1 && s->fields[0].flags == EVT_F_STRUCT);
  }
  evt_registry_free(r);
  return 1;
}

int
main(void)
{
  test_primitive_types();
  test_amsi_vcount();
  test_selfdesc_struct();
  test_ebpf_tags();
  test_nested_layout();
  test_struct_arrays();
  test_field_tags();
  test_out_types();
  test_depth_limit();
  test_cache_and_traits();
  test_errors();
  test_sweep();
  test_corpus();
  return check_result();
}
