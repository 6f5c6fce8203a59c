/*
 * test_tei.c - unit test of the EventMetadata compiler (etwcat/evt_tei.c):
 * TRACE_EVENT_INFO (opcode 32) and EVENT_MAP_INFO (opcode 33) blobs.
 *
 * Regular cases: three blobs taken from perfview__net.4.5.2.x64.etl
 * (DNS-Client event 1001 with a length field and a value map, its map,
 * and DotNETRuntime BulkType with an array of structs whose member array
 * is counted by a sibling), hand-built manifest and MOF blobs covering
 * names, keyword lists, fixed and field lengths and counts, custom
 * properties, maps of every kind and UTF-16 edge cases. Error cases:
 * short blobs, counts and offsets out of range, strings without a NUL,
 * bad struct slices (past the end, top level, shared, cyclic, too deep),
 * bad count/length indexes, unknown in-types and decoding sources, text
 * budget exhaustion, plus every prefix and random mutations of the real
 * blobs (run under ASan/UBSan). When ../shared/corpus/etl exists, all 85
 * EventMetadata records of perfview__net.4.5.2.x64.etl (a compressed
 * trace, walked here with etwcat/etl_lzx.c) are loaded and every map a
 * schema names must resolve; without it that check is skipped.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_lzx.h"
#include "etwcat/evt_registry.h"
#include "etwcat/evt_tei.h"
#include "lib/bytes.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS "../shared/corpus/etl"

/* EventMetadata payloads from perfview__net.4.5.2.x64.etl: DNS-Client
 * event 1001 (opcode 32), its map DnsIpTypeMap (opcode 33) and
 * DotNETRuntime BulkType, event 15 (opcode 32). */
static const char hex_dns1001[] =
    "6e12951cea7ea949a3fea378b03ddb4d00000000000000000000000000000000e9030010"
    "0400e903000000000000008000000000a6010000e0010000040200000000000056020000"
    "82020000940200001e03000068030000f402000000000000000000000600000006000000"
    "010000000000000000010000010001000000000001000000000000000000000014010000"
    "080008000000000001000400000000000000000036010000080008000000000001000400"
    "00000000000000004201000004000400600100000100010000000000000000007a010000"
    "0800080000000000010004000000000002000000960100000e0019000000000001000400"
    "0000000049006e007400650072006600610063006500000054006f00740061006c005300"
    "6500720076006500720043006f0075006e007400000049006e0064006500780000004400"
    "79006e0061006d00690063004100640064007200650073007300000044006e0073004900"
    "700054007900700065004d0061007000000041006400640072006500730073004c006500"
    "6e006700740068000000410064006400720065007300730000004d006900630072006f00"
    "73006f00660074002d00570069006e0064006f00770073002d0044004e0053002d004300"
    "6c00690065006e0074000000770069006e003a0049006e0066006f0072006d0061007400"
    "69006f006e0061006c0000004d006900630072006f0073006f00660074002d0057006900"
    "6e0064006f00770073002d0044004e0053002d0043006c00690065006e0074002f004f00"
    "7000650072006100740069006f006e0061006c00000044006e0073005300650072007600"
    "6500720046006f00720049006e0074006500720066006100630065000000770069006e00"
    "3a0049006e0066006f00000049006e0074006500720066006100630065003a0020002500"
    "3100200054006f00740061006c00200044004e0053002000530065007200760065007200"
    "200043006f0075006e0074003a00200025003200200049006e006400650078003a002000"
    "25003300200041006400640072006500730073003a002000250036002000280025003400"
    "2900200000004d006900630072006f0073006f00660074002d00570069006e0064006f00"
    "770073002d0044004e005300200043006c00690065006e00740020004500760065006e00"
    "74007300200000000f01010001ffffc6010000448209004500760065006e007400440061"
    "007400610000000241ffff3d0000008a6f04004400610074006100000025000000064b95"
    "04004e0061006d00650000000501090049006e007400650072006600610063006500020d"
    "0000010441ffff4b0000008a6f04004400610074006100000033000000064b9504004e00"
    "61006d00650000000501100054006f00740061006c005300650072007600650072004300"
    "6f0075006e007400020d0100080441ffff350000008a6f0400440061007400610000001d"
    "000000064b9504004e0061006d00650000000501050049006e00640065007800020d0200"
    "080441ffff470000008a6f0400440061007400610000002f000000064b9504004e006100"
    "6d006500000005010e00440079006e0061006d0069006300410064006400720065007300"
    "7300020d0300040441ffff450000008a6f0400440061007400610000002d000000064b95"
    "04004e0061006d006500000005010d0041006400640072006500730073004c0065006e00"
    "670074006800020d0400080441ffff390000008a6f040044006100740061000000210000"
    "00064b9504004e0061006d0065000000050107004100640064007200650073007300020d"
    "05000e040400000000000000010100000000000000000000401700000000000008080000"
    "000000000000000058170000000000000808000000000000000000008017000000000000"
    "0404000094010000000000009017000000000000080800000000000000000000b4170000"
    "040000000e1900000000000000000400d41700001800000049006e007400650072006600"
    "61006300650000002800000054006f00740061006c005300650072007600650072004300"
    "6f0075006e007400000000001000000049006e0064006500780000002400000044007900"
    "6e0061006d00690063004100640064007200650073007300000000002000000041006400"
    "640072006500730073004c0065006e006700740068000000140000004100640064007200"
    "6500730073000000";
static const char hex_dnsmap[] =
    "6e12951cea7ea949a3fea378b03ddb4d2800000001000000020000000000000042000000"
    "000000005200000001000000000000000000000044006e00730049007000540079007000"
    "65004d0061007000000073007400610074006900630020000000640079006e0061006d00"
    "6900630020000000";
static const char hex_bulktype[] =
    "230d3ce1bccc124e931bd9cc2eee27e49b5a3e0057473e4db4a1e47bfb4894080f000000"
    "040a150000000800000000000000000076020000b602000000000000da020000f4020000"
    "fe02000010030000000000004a0300008402000000000000000000000b00000003000000"
    "020000000000000078010000080008000000000001000400000000000000000084010000"
    "0600060000000000010002000000000005000000a0010000030008000000000000000000"
    "0000000000000000ae0100000a00130000000000010008000000000000000000bc010000"
    "0a00130000000000010008000000000000000000ce010000080008000000000001000400"
    "0000000000000000e401000008000800f00100000100040000000000000000000a020000"
    "040004000000000001000100000000000000000028020000010001000000000001000000"
    "000000000000000032020000080008000000000001000400000000000400000058020000"
    "0a00130000000000090008000000000043006f0075006e007400000043006c0072004900"
    "6e007300740061006e0063006500490044000000560061006c0075006500730000005400"
    "7900700065004900440000004d006f00640075006c006500490044000000540079007000"
    "65004e0061006d00650049004400000046006c0061006700730000005400790070006500"
    "46006c006100670073004d0061007000000043006f00720045006c0065006d0065006e00"
    "7400540079007000650000004e0061006d00650000005400790070006500500061007200"
    "61006d00650074006500720043006f0075006e0074000000540079007000650050006100"
    "720061006d006500740065007200730000004d006900630072006f0073006f0066007400"
    "2d00570069006e0064006f00770073002d0044006f0074004e0045005400520075006e00"
    "740069006d0065000000770069006e003a0049006e0066006f0072006d00610074006900"
    "6f006e0061006c00000054007900700065004b006500790077006f007200640000000000"
    "54007900700065000000420075006c006b005400790070006500000043006f0075006e00"
    "74003d00250031003b000d000a0043006c00720049006e007300740061006e0063006500"
    "490044003d0025003200200000000f01010041ffff7b0000009aee040054007900700065"
    "0000001d00000006bc0f050078006d006c006e0073000000050104006d0079004e007300"
    "0201ffff160000008f91050043006f0075006e0074000000020d0000080401ffff260000"
    "00398c0d0043006c00720049006e007300740061006e0063006500490044000000020d01"
    "000604040000000000000808000000000000000000008cd2000000000000060600000000"
    "0000000000009cd2000011000000030008000000000000000000bcd20000000000000a13"
    "00000000000000000000d0d20000000000000a1300000000000000000000e4d200000000"
    "0000080800000000000000000000fcd200000000000008080000f00500000000000018d3"
    "00000000000004040000000000000000000028d300000000000001010000000000000000"
    "00004cd30000000000000808000000000000000000005cd30000100000000a1300000000"
    "00000900000088d300001000000043006f0075006e00740000002000000043006c007200"
    "49006e007300740061006e006300650049004400000014000000560061006c0075006500"
    "7300000000001400000054007900700065004900440000000000180000004d006f006400"
    "75006c00650049004400000000001c00000054007900700065004e0061006d0065004900"
    "4400000000001000000046006c0061006700730000002400000043006f00720045006c00"
    "65006d0065006e007400540079007000650000000000100000004e0061006d0065000000"
    "00002c000000540079007000650050006100720061006d00650074006500720043006f00"
    "75006e0074000000000024000000540079007000650050006100720061006d0065007400"
    "65007200730000000000";

static int
hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void *
xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "test_tei: out of memory\n");
    exit(1);
  }
  return p;
}

/* unhex - decode a hex string into a malloc'd buffer. */
static uint8_t *
unhex(const char *h, size_t *len)
{
  size_t n = strlen(h), k = 0;
  uint8_t *b = xmalloc(n / 2);
  for (size_t i = 0; i + 1 < n; i += 2)
    b[k++] = (uint8_t)(hexval(h[i]) << 4 | hexval(h[i + 1]));
  *len = k;
  return b;
}

static struct evt_registry *
new_registry(void)
{
  struct evt_registry *r = evt_registry_new();
  if (!r) {
    fprintf(stderr, "test_tei: out of memory\n");
    exit(1);
  }
  return r;
}

/* ---- blob builders ---------------------------------------------------- */

struct tb {
  uint8_t b[65536];
  size_t n;
};

static void
tb_put16(struct tb *t, size_t at, uint16_t v)
{
  t->b[at] = (uint8_t)v;
  t->b[at + 1] = (uint8_t)(v >> 8);
}

static void
tb_put32(struct tb *t, size_t at, uint32_t v)
{
  tb_put16(t, at, (uint16_t)v);
  tb_put16(t, at + 2, (uint16_t)(v >> 16));
}

static size_t
tb_grow(struct tb *t, size_t n)
{
  size_t at = t->n;
  if (sizeof t->b - t->n < n) {
    fprintf(stderr, "test_tei: builder full\n");
    exit(1);
  }
  memset(t->b + at, 0, n);
  t->n += n;
  return at;
}

/* tb_units - append UTF-16 units and a NUL; returns the offset (from
 * base). */
static uint32_t
tb_units(struct tb *t, size_t base, const uint16_t *u, size_t n)
{
  size_t at = tb_grow(t, 2 * n + 2);
  for (size_t i = 0; i < n; i++)
    tb_put16(t, at + 2 * i, u[i]);
  return (uint32_t)(at - base);
}

/* tb_wstr - append an ASCII string as UTF-16LE + NUL; 0 for NULL. */
static uint32_t
tb_wstr(struct tb *t, size_t base, const char *s)
{
  uint16_t u[512];
  size_t n = 0;
  if (!s) return 0;
  while (s[n] && n < 512) {
    u[n] = (uint8_t)s[n];
    n++;
  }
  return tb_units(t, base, u, n);
}

struct tprop {
  uint32_t flags;
  const char *name;
  uint16_t a, b; /* in/out, or struct start/count */
  const char *map;
  uint16_t count, length;
};

struct tinfo {
  uint8_t prov[16], eguid[16];
  uint16_t id;
  uint8_t version, opcode;
  uint32_t ds;
  const char *pname, *level, *chan, *task, *opc, *msg, *evname;
  const char *kw[4];
  uint32_t pc, tpc;
};

/* build_tei - a TRACE_EVENT_INFO in t: header, properties, strings. */
static void
build_tei(struct tb *t, const struct tinfo *ti, const struct tprop *p)
{
  t->n = 0;
  tb_grow(t, 112 + 24 * (size_t)ti->pc);
  memcpy(t->b, ti->prov, 16);
  memcpy(t->b + 16, ti->eguid, 16);
  tb_put16(t, 32, ti->id);
  t->b[34] = ti->version;
  t->b[36] = 4; /* level */
  t->b[37] = ti->opcode;
  tb_put32(t, 48, ti->ds);
  tb_put32(t, 100, ti->pc);
  tb_put32(t, 104, ti->tpc);
  for (uint32_t i = 0; i < ti->pc; i++) {
    size_t at = 112 + 24 * (size_t)i;
    tb_put32(t, at, p[i].flags);
    tb_put32(t, at + 4, tb_wstr(t, 0, p[i].name));
    tb_put16(t, at + 8, p[i].a);
    tb_put16(t, at + 10, p[i].b);
    tb_put32(t, at + 12, tb_wstr(t, 0, p[i].map));
    tb_put16(t, at + 16, p[i].count);
    tb_put16(t, at + 18, p[i].length);
  }
  tb_put32(t, 52, tb_wstr(t, 0, ti->pname));
  tb_put32(t, 56, tb_wstr(t, 0, ti->level));
  tb_put32(t, 60, tb_wstr(t, 0, ti->chan));
  tb_put32(t, 68, tb_wstr(t, 0, ti->task));
  tb_put32(t, 72, tb_wstr(t, 0, ti->opc));
  tb_put32(t, 76, tb_wstr(t, 0, ti->msg));
  tb_put32(t, 92, tb_wstr(t, 0, ti->evname));
  if (ti->kw[0]) {
    tb_put32(t, 64, tb_wstr(t, 0, ti->kw[0]));
    for (int k = 1; k < 4 && ti->kw[k]; k++)
      tb_wstr(t, 0, ti->kw[k]);
    tb_wstr(t, 0, ""); /* the list ends with an empty string */
  }
}

struct tmap {
  uint8_t prov[16];
  const char *name;
  uint32_t flag, vtype, n;
  uint32_t value[8];
  const char *out[8];
};

/* build_map - GUID + EVENT_MAP_INFO; offsets count from after the GUID. */
static void
build_map(struct tb *t, const struct tmap *m)
{
  t->n = 0;
  tb_grow(t, 16 + 16 + 8 * (size_t)m->n);
  memcpy(t->b, m->prov, 16);
  tb_put32(t, 16, tb_wstr(t, 16, m->name));
  tb_put32(t, 20, m->flag);
  tb_put32(t, 24, m->n);
  tb_put32(t, 28, m->vtype);
  for (uint32_t i = 0; i < m->n; i++) {
    tb_put32(t, 32 + 8 * (size_t)i, tb_wstr(t, 16, m->out[i]));
    tb_put32(t, 36 + 8 * (size_t)i, m->value[i]);
  }
}

static const uint8_t prov_x[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                   0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
                                   0xdd, 0xee, 0xff, 0x01};
static const uint8_t class_y[16] = {0x90, 0x80, 0x70, 0x60, 0x50, 0x40,
                                    0x30, 0x20, 0x10, 0x00, 0x01, 0x02,
                                    0x03, 0x04, 0x05, 0x06};

static int
load_tei(struct evt_registry *r, const struct tb *t, char *err)
{
  err[0] = 0;
  return evt_tei_load_event_info(r, t->b, t->n, err, 200);
}

static int
load_map(struct evt_registry *r, const struct tb *t, char *err)
{
  err[0] = 0;
  return evt_tei_load_map_info(r, t->b, t->n, err, 200);
}

/* check_schema - the invariants the decoder relies on. */
static void
check_schema(const struct evt_schema *s)
{
  CHECK(s->ntop <= s->nfields);
  for (uint32_t i = 0; i < s->nfields; i++) {
    const struct evt_field *f = &s->fields[i];
    CHECK(f->name != NULL);
    if (f->flags & EVT_F_STRUCT)
      CHECK(f->nmembers == 0 ||
            (f->first >= s->ntop &&
             (uint32_t)f->first + f->nmembers <= s->nfields));
    if (f->flags & EVT_F_COUNT_FIELD)
      CHECK(f->count < i && !(s->fields[f->count].flags & EVT_F_STRUCT));
    if (f->flags & EVT_F_LEN_FIELD)
      CHECK(f->len < i && !(s->fields[f->len].flags & EVT_F_STRUCT));
  }
}

/* ---- regular cases ---------------------------------------------------- */

static void
test_dns_real(void)
{
  struct evt_registry *r = new_registry();
  char err[200] = "";
  size_t n, mn;
  uint8_t *p = unhex(hex_dns1001, &n);
  uint8_t *m = unhex(hex_dnsmap, &mn);
  CHECK(n == 1628 && mn == 116);
  CHECK(evt_tei_load_event_info(r, p, n, err, sizeof err) == 0);
  const struct evt_schema *s = evt_registry_find(r, p, false, 1001, 0);
  CHECK(s != NULL);
  if (s) {
    check_schema(s);
    CHECK_STR(s->provider_name, "Microsoft-Windows-DNS-Client");
    CHECK(s->level_name == NULL);  /* "win:Informational" */
    CHECK(s->opcode_name == NULL); /* "win:Info" */
    CHECK_STR(s->task_name, "DnsServerForInterface");
    CHECK_STR(s->channel_name, "Microsoft-Windows-DNS-Client/Operational");
    CHECK_STR(s->message, "Interface: %1 Total DNS Server Count: %2 "
                          "Index: %3 Address: %6 (%4)");
    CHECK(s->keywords_name == NULL);
    CHECK(s->event_name == NULL);
    CHECK_STR(s->source, "TRACE_EVENT_INFO");
    CHECK(s->nfields == 6 && s->ntop == 6);
    static const char *const names[] = {"Interface",     "TotalServerCount",
                                        "Index",         "DynamicAddress",
                                        "AddressLength", "Address"};
    for (int i = 0; i < 6 && i < s->nfields; i++)
      CHECK_STR(s->fields[i].name, names[i]);
    const struct evt_field *f = s->fields;
    CHECK(f[0].in == EVT_IN_UNICODESTRING && f[0].flags == 0);
    CHECK(f[1].in == EVT_IN_UINT32 && f[1].flags == 0); /* length 4 gone */
    CHECK(f[3].in == EVT_IN_UINT8 && f[3].map == NULL);
    CHECK_STR(f[3].map_name, "DnsIpTypeMap");
    CHECK(f[5].in == EVT_IN_BINARY && f[5].out == EVT_OUT_SOCKETADDRESS);
    CHECK(f[5].flags == EVT_F_LEN_FIELD && f[5].len == 4);
  }
  CHECK_STR(evt_registry_provider_name(r, p), "Microsoft-Windows-DNS-Client");

  /* The map arrives later; it resolves lazily, and a reload binds it. */
  CHECK(evt_tei_load_map_info(r, m, mn, err, sizeof err) == 0);
  const struct evt_map *map = evt_registry_find_map(r, p, "DnsIpTypeMap");
  CHECK(map != NULL);
  if (map) {
    CHECK(!map->bitmap && map->n == 2);
    CHECK(map->e[0].value == 0 && map->e[1].value == 1);
    CHECK_STR(map->e[0].name, "static");
    CHECK_STR(map->e[1].name, "dynamic");
  }
  CHECK(evt_tei_load_event_info(r, p, n, err, sizeof err) == 0);
  s = evt_registry_find(r, p, false, 1001, 0);
  CHECK(s && s->fields[3].map == map);

  /* Through evt_tei_load with an event view. */
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  memcpy(ev.provider, evt_tei_provider, 16);
  ev.opcode = EVT_TEI_OPCODE_MAP_INFO;
  ev.data = m;
  ev.data_len = (uint32_t)mn;
  CHECK(evt_tei_is_metadata(&ev));
  CHECK(evt_tei_load(r, &ev, err, sizeof err) == 0);
  ev.opcode = EVT_TEI_OPCODE_EVENT_INFO;
  ev.data = p;
  ev.data_len = (uint32_t)n;
  CHECK(evt_tei_load(r, &ev, err, sizeof err) == 0);
  ev.opcode = 34; /* unknown opcodes are ignored */
  CHECK(evt_tei_load(r, &ev, err, sizeof err) == 0);
  ev.provider[0] ^= 1;
  CHECK(!evt_tei_is_metadata(&ev));
  CHECK(evt_tei_load(r, &ev, err, sizeof err) == -1);
  CHECK(strstr(err, "not an EventMetadata") != NULL);
  free(p);
  free(m);
  evt_registry_free(r);
}

static void
test_bulktype_real(void)
{
  struct evt_registry *r = new_registry();
  char err[200] = "";
  size_t n;
  uint8_t *p = unhex(hex_bulktype, &n);
  CHECK(evt_tei_load_event_info(r, p, n, err, sizeof err) == 0);
  const struct evt_schema *s = evt_registry_find(r, p, false, 15, 0);
  CHECK(s != NULL);
  if (s) {
    check_schema(s);
    CHECK_STR(s->provider_name, "Microsoft-Windows-DotNETRuntime");
    CHECK_STR(s->task_name, "Type");
    CHECK_STR(s->opcode_name, "BulkType");
    CHECK_STR(s->keywords_name, "TypeKeyword");
    CHECK_STR(s->message, "Count=%1;\r\nClrInstanceID=%2");
    CHECK(s->nfields == 11 && s->ntop == 3);
    const struct evt_field *f = s->fields;
    CHECK_STR(f[2].name, "Values");
    CHECK(f[2].flags == (EVT_F_STRUCT | EVT_F_COUNT_FIELD));
    CHECK(f[2].first == 3 && f[2].nmembers == 8 && f[2].count == 0);
    CHECK_STR(f[6].map_name, "TypeFlagsMap");
    CHECK_STR(f[10].name, "TypeParameters");
    CHECK(f[10].flags == EVT_F_COUNT_FIELD && f[10].count == 9);
    CHECK(f[10].in == EVT_IN_UINT64 && f[10].out == EVT_OUT_HEXINT64);
  }
  free(p);
  evt_registry_free(r);
}

static void
test_hand_manifest(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  char err[200];
  struct tinfo ti = {.id = 7, .version = 3, .opcode = 1, .ds = 0};
  memcpy(ti.prov, prov_x, 16);
  ti.pname = "My-Provider";
  ti.level = "win:Informational";
  ti.chan = "My-Provider/Operational";
  ti.task = "MyTask";
  ti.opc = "win:Start";
  ti.msg = "Hello %1  ";
  ti.evname = "MyEvent";
  ti.kw[0] = "K1";
  ti.kw[1] = "K2";
  static const struct tprop p[] = {
      {0, "Count", EVT_IN_UINT32, 0, NULL, 1, 4},
      {0x10, "Name", EVT_IN_UNICODESTRING, 0, NULL, 1, 8},
      {0x4, "Arr", EVT_IN_UINT16, 0, NULL, 0, 2},
      {0x20, "Fixed", EVT_IN_UINT8, 0, NULL, 1, 1},
      {0, "Old", EVT_IN_UINT32, EVT_OUT_HEXINT32, NULL, 3, 4},
      {0x2, "Blob", EVT_IN_BINARY, 0, NULL, 1, 0},
      {0x80, "Cust", EVT_IN_BINARY, 0, NULL, 1, 0},
      {0, "Mapped", EVT_IN_UINT32, 0, "M1", 1, 4},
      {0, "Ansi", EVT_IN_ANSISTRING, 0, NULL, 1, 5},
      {0, "Wbem", EVT_IN_WBEM_SID, 0, NULL, 1, 0},
      {0, NULL, EVT_IN_UINT8, 0, NULL, 1, 0},
  };
  ti.pc = ti.tpc = sizeof p / sizeof p[0];
  build_tei(t, &ti, p);
  CHECK(load_tei(r, t, err) == 0);
  const struct evt_schema *s = evt_registry_find(r, prov_x, false, 7, 3);
  CHECK(s != NULL);
  if (s) {
    check_schema(s);
    CHECK(!s->classic && s->opcode == 1);
    CHECK_STR(s->provider_name, "My-Provider");
    CHECK(s->level_name == NULL && s->opcode_name == NULL);
    CHECK_STR(s->task_name, "MyTask");
    CHECK_STR(s->channel_name, "My-Provider/Operational");
    CHECK_STR(s->message, "Hello %1");
    CHECK_STR(s->event_name, "MyEvent");
    CHECK_STR(s->keywords_name, "K1 K2");
    const struct evt_field *f = s->fields;
    CHECK(f[0].flags == 0 && f[0].len == 0);
    CHECK(f[1].flags == EVT_F_LEN_FIXED && f[1].len == 8);
    CHECK(f[2].flags == EVT_F_COUNT_FIELD && f[2].count == 0);
    CHECK(f[3].flags == EVT_F_COUNT_FIXED && f[3].count == 1);
    CHECK(f[4].flags == EVT_F_COUNT_FIXED && f[4].count == 3);
    CHECK(f[4].out == EVT_OUT_HEXINT32);
    CHECK(f[5].flags == EVT_F_LEN_FIELD && f[5].len == 0);
    CHECK(f[6].flags == EVT_F_CUSTOM && f[6].map_name == NULL);
    CHECK_STR(f[7].map_name, "M1");
    CHECK(f[8].flags == EVT_F_LEN_FIXED && f[8].len == 5);
    CHECK(f[9].in == EVT_IN_WBEM_SID);
    CHECK_STR(f[10].name, "");
  }
  CHECK_STR(evt_registry_provider_name(r, prov_x), "My-Provider");
  free(t);
  evt_registry_free(r);
}

static void
test_hand_mof(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  char err[200];
  struct tinfo ti = {.id = 0, .version = 2, .opcode = 10, .ds = 1};
  memcpy(ti.prov, prov_x, 16);
  memcpy(ti.eguid, class_y, 16);
  ti.pname = "MSNT_SystemTrace";
  ti.task = "Process";
  ti.opc = "Start";
  static const struct tprop p[] = {
      {0, "ProcessId", EVT_IN_UINT32, 0, NULL, 1, 4},
      {0, "ImageFileName", EVT_IN_ANSISTRING, 0, NULL, 1, 0},
  };
  ti.pc = ti.tpc = 2;
  build_tei(t, &ti, p);
  CHECK(load_tei(r, t, err) == 0);
  const struct evt_schema *s = evt_registry_find(r, class_y, true, 10, 2);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->classic);
    CHECK_STR(s->event_name, "Process/Start");
    CHECK_STR(s->task_name, "Process");
    CHECK_STR(s->opcode_name, "Start");
    CHECK_STR(s->provider_name, "MSNT_SystemTrace");
    CHECK(s->nfields == 2);
  }
  CHECK(evt_registry_find(r, prov_x, false, 0, 2) == NULL);
  CHECK(evt_registry_provider_name(r, prov_x) == NULL);

  /* No opcode name: the class name alone. */
  ti.opc = NULL;
  ti.version = 3;
  build_tei(t, &ti, p);
  CHECK(load_tei(r, t, err) == 0);
  s = evt_registry_find(r, class_y, true, 10, 3);
  CHECK(s && s->event_name && strcmp(s->event_name, "Process") == 0);

  /* WPP and TraceLogging blobs are skipped. */
  ti.version = 4;
  ti.ds = 2;
  build_tei(t, &ti, p);
  CHECK(load_tei(r, t, err) == 0);
  ti.ds = 3;
  build_tei(t, &ti, p);
  CHECK(load_tei(r, t, err) == 0);
  CHECK(evt_registry_find(r, class_y, true, 10, 4) == NULL);
  CHECK(evt_registry_find(r, prov_x, false, 0, 4) == NULL);
  free(t);
  evt_registry_free(r);
}

static void
test_hand_maps(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  char err[200];
  struct tmap m = {.name = "Bits", .flag = 2, .n = 3};
  memcpy(m.prov, prov_x, 16);
  m.value[0] = 4, m.out[0] = "Four ";
  m.value[1] = 1, m.out[1] = "One";
  m.value[2] = 2, m.out[2] = NULL;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  const struct evt_map *map = evt_registry_find_map(r, prov_x, "Bits");
  CHECK(map && map->bitmap && map->n == 3);
  if (map) {
    /* Bitmaps keep their order. */
    CHECK(map->e[0].value == 4);
    CHECK_STR(map->e[0].name, "Four");
    CHECK_STR(map->e[2].name, "");
  }

  /* Value maps are sorted by value. */
  m.name = "Vals";
  m.flag = 1;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  map = evt_registry_find_map(r, prov_x, "Vals");
  CHECK(map && !map->bitmap && map->n == 3);
  if (map) {
    CHECK(map->e[0].value == 1 && map->e[1].value == 2);
    CHECK(map->e[2].value == 4);
    CHECK_STR(map->e[0].name, "One");
  }

  /* WBEM: a value map with the flag bit is a bitmap; bitmap flag too. */
  m.name = "WbemFlags";
  m.flag = 0x08 | 0x20;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  map = evt_registry_find_map(r, prov_x, "WbemFlags");
  CHECK(map && map->bitmap);
  m.name = "WbemVals";
  m.flag = 0x08 | 0x40;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  map = evt_registry_find_map(r, prov_x, "WbemVals");
  CHECK(map && !map->bitmap);
  m.name = "WbemBits";
  m.flag = 0x10;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  map = evt_registry_find_map(r, prov_x, "WbemBits");
  CHECK(map && map->bitmap);

  /* Pattern maps and string-keyed maps are skipped. */
  m.name = "Pattern";
  m.flag = 4;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  CHECK(evt_registry_find_map(r, prov_x, "Pattern") == NULL);
  m.name = "Strings";
  m.flag = 8;
  m.vtype = 1;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  CHECK(evt_registry_find_map(r, prov_x, "Strings") == NULL);

  /* An empty map is fine. */
  m.name = "None";
  m.flag = 1;
  m.vtype = 0;
  m.n = 0;
  build_map(t, &m);
  CHECK(load_map(r, t, err) == 0);
  map = evt_registry_find_map(r, prov_x, "None");
  CHECK(map && map->n == 0);
  free(t);
  evt_registry_free(r);
}

/* UTF-16: a surrogate pair, unpaired surrogates, non-ASCII BMP text. */
static void
test_utf16(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  char err[200];
  struct tinfo ti = {.id = 1, .pc = 4, .tpc = 4};
  memcpy(ti.prov, prov_x, 16);
  static const struct tprop p[] = {
      {0, "a", EVT_IN_UINT8, 0, NULL, 0, 0},
      {0, "b", EVT_IN_UINT8, 0, NULL, 0, 0},
      {0, "c", EVT_IN_UINT8, 0, NULL, 0, 0},
      {0, "d", EVT_IN_UINT8, 0, NULL, 0, 0},
  };
  build_tei(t, &ti, p);
  static const uint16_t pair[] = {'x', 0xD83D, 0xDE00, 'y'};
  static const uint16_t hi_then_a[] = {0xD800, 'A'};
  static const uint16_t lone_lo[] = {0xDC00};
  static const uint16_t bmp[] = {0xE9, 0x20AC, 0xD83D};
  tb_put32(t, 112 + 4, tb_units(t, 0, pair, 4));
  tb_put32(t, 136 + 4, tb_units(t, 0, hi_then_a, 2));
  tb_put32(t, 160 + 4, tb_units(t, 0, lone_lo, 1));
  tb_put32(t, 184 + 4, tb_units(t, 0, bmp, 3));
  CHECK(load_tei(r, t, err) == 0);
  const struct evt_schema *s = evt_registry_find(r, prov_x, false, 1, 0);
  CHECK(s != NULL);
  if (s) {
    CHECK_STR(s->fields[0].name, "x\xF0\x9F\x98\x80y");
    CHECK_STR(s->fields[1].name, "\xEF\xBF\xBD"
                                 "A");
    CHECK_STR(s->fields[2].name, "\xEF\xBF\xBD");
    CHECK_STR(s->fields[3].name, "\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBD");
  }
  free(t);
  evt_registry_free(r);
}

/* Exactly EVT_TEI_MAX_DEPTH nested structs load; one more does not. */
static int
load_deep(struct evt_registry *r, struct tb *t, int depth, char *err)
{
  struct tprop p[40];
  struct tinfo ti = {.id = 9};
  memcpy(ti.prov, prov_x, 16);
  for (int i = 0; i < depth; i++) {
    p[i] = (struct tprop){1, "s", (uint16_t)(i + 1), 1, NULL, 0, 0};
  }
  p[depth] = (struct tprop){0, "leaf", EVT_IN_UINT8, 0, NULL, 0, 0};
  ti.pc = (uint32_t)depth + 1;
  ti.tpc = 1;
  build_tei(t, &ti, p);
  return load_tei(r, t, err);
}

static void
test_depth(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  char err[200];
  CHECK(load_deep(r, t, EVT_TEI_MAX_DEPTH, err) == 0);
  const struct evt_schema *s = evt_registry_find(r, prov_x, false, 9, 0);
  CHECK(s && s->nfields == EVT_TEI_MAX_DEPTH + 1 && s->ntop == 1);
  CHECK(load_deep(r, t, EVT_TEI_MAX_DEPTH + 1, err) == -1);
  CHECK(strstr(err, "nested deeper") != NULL);
  free(t);
  evt_registry_free(r);
}

/* ---- error cases ------------------------------------------------------ */

static void
expect_fail(struct evt_registry *r, bool map, const uint8_t *p, size_t n,
            const char *needle, int line)
{
  char err[200] = "";
  int rc = map ? evt_tei_load_map_info(r, p, n, err, sizeof err)
               : evt_tei_load_event_info(r, p, n, err, sizeof err);
  check_count++;
  if (rc != -1 || !strstr(err, needle)) {
    check_failures++;
    fprintf(stderr, "%s:%d: want failure \"%s\", got %d \"%s\"\n", __FILE__,
            line, needle, rc, err);
  }
}

#define EXPECT_TEI_FAIL(r, p, n, needle)                                       \
  expect_fail(r, false, p, n, needle, __LINE__)
#define EXPECT_MAP_FAIL(r, p, n, needle)                                       \
  expect_fail(r, true, p, n, needle, __LINE__)

static void
test_event_errors(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  size_t n;
  uint8_t *dns = unhex(hex_dns1001, &n);
  uint8_t *c = xmalloc(n);

  EXPECT_TEI_FAIL(r, NULL, 0, "too short");
  EXPECT_TEI_FAIL(r, dns, 111, "too short");
  /* Header complete, properties cut off. */
  EXPECT_TEI_FAIL(r, dns, 112 + 24 * 6 - 1, "do not fit");

  memcpy(c, dns, n);
  c[100] = 0xE8, c[101] = 0x03; /* 1000 properties */
  EXPECT_TEI_FAIL(r, c, n, "do not fit");
  memcpy(c, dns, n);
  c[104] = 7; /* 7 top-level of 6 */
  EXPECT_TEI_FAIL(r, c, n, "top-level");
  memcpy(c, dns, n);
  c[48] = 7; /* DecodingSource */
  EXPECT_TEI_FAIL(r, c, n, "DecodingSource 7");

  /* A property name offset at and past the end, and one odd byte short. */
  memcpy(c, dns, n);
  c[116] = (uint8_t)n, c[117] = (uint8_t)(n >> 8);
  EXPECT_TEI_FAIL(r, c, n, "property name");
  c[116] = (uint8_t)(n - 1), c[117] = (uint8_t)((n - 1) >> 8);
  EXPECT_TEI_FAIL(r, c, n, "property name");
  c[118] = 0x7F, c[119] = 0x7F; /* offset far beyond */
  EXPECT_TEI_FAIL(r, c, n, "property name");
  /* The message offset out of range. */
  memcpy(c, dns, n);
  c[76] = 0xFF, c[77] = 0xFF, c[78] = 0xFF, c[79] = 0xFF;
  EXPECT_TEI_FAIL(r, c, n, "message");
  /* A map name offset out of range (property 3). */
  memcpy(c, dns, n);
  c[112 + 3 * 24 + 14] = 0x10;
  EXPECT_TEI_FAIL(r, c, n, "map name");
  /* Unknown in-types. */
  static const uint16_t bad_in[] = {24, 26, 299, 311, 0xFFFF};
  for (size_t k = 0; k < sizeof bad_in / sizeof bad_in[0]; k++) {
    memcpy(c, dns, n);
    c[112 + 8] = (uint8_t)bad_in[k];
    c[112 + 9] = (uint8_t)(bad_in[k] >> 8);
    EXPECT_TEI_FAIL(r, c, n, "unknown in-type");
  }
  /* Address's length index: itself, later, out of range. */
  static const uint16_t bad_len[] = {5, 6, 400};
  for (size_t k = 0; k < sizeof bad_len / sizeof bad_len[0]; k++) {
    memcpy(c, dns, n);
    c[112 + 5 * 24 + 18] = (uint8_t)bad_len[k];
    c[112 + 5 * 24 + 19] = (uint8_t)(bad_len[k] >> 8);
    EXPECT_TEI_FAIL(r, c, n, "bad length index");
  }
  /* A count index on the first property cannot precede it. */
  memcpy(c, dns, n);
  c[112] = 0x04;
  EXPECT_TEI_FAIL(r, c, n, "bad count index");

  /* A string with no NUL before the blob ends: the last one written by
   * build_tei is the event name; drop its terminator. */
  struct tinfo ti = {.id = 1, .pc = 1, .tpc = 1};
  memcpy(ti.prov, prov_x, 16);
  ti.evname = "Tail";
  static const struct tprop one[] = {{0, "a", EVT_IN_UINT8, 0, NULL, 0, 0}};
  build_tei(t, &ti, one);
  EXPECT_TEI_FAIL(r, t->b, t->n - 2, "event name");
  EXPECT_TEI_FAIL(r, t->b, t->n - 1, "event name");

  /* Keyword list running off the end. */
  ti.evname = NULL;
  ti.kw[0] = "K";
  build_tei(t, &ti, one);
  EXPECT_TEI_FAIL(r, t->b, t->n - 4, "keyword"); /* "K" loses its NUL */
  /* ... but a list that ends with the blob, no empty string, is fine. */
  char err[200];
  CHECK(evt_tei_load_event_info(r, t->b, t->n - 2, err, sizeof err) == 0);

  /* Struct slices. */
  struct tprop sp[4];
  ti.kw[0] = NULL;
  ti.pc = 3;
  ti.tpc = 1;
  sp[0] = (struct tprop){1, "s", 1, 5, NULL, 0, 0}; /* past the end */
  sp[1] = (struct tprop){0, "a", EVT_IN_UINT8, 0, NULL, 0, 0};
  sp[2] = (struct tprop){0, "b", EVT_IN_UINT8, 0, NULL, 0, 0};
  build_tei(t, &ti, sp);
  EXPECT_TEI_FAIL(r, t->b, t->n, "past 3 properties");
  ti.tpc = 2; /* member 1 is also top level */
  sp[0] = (struct tprop){1, "s", 1, 2, NULL, 0, 0};
  build_tei(t, &ti, sp);
  EXPECT_TEI_FAIL(r, t->b, t->n, "top level");
  ti.tpc = 2; /* two structs share member 2 */
  sp[0] = (struct tprop){1, "s", 2, 1, NULL, 0, 0};
  sp[1] = (struct tprop){1, "t", 2, 1, NULL, 0, 0};
  build_tei(t, &ti, sp);
  EXPECT_TEI_FAIL(r, t->b, t->n, "shared or cyclic");
  ti.tpc = 1; /* a struct that contains itself */
  sp[0] = (struct tprop){1, "s", 1, 1, NULL, 0, 0};
  sp[1] = (struct tprop){1, "t", 1, 1, NULL, 0, 0};
  build_tei(t, &ti, sp);
  EXPECT_TEI_FAIL(r, t->b, t->n, "shared or cyclic");
  /* A count index naming a struct. */
  ti.tpc = 2;
  sp[0] = (struct tprop){1, "s", 2, 1, NULL, 0, 0};
  sp[1] = (struct tprop){4, "arr", EVT_IN_UINT8, 0, NULL, 0, 0};
  sp[2] = (struct tprop){0, "m", EVT_IN_UINT8, 0, NULL, 0, 0};
  build_tei(t, &ti, sp);
  EXPECT_TEI_FAIL(r, t->b, t->n, "bad count index");
  /* Orphans (reachable from nothing) are rejected. */
  sp[1] = (struct tprop){0, "x", EVT_IN_UINT8, 0, NULL, 0, 0};
  sp[0] = (struct tprop){0, "y", EVT_IN_UINT8, 0, NULL, 0, 0};
  build_tei(t, &ti, sp);
  EXPECT_TEI_FAIL(r, t->b, t->n, "property 2 belongs to no struct");

  /* Many names pointing at one long string exhaust the text budget. */
  static struct tprop many[600];
  char longname[480];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  for (int i = 0; i < 600; i++)
    many[i] = (struct tprop){0, "a", EVT_IN_UINT8, 0, NULL, 0, 0};
  ti.pc = ti.tpc = 600;
  build_tei(t, &ti, many);
  uint32_t lo = tb_wstr(t, 0, longname);
  for (int i = 0; i < 600; i++)
    tb_put32(t, 112 + 24 * (size_t)i + 4, lo);
  EXPECT_TEI_FAIL(r, t->b, t->n, "strings overlap");

  CHECK(evt_tei_load_event_info(r, dns, 10, NULL, 0) == -1);
  free(c);
  free(dns);
  free(t);
  evt_registry_free(r);
}

static void
test_map_errors(void)
{
  struct evt_registry *r = new_registry();
  struct tb *t = xmalloc(sizeof *t);
  size_t n;
  uint8_t *m = unhex(hex_dnsmap, &n);
  uint8_t *c = xmalloc(n);

  EXPECT_MAP_FAIL(r, NULL, 0, "too short");
  EXPECT_MAP_FAIL(r, m, 31, "too short");
  EXPECT_MAP_FAIL(r, m, 32 + 8 * 2 - 1, "do not fit");
  memcpy(c, m, n);
  c[24] = 0xFF, c[25] = 0xFF, c[26] = 0xFF, c[27] = 0x7F; /* count */
  EXPECT_MAP_FAIL(r, c, n, "do not fit");
  memcpy(c, m, n);
  memset(c + 16, 0, 4); /* no name */
  EXPECT_MAP_FAIL(r, c, n, "without a name");
  memcpy(c, m, n);
  c[16] = 0xF0, c[17] = 0x0F; /* name offset out of range */
  EXPECT_MAP_FAIL(r, c, n, "map name");
  memcpy(c, m, n);
  c[32 + 8] = 0xF0, c[33 + 8] = 0x0F; /* entry 1 out of range */
  EXPECT_MAP_FAIL(r, c, n, "map entry");

  /* An empty map name is no name either. */
  struct tmap tm = {.name = "", .flag = 1, .n = 0};
  build_map(t, &tm);
  EXPECT_MAP_FAIL(r, t->b, t->n, "without a name");
  /* Entries whose names all point at one long string. */
  char longname[480];
  memset(longname, 'v', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  tm.name = "Big";
  tm.n = 8;
  for (int i = 0; i < 8; i++)
    tm.out[i] = longname;
  build_map(t, &tm); /* 8 distinct copies: fine */
  char err[200];
  CHECK(load_map(r, t, err) == 0);
  free(c);
  free(m);
  free(t);
  evt_registry_free(r);
}

/* A deterministic generator, so failures reproduce. */
static uint32_t rng_state = 0x9E3779B9u;

static uint32_t
rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* load_and_check - load a possibly damaged blob; on success find the
 * schema it registered and check the decoder's invariants. */
static void
load_and_check(struct evt_registry *r, bool map, const uint8_t *c, size_t n)
{
  char err[200] = "";
  int rc = map ? evt_tei_load_map_info(r, c, n, err, sizeof err)
               : evt_tei_load_event_info(r, c, n, err, sizeof err);
  if (rc != 0) {
    CHECK(rc == -1 && err[0] != 0);
    return;
  }
  if (map || n < 112) return;
  uint32_t ds = le32(c + 48);
  const struct evt_schema *s = NULL;
  if (ds == 0)
    s = evt_registry_find(r, c, false, le16(c + 32), c[34]);
  else if (ds == 1)
    s = evt_registry_find(r, c + 16, true, c[37], c[34]);
  if (ds <= 1) {
    CHECK(s != NULL);
    if (s) check_schema(s);
  }
}

static void
test_sweep(void)
{
  static const struct {
    const char *hex;
    bool map;
  } vec[] = {{hex_dns1001, false}, {hex_dnsmap, true}, {hex_bulktype, false}};
  for (size_t v = 0; v < sizeof vec / sizeof vec[0]; v++) {
    struct evt_registry *r = new_registry();
    size_t n;
    uint8_t *b = unhex(vec[v].hex, &n);
    for (size_t k = 0; k <= n; k++) {
      uint8_t *c = xmalloc(k); /* exact size, so ASan sees overruns */
      memcpy(c, b, k);
      load_and_check(r, vec[v].map, c, k);
      free(c);
    }
    uint8_t *c = xmalloc(n);
    for (int i = 0; i < 3000; i++) {
      memcpy(c, b, n);
      int flips = 1 + (int)(rng() % 4);
      for (int j = 0; j < flips; j++) {
        /* Favour the header and property array, where offsets live. */
        size_t at = rng() % 2 ? rng() % (n < 400 ? n : 400) : rng() % n;
        c[at] = (uint8_t)rng();
      }
      load_and_check(r, vec[v].map, c, n);
    }
    free(c);
    free(b);
    evt_registry_free(r);
  }
}

/* ---- real data -------------------------------------------------------- */

static uint8_t *
read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 20, n = 0;
  uint8_t *b = xmalloc(cap);
  for (;;) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t *nb = realloc(b, cap * 2);
    if (!nb) {
      free(b);
      fclose(f);
      return NULL;
    }
    b = nb;
    cap *= 2;
  }
  fclose(f);
  *len = n;
  return b;
}

struct walk {
  struct evt_registry *r;
  unsigned n32, n33, failed;
  const struct evt_schema *loaded[128];
  unsigned nloaded;
};

/* Walk one buffer's records (etl-format.md section 3) and feed every
 * EventMetadata record (FULL_HEADER 32/64) to evt_tei_load. */
static void
walk_records(struct walk *w, const uint8_t *p, size_t n)
{
  size_t off = 0;
  while (n - off >= 8) {
    uint32_t marker = le32(p + off);
    if (marker == 0 || marker == 0xFFFFFFFFu) break;
    uint8_t type = (uint8_t)(marker >> 16);
    size_t size;
    if (type <= 0x04 || type == 0x10 || type == 0x11)
      size = le16(p + off + 4);
    else
      size = marker & 0xFFFF;
    if (size < 8 || size > n - off) break;
    if ((type == 0x0A || type == 0x14) && size >= 48 &&
        memcmp(p + off + 24, evt_tei_provider, 16) == 0) {
      struct etl_event ev;
      char err[200] = "";
      memset(&ev, 0, sizeof ev);
      memcpy(ev.provider, evt_tei_provider, 16);
      ev.opcode = p[off + 4];
      ev.data = p + off + 48;
      ev.data_len = (uint32_t)(size - 48);
      if (ev.opcode == EVT_TEI_OPCODE_EVENT_INFO)
        w->n32++;
      else if (ev.opcode == EVT_TEI_OPCODE_MAP_INFO)
        w->n33++;
      if (evt_tei_load(w->r, &ev, err, sizeof err) != 0) {
        w->failed++;
        fprintf(stderr, "record at 0x%zx: %s\n", off, err);
      } else if (ev.opcode == EVT_TEI_OPCODE_EVENT_INFO && w->nloaded < 128 &&
                 ev.data_len >= 112) {
        const struct evt_schema *s = evt_registry_find(
            w->r, ev.data, false, le16(ev.data + 32), ev.data[34]);
        if (s) w->loaded[w->nloaded++] = s;
      }
    }
    off += (size + 7) & ~(size_t)7;
    if (off > n) break;
  }
}

static void
test_corpus(void)
{
  size_t len;
  uint8_t *file = read_file(CORPUS "/perfview__net.4.5.2.x64.etl", &len);
  if (!file) {
    fprintf(stderr, "test_tei: %s absent, real-data checks skipped\n", CORPUS);
    return;
  }
  struct walk w = {.r = new_registry()};
  uint8_t *buf = xmalloc(1 << 20);
  size_t pos = 0;
  while (len - pos >= 0x48) {
    uint32_t bsz = le32(file + pos), filled = le32(file + pos + 0x30);
    uint16_t flag = le16(file + pos + 0x34);
    if (bsz < 0x48 || bsz > len - pos || filled < 0x48) break;
    if (flag & 0x40) {
      size_t got = 0;
      int rc = etl_lzx_decompress(file + pos + 0x48, bsz - 0x48, buf,
                                  filled - 0x48, &got);
      CHECK(rc == 0 && got == filled - 0x48);
      if (rc == 0) walk_records(&w, buf, got);
    } else if (filled <= bsz) {
      walk_records(&w, file + pos + 0x48, filled - 0x48);
    }
    pos += bsz;
  }
  CHECK(w.n32 == 61 && w.n33 == 24 && w.failed == 0);
  CHECK(w.nloaded == 61);
  /* Every map a schema names resolves once all records are in. */
  unsigned named = 0, resolved = 0;
  for (unsigned i = 0; i < w.nloaded; i++) {
    const struct evt_schema *s = w.loaded[i];
    check_schema(s);
    for (uint16_t k = 0; k < s->nfields; k++) {
      if (!s->fields[k].map_name) continue;
      named++;
      if (evt_registry_find_map(w.r, s->provider, s->fields[k].map_name))
        resolved++;
      else
        fprintf(stderr, "unresolved map %s\n", s->fields[k].map_name);
    }
  }
  CHECK(named > 0 && named == resolved);
  /* The known-good DNS-Client 1001 (etl-format.md section 12). */
  size_t n;
  uint8_t *dns = unhex(hex_dns1001, &n);
  const struct evt_schema *s = evt_registry_find(w.r, dns, false, 1001, 0);
  CHECK(s && s->nfields == 6 && s->message &&
        strncmp(s->message, "Interface: %1 ", 14) == 0);
  free(dns);
  free(buf);
  free(file);
  evt_registry_free(w.r);
}

int
main(void)
{
  test_dns_real();
  test_bulktype_real();
  test_hand_manifest();
  test_hand_mof();
  test_hand_maps();
  test_utf16();
  test_depth();
  test_event_errors();
  test_map_errors();
  test_sweep();
  test_corpus();
  return check_result();
}
