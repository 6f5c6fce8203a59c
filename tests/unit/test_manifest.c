/*
 * test_manifest.c - unit test of the XML tokenizer (etwcat/xml_lex.c),
 * the manifest compiler (etwcat/evt_manifest.c) and the built-in schemas
 * (etwcat/evt_builtin.c, share/schemas/).
 *
 * Regular cases: tokens of a small document (BOM, declaration, comments,
 * PIs, CDATA, references, both quote kinds); a hand-written manifest that
 * uses every feature (channels with and without values and imported,
 * provider levels, task-scoped opcodes, keywords, value and bit maps,
 * lengths and counts fixed and by field, structs, a string table in two
 * cultures, messages) checked field by field; the built-in Kernel-Network
 * manifest (22 events, names as TDH gives them); EventSource chunk
 * reassembly, by hand and from Tx__BondEtwSample.etl; the project
 * extension for classic MOF classes (rtk:classic, the WBEM in-types, real
 * namespace bindings) and the built-in kernel classes, keyed by class
 * GUID, event type and version and decoded at both pointer sizes; the
 * other built-in providers by name; and, when
 * ../shared/corpus is present, the Microsoft manifests Tx__SystemEvents.man
 * (its Kernel-Network provider must equal the built-in) and
 * Tx__HTTP_Server.man. Error cases: malformed XML with the exact line and
 * column, unknown types and references, forward and out-of-range lengths
 * and counts, deep nesting, too many fields, a failed load that must
 * leave the registry untouched, and the extension's own errors (classic
 * values above 255, an opcode of another value, a bad classic= value,
 * WBEM type names outside the project namespace).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_builtin.h"
#include "etwcat/evt_decode.h"
#include "etwcat/evt_manifest.h"
#include "etwcat/evt_registry.h"
#include "etwcat/xml_lex.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS "../shared/corpus/etl/"

/* {01020304-0506-0708-090a-0b0c0d0e0f10} in Windows byte order. */
static const uint8_t test_guid[16] = {4, 3,  2,  1,  6,  5,  8,  7,
                                      9, 10, 11, 12, 13, 14, 15, 16};

/* {7dd42a49-5329-4832-8dfd-43d979153a88} */
static const uint8_t knet_guid[16] = {0x49, 0x2a, 0xd4, 0x7d, 0x29, 0x53,
                                      0x32, 0x48, 0x8d, 0xfd, 0x43, 0xd9,
                                      0x79, 0x15, 0x3a, 0x88};

static struct evt_registry *
new_registry(void)
{
  struct evt_registry *r = evt_registry_new();
  if (!r) {
    fprintf(stderr, "test_manifest: out of memory\n");
    exit(1);
  }
  return r;
}

static int
load(struct evt_registry *r, const char *xml, char *err, size_t errlen)
{
  return evt_manifest_load(r, xml, strlen(xml), "t.man", EVT_PRIO_USER, err,
                           errlen);
}

static char *
read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  while (b) {
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    char *nb = realloc(b, cap * 2);
    if (!nb) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  fclose(f);
  *len = n;
  return b;
}

/* ------------------------------------------------------------------ */
/* Tokenizer: regular cases.                                           */

static void
test_lex_tokens(void)
{
  static const char doc[] =
      "\xEF\xBB\xBF<?xml version='1.0' encoding=\"UTF-8\"?>\n"
      "<!-- a comment -->\n"
      "<ns:root a='1' b=\"x&lt;&gt;&amp;&quot;&apos;&#65;&#x42;\">\n"
      "  <?pi data?>text &#xe9;<![CDATA[<raw & stuff>]]>"
      "<empty k=\"v\tw\"/>\n"
      "</ns:root>\n<!-- after -->\n";
  struct xml_lex x;
  CHECK(xml_lex_init(&x, doc, sizeof doc - 1) == 0);
  CHECK(xml_lex_next(&x) == XML_TOK_START);
  CHECK(x.name_len == 7 && memcmp(x.name, "ns:root", 7) == 0);
  CHECK(xml_name_is(x.name, x.name_len, "root"));
  CHECK(x.nattr == 2);
  CHECK_STR(x.attr[0].value, "1");
  CHECK_STR(x.attr[1].value, "x<>&\"'AB");
  CHECK(x.depth == 1);
  unsigned long line, col;
  xml_position(doc, sizeof doc - 1, x.tok_off, &line, &col);
  CHECK(line == 3 && col == 1);
  xml_position(doc, sizeof doc - 1, x.attr[1].off, &line, &col);
  CHECK(line == 3 && col == 16);
  CHECK(xml_lex_next(&x) == XML_TOK_TEXT);
  CHECK_STR(x.text, "\n  ");
  CHECK(xml_lex_next(&x) == XML_TOK_TEXT);
  CHECK_STR(x.text, "text \xC3\xA9");
  CHECK(xml_lex_next(&x) == XML_TOK_TEXT);
  CHECK_STR(x.text, "<raw & stuff>");
  CHECK(xml_lex_next(&x) == XML_TOK_START);
  CHECK(x.empty && x.nattr == 1);
  CHECK_STR(x.attr[0].value, "v w"); /* attribute whitespace normalized */
  CHECK(xml_lex_next(&x) == XML_TOK_END);
  CHECK(x.name_len == 5 && memcmp(x.name, "empty", 5) == 0);
  CHECK(xml_lex_next(&x) == XML_TOK_TEXT);
  CHECK(xml_lex_next(&x) == XML_TOK_END);
  CHECK(x.depth == 0);
  CHECK(xml_lex_next(&x) == XML_TOK_EOF);
  CHECK(xml_lex_next(&x) == XML_TOK_EOF);
  xml_lex_free(&x);

  size_t ll;
  const char *l = xml_local("a:b:c", 5, &ll);
  CHECK(ll == 1 && *l == 'c');
  l = xml_local("plain", 5, &ll);
  CHECK(ll == 5);
}

/* lex_error - tokenize doc to the end; expect an error at line:col whose
 * text contains want. */
static void
lex_error(const char *doc, unsigned long wl, unsigned long wc, const char *want,
          int at)
{
  struct xml_lex x;
  size_t n = strlen(doc);
  CHECK(xml_lex_init(&x, doc, n) == 0);
  enum xml_tok t = xml_lex_next(&x);
  while (t != XML_TOK_EOF && t != XML_TOK_ERROR)
    t = xml_lex_next(&x);
  unsigned long line = 0, col = 0;
  xml_position(doc, n, x.err_off, &line, &col);
  check_count++;
  if (t != XML_TOK_ERROR || line != wl || col != wc || !strstr(x.err, want)) {
    check_failures++;
    fprintf(stderr, "%s:%d: got %s at %lu:%lu \"%s\", want %lu:%lu \"%s\"\n",
            __FILE__, at, t == XML_TOK_ERROR ? "error" : "no error", line, col,
            x.err, wl, wc, want);
  }
  CHECK(xml_lex_next(&x) == XML_TOK_ERROR); /* errors stick */
  xml_lex_free(&x);
}

static void
test_lex_errors(void)
{
  lex_error("<a>\n  <b></c>\n</a>", 2, 6, "does not match <b>", __LINE__);
  lex_error("<a>\n<b>", 2, 4, "end of input inside <b>", __LINE__);
  lex_error("", 1, 1, "no root element", __LINE__);
  lex_error("  hello <a/>", 1, 3, "text outside the root element", __LINE__);
  lex_error("<a/><b/>", 1, 5, "a second root element", __LINE__);
  lex_error("<a x='1' x='2'/>", 1, 10, "duplicate attribute", __LINE__);
  lex_error("<a x='1'y='2'/>", 1, 9, "expected whitespace", __LINE__);
  lex_error("<a x=1/>", 1, 6, "quoted attribute value", __LINE__);
  lex_error("<a x='<'/>", 1, 7, "'<' in an attribute value", __LINE__);
  lex_error("<a>&foo;</a>", 1, 4, "unknown entity '&foo;'", __LINE__);
  lex_error("<a>AT&T</a>", 1, 6, "does not start a reference", __LINE__);
  lex_error("<a>&#0;</a>", 1, 4, "character reference", __LINE__);
  lex_error("<a>&#x110000;</a>", 1, 4, "character reference", __LINE__);
  lex_error("<a>&#xD800;</a>", 1, 4, "character reference", __LINE__);
  lex_error("<a>&#99999999999999999999;</a>", 1, 4, "character reference",
            __LINE__);
  lex_error("<a>&#;</a>", 1, 4, "malformed character reference", __LINE__);
  lex_error("<a>\n\xC3\xA9\xFF</a>", 2, 2, "invalid UTF-8 byte 0xFF", __LINE__);
  lex_error("<a>\xC0\xAF</a>", 1, 4, "invalid UTF-8", __LINE__);
  lex_error("<a>\x01</a>", 1, 4, "U+0001 is not allowed", __LINE__);
  lex_error("<a><!-- x -- y --></a>", 1, 11, "'--' inside a comment", __LINE__);
  lex_error("<a><!-- x </a>", 1, 4, "unterminated comment", __LINE__);
  lex_error("<a>]]></a>", 1, 4, "']]>' in text", __LINE__);
  lex_error("<!DOCTYPE a [<!ENTITY x 'y'>]><a/>", 1, 1,
            "DOCTYPE is not supported", __LINE__);
  lex_error(" <?xml version='1.0'?><a/>", 1, 2, "XML declaration not at",
            __LINE__);
  lex_error("<?xml version='1.0' encoding='UTF-16'?><a/>", 1, 31,
            "unsupported encoding 'UTF-16'", __LINE__);
  lex_error("<a></a>\n</a>", 2, 1, "without a start tag", __LINE__);
  lex_error("<a><![CDATA[x</a>", 1, 4, "unterminated CDATA", __LINE__);
  lex_error("<a b='x>", 1, 6, "unterminated attribute value", __LINE__);
  lex_error("<a b='x></a>", 1, 9, "'<' in an attribute value", __LINE__);
  lex_error("<1a/>", 1, 2, "expected an element name", __LINE__);

  /* Nesting deeper than XML_MAX_DEPTH: the 65th <a> is refused. */
  char deep[1000];
  size_t n = 0;
  for (int i = 0; i < 100; i++)
    n += (size_t)snprintf(deep + n, sizeof deep - n, "<a>");
  lex_error(deep, 1, 3 * XML_MAX_DEPTH + 1, "nested deeper than 64", __LINE__);

  /* Too many attributes on one tag. */
  char many[2000];
  n = (size_t)snprintf(many, sizeof many, "<a");
  for (int i = 0; i <= XML_MAX_ATTRS; i++)
    n += (size_t)snprintf(many + n, sizeof many - n, " a%d=''", i);
  snprintf(many + n, sizeof many - n, "/>");
  /* a0..a9 take 6 columns each, a10..a63 take 7 */
  lex_error(many, 1, 3 + 6 * 10 + 7 * (XML_MAX_ATTRS - 10) + 1,
            "more than 64 attributes", __LINE__);
}

/* ------------------------------------------------------------------ */
/* Compiler: regular cases.                                            */

static const char features_man[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<instrumentationManifest\n"
    "    xmlns=\"http://schemas.microsoft.com/win/2004/08/events\"\n"
    "    xmlns:win=\"http://manifests.microsoft.com/win/2004/08/windows/"
    "events\"\n"
    "    xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n"
    " <instrumentation><events>\n"
    "  <provider name=\"Test-Provider\"\n"
    "      guid=\"{01020304-0506-0708-090A-0b0c0d0e0f10}\">\n"
    "   <channels>\n"
    "    <importChannel chid=\"sys\" name=\"System\"/>\n"
    "    <channel chid=\"op\" name=\"Test-Provider/Operational\"\n"
    "        type=\"Operational\" message=\"$(string.chan.op)\"/>\n"
    "    <channel chid=\"dbg\" name=\"Test-Provider/Debug\" type=\"Debug\"\n"
    "        value=\"17\"/>\n"
    "    <channel name=\"Test-Provider/Analytic\" type=\"Analytic\"/>\n"
    "   </channels>\n"
    "   <levels>\n"
    "    <level name=\"Custom\" value=\"16\" "
    "message=\"$(string.level.custom)\"/>\n"
    "   </levels>\n"
    "   <tasks>\n"
    "    <task name=\"Work\" value=\"1\" message=\"$(string.task.work)\">\n"
    "     <opcodes>\n"
    "      <opcode name=\"Begin\" value=\"10\" "
    "message=\"$(string.op.begin)\"/>\n"
    "     </opcodes>\n"
    "    </task>\n"
    "    <task name=\"Other\" value=\"2\" message=\"$(string.no.such)\"/>\n"
    "   </tasks>\n"
    "   <opcodes><opcode name=\"Poke\" value=\"0x0B\"/></opcodes>\n"
    "   <keywords>\n"
    "    <keyword name=\"Alpha\" mask=\"0x1\" "
    "message=\"$(string.kw.alpha)\"/>\n"
    "    <keyword name=\"Beta\" mask=\"0x8000000000000000\"/>\n"
    "   </keywords>\n"
    "   <maps>\n"
    "    <valueMap name=\"Color\">\n"
    "     <map value=\"2\" message=\"$(string.map.blue)\"/>\n"
    "     <map value=\"0\" message=\"$(string.map.red)\"/>\n"
    "     <map value=\"1\" message=\"$(string.map.missing)\"/>\n"
    "     <map value=\"2\" message=\"$(string.map.red)\"/>\n"
    "    </valueMap>\n"
    "    <bitMap name=\"Flags\">\n"
    "     <map value=\"0x4\" message=\"$(string.map.f4)\"/>\n"
    "     <map value=\"0x1\" message=\"$(string.map.f1)\"/>\n"
    "    </bitMap>\n"
    "   </maps>\n"
    "   <templates>\n"
    "    <template tid=\"t_all\">\n"
    "     <data name=\"Count\" inType=\"win:UInt16\"/>\n"
    "     <data name=\"Values\" inType=\"win:UInt32\" count=\"Count\"\n"
    "         outType=\"win:HexInt32\"/>\n"
    "     <data name=\"Fixed\" inType=\"win:UInt8\" count=\"3\"/>\n"
    "     <data name=\"NameLen\" inType=\"win:UInt16\"/>\n"
    "     <data name=\"Name\" inType=\"win:UnicodeString\" "
    "length=\"NameLen\"/>\n"
    "     <data name=\"Blob\" inType=\"win:Binary\" length=\"8\"/>\n"
    "     <data name=\"Addr\" inType=\"win:Binary\" outType=\"win:IPv6\"/>\n"
    "     <data name=\"Color\" inType=\"win:UInt32\" map=\"Color\"/>\n"
    "     <data name=\"Flags\" inType=\"win:HexInt32\" map=\"Flags\"/>\n"
    "     <data name=\"Other\" inType=\"win:UInt32\" map=\"Elsewhere\"/>\n"
    "     <struct name=\"Items\" count=\"Count\">\n"
    "      <data name=\"Id\" inType=\"win:GUID\"/>\n"
    "      <data name=\"Len\" inType=\"win:UInt8\"/>\n"
    "      <data name=\"Data\" inType=\"win:Binary\" length=\"Len\"/>\n"
    "      <data name=\"Ref\" inType=\"win:AnsiString\" "
    "length=\"NameLen\"/>\n"
    "     </struct>\n"
    "     <struct name=\"Pair\" count=\"2\">\n"
    "      <data name=\"A\" inType=\"win:Int64\"/>\n"
    "      <data name=\"B\" inType=\"win:Pointer\"/>\n"
    "     </struct>\n"
    "     <data name=\"Tail\" inType=\"win:UInt32\" length=\"NoSuch\"\n"
    "         outType=\"xs:unsignedInt\"/>\n"
    "     <data name=\"Sid\" inType=\"win:SID\"/>\n"
    "     <data name=\"When\" inType=\"win:FILETIME\" "
    "outType=\"win:DateTimeUtc\"/>\n"
    "     <data name=\"Odd\" inType=\"win:UInt32\" outType=\"win:Bogus\"/>\n"
    "     <UserData><Whatever xmlns=\"urn:x\">%1</Whatever></UserData>\n"
    "    </template>\n"
    "    <template tid=\"t_empty\"/>\n"
    "   </templates>\n"
    "   <events>\n"
    "    <event value=\"1\" version=\"2\" level=\"Custom\" task=\"Work\"\n"
    "        opcode=\"Begin\" channel=\"op\" keywords=\" Alpha  Beta \"\n"
    "        template=\"t_all\" message=\"$(string.ev.1)\" name=\"First\"/>\n"
    "    <event value=\"2\" level=\"win:Informational\" task=\"Other\"\n"
    "        opcode=\"Poke\" channel=\"sys\" "
    "keywords=\"Beta win:ResponseTime\"/>\n"
    "    <event value=\"3\" level=\"win:Verbose\" task=\"Work\"\n"
    "        opcode=\"win:Start\" channel=\"dbg\"/>\n"
    "    <event value=\"0xFFFF\" version=\"255\" "
    "channel=\"Test-Provider/Analytic\"\n"
    "        template=\"t_empty\" message=\"literal text\"/>\n"
    "    <event value=\"5\" channel=\"System\" opcode=\"win:DC_Stop\"\n"
    "        level=\"win:LogAlways\" task=\"win:None\"/>\n"
    "   </events>\n"
    "  </provider>\n"
    " </events></instrumentation>\n"
    " <localization>\n"
    "  <resources culture=\"de-DE\"><stringTable>\n"
    "   <string id=\"ev.1\" value=\"Deutsch\"/>\n"
    "  </stringTable></resources>\n"
    "  <resources culture=\"en-US\"><stringTable>\n"
    "   <string id=\"chan.op\" value=\"Operational channel\"/>\n"
    "   <string id=\"level.custom\" value=\"Custom level\"/>\n"
    "   <string id=\"task.work\" value=\"Work task\"/>\n"
    "   <string id=\"op.begin\" value=\"Begin!\"/>\n"
    "   <string id=\"kw.alpha\" value=\"Alpha keyword\"/>\n"
    "   <string id=\"map.blue\" value=\"Blue\"/>\n"
    "   <string id=\"map.red\" value=\"Red\"/>\n"
    "   <string id=\"map.f1\" value=\"F1\"/>\n"
    "   <string id=\"map.f4\" value=\"F4\"/>\n"
    "   <string id=\"ev.1\" value=\"Count %1 &amp; %2 &lt;ok&gt;%n\"/>\n"
    "  </stringTable></resources>\n"
    " </localization>\n"
    "</instrumentationManifest>\n";

static void
check_field(const struct evt_field *f, const char *name, uint16_t in,
            uint16_t out, uint16_t flags, uint16_t len, uint16_t count,
            int line)
{
  check_count++;
  if (!f->name || strcmp(f->name, name) != 0 || f->in != in || f->out != out ||
      f->flags != flags || f->len != len || f->count != count) {
    check_failures++;
    fprintf(stderr,
            "%s:%d: field %s: in %u out %u flags 0x%x len %u count %u\n",
            __FILE__, line, f->name ? f->name : "(null)", f->in, f->out,
            f->flags, f->len, f->count);
  }
}

static void
test_features(void)
{
  struct evt_registry *r = new_registry();
  char err[256] = "";
  int n = load(r, features_man, err, sizeof err);
  if (n != 5) fprintf(stderr, "features: %d, %s\n", n, err);
  CHECK(n == 5);
  CHECK_STR(evt_registry_provider_name(r, test_guid), "Test-Provider");

  const struct evt_schema *s = evt_registry_find(r, test_guid, false, 1, 2);
  CHECK(s);
  if (!s) goto done;
  CHECK(!evt_registry_find(r, test_guid, false, 1, 0));
  CHECK_STR(s->provider_name, "Test-Provider");
  CHECK_STR(s->source, "t.man");
  CHECK(!s->classic && s->id == 1 && s->version == 2 && s->opcode == 10);
  CHECK_STR(s->event_name, "First");
  CHECK_STR(s->level_name, "Custom level");
  CHECK_STR(s->task_name, "Work task");
  CHECK_STR(s->opcode_name, "Begin!");
  CHECK_STR(s->channel_name, "Operational channel");
  CHECK_STR(s->keywords_name, "Alpha keyword, Beta");
  CHECK_STR(s->message, "Count %1 & %2 <ok>%n");
  CHECK(s->ntop == 16 && s->nfields == 22);
  if (s->nfields != 22) goto done;
  const struct evt_field *f = s->fields;
  check_field(&f[0], "Count", EVT_IN_UINT16, 0, 0, 0, 0, __LINE__);
  check_field(&f[1], "Values", EVT_IN_UINT32, EVT_OUT_HEXINT32,
              EVT_F_COUNT_FIELD, 0, 0, __LINE__);
  check_field(&f[2], "Fixed", EVT_IN_UINT8, 0, EVT_F_COUNT_FIXED, 0, 3,
              __LINE__);
  check_field(&f[4], "Name", EVT_IN_UNICODESTRING, 0, EVT_F_LEN_FIELD, 3, 0,
              __LINE__);
  check_field(&f[5], "Blob", EVT_IN_BINARY, 0, EVT_F_LEN_FIXED, 8, 0, __LINE__);
  check_field(&f[6], "Addr", EVT_IN_BINARY, EVT_OUT_IPV6, EVT_F_LEN_FIXED, 16,
              0, __LINE__);
  check_field(&f[8], "Flags", EVT_IN_HEXINT32, 0, 0, 0, 0, __LINE__);
  check_field(&f[10], "Items", 0, 0, EVT_F_STRUCT | EVT_F_COUNT_FIELD, 0, 0,
              __LINE__);
  CHECK(f[10].first == 16 && f[10].nmembers == 4);
  check_field(&f[11], "Pair", 0, 0, EVT_F_STRUCT | EVT_F_COUNT_FIXED, 0, 2,
              __LINE__);
  CHECK(f[11].first == 20 && f[11].nmembers == 2);
  check_field(&f[12], "Tail", EVT_IN_UINT32, 0, 0, 0, 0, __LINE__);
  check_field(&f[13], "Sid", EVT_IN_SID, 0, 0, 0, 0, __LINE__);
  check_field(&f[14], "When", EVT_IN_FILETIME, EVT_OUT_DATETIME_UTC, 0, 0, 0,
              __LINE__);
  check_field(&f[15], "Odd", EVT_IN_UINT32, 0, 0, 0, 0, __LINE__);
  check_field(&f[16], "Id", EVT_IN_GUID, 0, 0, 0, 0, __LINE__);
  check_field(&f[18], "Data", EVT_IN_BINARY, 0, EVT_F_LEN_FIELD, 17, 0,
              __LINE__);
  check_field(&f[19], "Ref", EVT_IN_ANSISTRING, 0, EVT_F_LEN_FIELD, 3, 0,
              __LINE__);
  check_field(&f[20], "A", EVT_IN_INT64, 0, 0, 0, 0, __LINE__);
  check_field(&f[21], "B", EVT_IN_POINTER, 0, 0, 0, 0, __LINE__);

  /* Maps: the value map sorted, first of equal values kept, entries
   * without text left out; the bit map in declaration order. */
  const struct evt_map *m = f[7].map;
  CHECK(m && !m->bitmap && m->n == 2);
  if (m && m->n == 2) {
    CHECK_STR(m->name, "Color");
    CHECK(m->e[0].value == 0 && m->e[1].value == 2);
    CHECK_STR(m->e[0].name, "Red");
    CHECK_STR(m->e[1].name, "Blue");
  }
  CHECK_STR(f[7].map_name, "Color");
  m = f[8].map;
  CHECK(m && m->bitmap && m->n == 2);
  if (m && m->n == 2) {
    CHECK(m->e[0].value == 4 && m->e[1].value == 1);
    CHECK_STR(m->e[0].name, "F4");
  }
  CHECK(!f[9].map);
  CHECK_STR(f[9].map_name, "Elsewhere");
  CHECK(evt_registry_find_map(r, test_guid, "Color") == f[7].map);
  CHECK(evt_registry_find_map(r, test_guid, "Flags") == f[8].map);

  s = evt_registry_find(r, test_guid, false, 2, 0);
  CHECK(s);
  if (s) {
    CHECK_STR(s->level_name, "Information");
    CHECK_STR(s->task_name, "Other"); /* its message does not resolve */
    CHECK_STR(s->opcode_name, "Poke");
    CHECK(s->opcode == 11);
    CHECK_STR(s->channel_name, "System");
    CHECK_STR(s->keywords_name, "Beta, ResponseTime");
    CHECK(!s->message && !s->fields && s->nfields == 0 && !s->event_name);
  }
  s = evt_registry_find(r, test_guid, false, 3, 0);
  CHECK(s);
  if (s) {
    CHECK_STR(s->level_name, "Verbose");
    CHECK_STR(s->task_name, "Work task");
    CHECK_STR(s->opcode_name, "Start");
    CHECK(s->opcode == 1);
    CHECK_STR(s->channel_name, "Test-Provider/Debug");
    CHECK(!s->keywords_name);
  }
  s = evt_registry_find(r, test_guid, false, 0xFFFF, 255);
  CHECK(s);
  if (s) {
    CHECK(!s->level_name && !s->task_name && !s->opcode_name &&
          !s->keywords_name);
    CHECK_STR(s->channel_name, "Test-Provider/Analytic");
    CHECK_STR(s->message, "literal text");
    CHECK(s->nfields == 0);
  }
  s = evt_registry_find(r, test_guid, false, 5, 0);
  CHECK(s);
  if (s) {
    CHECK_STR(s->channel_name, "System");
    CHECK_STR(s->opcode_name, "DCStop");
    CHECK_STR(s->level_name, "Log Always");
    CHECK_STR(s->task_name, "None");
  }
done:
  evt_registry_free(r);
}

/* The English strings win over the first culture; without en-US, the
 * first culture is used; a BOM, single quotes and references are fine. */
static void
test_cultures(void)
{
  static const char man[] =
      "\xEF\xBB\xBF<m><instrumentation><events>"
      "<provider name='P' guid='01020304-0506-0708-090a-0b0c0d0e0f10'>"
      "<events><event value='7' message='$(string.x)'/></events>"
      "</provider></events></instrumentation>"
      "<localization>"
      "<resources culture='fr-FR'><stringTable>"
      "<string id='x' value='fran&#xE7;ais'/></stringTable></resources>"
      "<resources culture='ja-JP'><stringTable>"
      "<string id='x' value='nihongo'/></stringTable></resources>"
      "</localization></m>";
  struct evt_registry *r = new_registry();
  char err[256];
  CHECK(load(r, man, err, sizeof err) == 1);
  const struct evt_schema *s = evt_registry_find(r, test_guid, false, 7, 0);
  CHECK(s && s->message &&
        strcmp(s->message, "fran\xC3\xA7"
                           "ais") == 0);
  evt_registry_free(r);
}

/* Channels without a value are numbered 16, 17... skipping values given
 * explicitly; the numbers are not part of the schema, but a manifest
 * with 240 numbered channels must compile and one more must not. */
static void
test_channel_numbering(void)
{
  size_t cap = 64 << 10;
  char *man = malloc(cap);
  CHECK(man);
  if (!man) return;
  for (int extra = 0; extra < 2; extra++) {
    size_t n = (size_t)snprintf(
        man, cap,
        "<m><events><provider name='P' "
        "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'><channels>"
        "<channel name='fixed' value='16'/>"
        "<importChannel name='Security' chid='sec'/>");
    for (int i = 0; i < 239 + extra; i++)
      n += (size_t)snprintf(man + n, cap - n, "<channel name='c%d'/>", i);
    snprintf(man + n, cap - n,
             "</channels><events><event value='1' channel='c0'/>"
             "<event value='2' channel='sec'/></events>"
             "</provider></events></m>");
    struct evt_registry *r = new_registry();
    char err[256] = "";
    int rc = load(r, man, err, sizeof err);
    if (!extra) {
      CHECK(rc == 2);
      const struct evt_schema *s = evt_registry_find(r, test_guid, false, 2, 0);
      CHECK(s && s->channel_name && !strcmp(s->channel_name, "Security"));
    } else {
      CHECK(rc == -1 && strstr(err, "more channels than values 16 to 255"));
    }
    evt_registry_free(r);
  }
  free(man);
}

/* ------------------------------------------------------------------ */
/* Compiler: error cases.                                              */

#define PROV_OPEN                                                              \
  "<m><events><provider name='P' "                                             \
  "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
#define PROV_CLOSE "</provider></events></m>"

static void
load_error(const char *xml, const char *want, int at)
{
  struct evt_registry *r = new_registry();
  char err[256] = "";
  int rc = load(r, xml, err, sizeof err);
  check_count++;
  if (rc != -1 || strcmp(err, want) != 0) {
    check_failures++;
    fprintf(stderr, "%s:%d: got %d \"%s\", want \"%s\"\n", __FILE__, at, rc,
            err, want);
  }
  /* Nothing of a failed load is registered. */
  CHECK(!evt_registry_provider_name(r, test_guid));
  CHECK(!evt_registry_find(r, test_guid, false, 1, 0));
  evt_registry_free(r);
}

static void
test_errors(void)
{
  load_error("<m>\n  <events></event>\n</m>",
             "t.man:2:11: end tag </event> does not match <events>", __LINE__);
  load_error("<m/>", "t.man: no <provider> inside <events>", __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='win:UInt33'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:16: unknown inType \"win:UInt33\"", __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='win:UInt32' count='n'/>\n"
                       "<data name='n' inType='win:UInt32'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:36: count \"n\" names a field that comes later",
             __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='win:AnsiString' length='zz'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:40: length \"zz\" names no earlier field", __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='s' inType='win:UnicodeString'/>"
                       "<data name='a' inType='win:Binary' length='s'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:79: length \"s\" names a field that is not an "
             "integer",
             __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='win:UInt32' count='70000'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:36: count \"70000\" is not a number from 1 to 65535",
             __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='win:UInt32' "
                       "count='99999999999999999999999'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:36: count \"99999999999999999999999\" is not a number "
             "from 1 to 65535",
             __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='win:UInt32' count='0'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:36: count \"0\" is not a number from 1 to 65535",
             __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='b' inType='win:Binary'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:1: win:Binary \"b\" without a length", __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<struct name='s'><struct name='u'/></struct>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:18: <struct> inside <struct> is not supported", __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<struct name='s'/></template></templates>" PROV_CLOSE,
             "t.man:2:1: <struct name=\"s\"> has no members", __LINE__);
  load_error(PROV_OPEN "<templates><template tid='t'/>\n"
                       "<template tid='t'/></templates>" PROV_CLOSE,
             "t.man:2:1: duplicate template \"t\"", __LINE__);
  load_error(PROV_OPEN "<events>\n<event value='1' template='nope'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:18: unknown template \"nope\"", __LINE__);
  load_error(PROV_OPEN "<events>\n<event value='1' level='win:Loud'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:18: unknown level \"win:Loud\"", __LINE__);
  load_error(PROV_OPEN "<events>\n<event value='1' keywords='a b'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:18: unknown keyword \"a\"", __LINE__);
  load_error(PROV_OPEN "<events>\n<event value='1' channel='Debug'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:18: unknown channel \"Debug\"", __LINE__);
  /* A task-scoped opcode is not visible from another task. */
  load_error(PROV_OPEN "<tasks><task name='a' value='1'><opcodes>"
                       "<opcode name='o' value='10'/></opcodes></task>"
                       "<task name='b' value='2'/></tasks><events>\n"
                       "<event value='1' task='b' opcode='o'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:27: unknown opcode \"o\"", __LINE__);
  load_error(PROV_OPEN "<events>\n<event value='65536'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:8: event value \"65536\" is not a number from 0 to "
             "65535",
             __LINE__);
  load_error(PROV_OPEN "<events>\n<event value='1' version='-1'/>"
                       "</events>" PROV_CLOSE,
             "t.man:2:18: event version \"-1\" is not a number from 0 to "
             "255",
             __LINE__);
  load_error(PROV_OPEN "<levels>\n<level name='x' value='256'/>"
                       "</levels>" PROV_CLOSE,
             "t.man:2:17: value \"256\" is not a number from 0 to 255",
             __LINE__);
  load_error("<m><events>\n<provider name='P' guid='{0102}'/></events></m>",
             "t.man:2:20: malformed guid \"{0102}\"", __LINE__);
  load_error("<m><events>\n<provider guid='{0102}'/></events></m>",
             "t.man:2:1: <provider> without a name", __LINE__);
  /* The second provider fails: the first is not registered either. */
  load_error(PROV_OPEN "<events><event value='1'/></events></provider>\n"
                       "<provider name='Q' "
                       "guid='{11111111-0506-0708-090a-0b0c0d0e0f10}'>"
                       "<events><event/></events>" PROV_CLOSE,
             "t.man:2:74: <event> without a value", __LINE__);

  /* Nesting 100 deep stops at the 65th element (m, events and provider
   * are open already: the 62nd <x>), with its position. */
  char deep[2000];
  size_t n = (size_t)snprintf(deep, sizeof deep, "%s\n", PROV_OPEN);
  for (int i = 0; i < 100; i++)
    n += (size_t)snprintf(deep + n, sizeof deep - n, "<x>");
  load_error(deep, "t.man:2:184: elements nested deeper than 64", __LINE__);

  /* A template of EVT_MANIFEST_MAX_FIELDS + 1 fields. */
  size_t cap = 64 << 10;
  char *big = malloc(cap);
  CHECK(big);
  if (big) {
    n = (size_t)snprintf(big, cap, "%s\n<templates><template tid='big'>",
                         PROV_OPEN);
    for (int i = 0; i <= EVT_MANIFEST_MAX_FIELDS; i++)
      n += (size_t)snprintf(big + n, cap - n,
                            "<data name='f%d' inType='win:UInt8'/>", i);
    snprintf(big + n, cap - n, "</template></templates>%s", PROV_CLOSE);
    load_error(big, "t.man:2:12: template \"big\" has more than 1024 fields",
               __LINE__);
    free(big);
  }

  /* No name given: the label says so. */
  struct evt_registry *r = new_registry();
  char err[128];
  CHECK(evt_manifest_load(r, "<m>", 3, NULL, EVT_PRIO_USER, err, sizeof err) ==
        -1);
  CHECK_STR(err, "<manifest>:1:4: end of input inside <m>");
  /* A tiny error buffer is cut short, never overrun. */
  char tiny[8];
  CHECK(evt_manifest_load(r, "<m>", 3, "x", EVT_PRIO_USER, tiny, sizeof tiny) ==
        -1);
  CHECK(strlen(tiny) == 7);
  CHECK(evt_manifest_load(r, "<m>", 3, "x", EVT_PRIO_USER, NULL, 0) == -1);
  evt_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* Built-in Kernel-Network schema.                                     */

struct knet_event {
  uint16_t id;
  const char *task, *opcode, *keywords, *msg_start;
  uint16_t ntop;
  bool v6;
};

static const struct knet_event knet[] = {
    {10, "TCPIP", "Data sent.", "IPV4", "TCPv4: %2 bytes transmitted", 10, 0},
    {11, "TCPIP", "Data received.", "IPV4", "TCPv4: %2 bytes received", 8, 0},
    {12, "TCPIP", "Connection attempted.", "IPV4",
     "TCPv4: Connection attempted", 15, 0},
    {13, "TCPIP", "Disconnect issued.", "IPV4", "TCPv4: Connection closed", 8,
     0},
    {14, "TCPIP", "Data retransmitted.", "IPV4", "TCPv4: %2 bytes retrans", 8,
     0},
    {15, "TCPIP", "Connection accepted.", "IPV4",
     "TCPv4: Connection established", 15, 0},
    {16, "TCPIP", "Reconnect attempted.", "IPV4", "TCPv4: Reconnect attempt", 8,
     0},
    {17, "TCPIP", "TCP connection attempt failed.", "IPV4, IPV6",
     "TCPv4: Connection attempt failed", 2, 0},
    {18, "TCPIP", "Protocol copied data on behalf of user.", "IPV4",
     "TCPv4: %2 bytes copied", 8, 0},
    {26, "TCPIP", "Data sent.", "IPV6", "TCPv6: %2 bytes transmitted", 10, 1},
    {27, "TCPIP", "Data received.", "IPV6", "TCPv6: %2 bytes received", 8, 1},
    {28, "TCPIP", "Connection attempted.", "IPV6",
     "TCPv6: Connection attempted", 15, 1},
    {29, "TCPIP", "Disconnect issued.", "IPV6", "TCPv6: Connection closed", 8,
     1},
    {30, "TCPIP", "Data retransmitted.", "IPV6", "TCPv6: %2 bytes retrans", 8,
     1},
    {31, "TCPIP", "Connection accepted.", "IPV6",
     "TCPv6: Connection established", 15, 1},
    {32, "TCPIP", "Reconnect attempted.", "IPV6", "TCPv6: Reconnect attempt", 8,
     1},
    {34, "TCPIP", "Protocol copied data on behalf of user.", "IPV6",
     "TCPv6: %2 bytes copied", 8, 1},
    {42, "UDPIP", "Data sent over UDP protocol.", "IPV4",
     "UDPv4: %2 bytes transmitted", 8, 0},
    {43, "UDPIP", "Data received over UDP protocol.", "IPV4",
     "UDPv4: %2 bytes received", 8, 0},
    {49, "UDPIP", "UDP connection attempt failed.", "IPV4, IPV6",
     "UDPv4: Connection attempt failed", 2, 0},
    {58, "UDPIP", "Data sent over UDP protocol.", "IPV6",
     "UDPv6: %2 bytes transmitted", 8, 1},
    {59, "UDPIP", "Data received over UDP protocol.", "IPV6",
     "UDPv6: %2 bytes received", 8, 1},
};

static void
test_builtin(void)
{
  struct evt_registry *r = new_registry();
  CHECK(evt_builtin_load(r) == 0);
  CHECK_STR(evt_registry_provider_name(r, knet_guid),
            "Microsoft-Windows-Kernel-Network");
  int found = 0;
  for (size_t i = 0; i < sizeof knet / sizeof knet[0]; i++) {
    const struct knet_event *k = &knet[i];
    const struct evt_schema *s =
        evt_registry_find(r, knet_guid, false, k->id, 0);
    if (!s) {
      CHECK(!"Kernel-Network event missing");
      fprintf(stderr, "  event %u\n", k->id);
      continue;
    }
    found++;
    char task[64], kw[128];
    snprintf(task, sizeof task, "KERNEL_NETWORK_TASK_%s", k->task);
    if (strcmp(k->keywords, "IPV4, IPV6") == 0)
      snprintf(kw, sizeof kw,
               "KERNEL_NETWORK_KEYWORD_IPV4, "
               "KERNEL_NETWORK_KEYWORD_IPV6");
    else
      snprintf(kw, sizeof kw, "KERNEL_NETWORK_KEYWORD_%s", k->keywords);
    CHECK_STR(s->level_name, "Information");
    CHECK_STR(s->task_name, task);
    CHECK_STR(s->opcode_name, k->opcode);
    CHECK_STR(s->channel_name, "Microsoft-Windows-Kernel-Network/Analytic");
    CHECK_STR(s->keywords_name, kw);
    CHECK(s->message &&
          strncmp(s->message, k->msg_start, strlen(k->msg_start)) == 0);
    CHECK(s->ntop == k->ntop && s->nfields == k->ntop);
    CHECK_STR(s->source, "Microsoft-Windows-Kernel-Network.man");
    if (k->ntop < 8) continue;
    const struct evt_field *f = s->fields;
    CHECK_STR(f[0].name, "PID");
    CHECK_STR(f[2].name, "daddr");
    if (k->v6) {
      CHECK(f[2].in == EVT_IN_BINARY && f[2].out == EVT_OUT_IPV6 &&
            f[2].flags == EVT_F_LEN_FIXED && f[2].len == 16);
    } else {
      CHECK(f[2].in == EVT_IN_UINT32 && f[2].out == EVT_OUT_IPV4);
    }
    CHECK(f[4].in == EVT_IN_UINT16 && f[4].out == EVT_OUT_PORT);
    CHECK_STR(f[k->ntop - 1].name, "connid");
  }
  CHECK(found == 22);
  /* No other events: 33 and a UDP/IPv6 fail do not exist. */
  int total = 0;
  for (unsigned id = 0; id < 256; id++)
    total += !!evt_registry_find(r, knet_guid, false, (uint16_t)id, 0);
  CHECK(total == 22);
  const struct evt_schema *s = evt_registry_find(r, knet_guid, false, 11, 0);
  CHECK(s && s->opcode == 11);
  CHECK_STR(s ? s->message : NULL,
            "TCPv4: %2 bytes received from %4:%6 to %3:%5.");
  evt_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* The project extension: classic MOF classes (rtk:classic, WBEM types). */

static bool
same_str(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define RTK_NS "xmlns:rtk='urn:realtimekql:etwcat'"
#define CLASSIC_OPEN(attrs)                                                    \
  "<m " RTK_NS "><events><provider name='MSNT_SystemTrace' " attrs             \
  " guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"                            \
  "<tasks><task name='Process' value='0'/></tasks>"                            \
  "<opcodes><opcode name='Start' value='1'/>"                                  \
  "<opcode name='Collect' value='73' message='$(string.c)'/></opcodes>"        \
  "<templates><template tid='t'>"                                              \
  "<data name='Key' inType='win:Pointer'/>"                                    \
  "<data name='Size' inType='rtk:WbemSizeT'/>"                                 \
  "<data name='UserSID' inType='rtk:WbemSid'/>"                                \
  "<data name='Ch' inType='rtk:WbemUnicodeChar'/>"                             \
  "<data name='Name' inType='win:AnsiString'/>"                                \
  "</template></templates><events>"
#define CLASSIC_CLOSE                                                          \
  "</events></provider></events>"                                              \
  "<localization><resources culture='en-US'><stringTable>"                     \
  "<string id='c' value='Collection Start'/>"                                  \
  "</stringTable></resources></localization></m>"

static void
test_classic(void)
{
  struct evt_registry *r = new_registry();
  char err[256] = "";
  int n = load(
      r,
      CLASSIC_OPEN(
          "rtk:classic='true'") "<event value='1' version='4' task='Process' "
                                "opcode='Start'"
                                " template='t'/>"
                                "<event value='73' version='2' task='Process'"
                                " opcode='Collect'/>"
                                "<event value='2' version='4' "
                                "template='t'/>" CLASSIC_CLOSE,
      err, sizeof err);
  CHECK_STR(err, "");
  CHECK(n == 3);
  const struct evt_schema *s = evt_registry_find(r, test_guid, true, 1, 4);
  CHECK(s && s->classic && s->opcode == 1);
  if (s) {
    CHECK_STR(s->provider_name, "MSNT_SystemTrace");
    CHECK_STR(s->task_name, "Process");
    CHECK_STR(s->opcode_name, "Start");
    CHECK(!s->level_name && !s->channel_name && !s->message);
    CHECK(s->ntop == 5 && s->nfields == 5);
    check_field(&s->fields[0], "Key", EVT_IN_POINTER, 0, 0, 0, 0, __LINE__);
    check_field(&s->fields[1], "Size", EVT_IN_WBEM_SIZET, 0, 0, 0, 0, __LINE__);
    check_field(&s->fields[2], "UserSID", EVT_IN_WBEM_SID, 0, 0, 0, 0,
                __LINE__);
    check_field(&s->fields[3], "Ch", EVT_IN_WBEM_UNICODECHAR, 0, 0, 0, 0,
                __LINE__);
  }
  /* Classic keys only: no manifest event 1. */
  CHECK(!evt_registry_find(r, test_guid, false, 1, 4));
  CHECK(!evt_registry_find(r, test_guid, true, 1, 3));
  s = evt_registry_find(r, test_guid, true, 73, 2);
  CHECK(s && s->nfields == 0);
  CHECK_STR(s ? s->opcode_name : NULL, "Collection Start");
  /* Without an opcode attribute the type has no name. */
  s = evt_registry_find(r, test_guid, true, 2, 4);
  CHECK(s && s->opcode == 2 && !s->opcode_name);
  evt_registry_free(r);

  /* The same names under a prefix bound elsewhere are not the extension:
   * the provider stays a manifest provider, the type unknown. */
  r = new_registry();
  n = load(r,
           "<m xmlns:rtk='urn:other'><events><provider name='P' "
           "rtk:classic='true' "
           "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
           "<events><event value='300'/></events></provider></events></m>",
           err, sizeof err);
  CHECK(n == 1);
  CHECK(evt_registry_find(r, test_guid, false, 300, 0) != NULL);
  evt_registry_free(r);
  /* A binding on the provider element itself counts; "false" is off. */
  r = new_registry();
  n = load(r,
           "<m><events><provider xmlns:k='urn:realtimekql:etwcat' "
           "k:classic='1' name='P' "
           "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
           "<events><event value='7' version='1'/></events></provider>"
           "<provider xmlns:k='urn:realtimekql:etwcat' k:classic='false' "
           "name='Q' guid='{01020304-0506-0708-090a-0b0c0d0e0f11}'>"
           "<events><event value='7'/></events></provider></events></m>",
           err, sizeof err);
  CHECK(n == 2);
  CHECK(evt_registry_find(r, test_guid, true, 7, 1) != NULL);
  evt_registry_free(r);
}

/* rtk:rest="true": the template's last field takes the rest of the
 * payload (StackWalk frames). */
static void
test_rest_attr(void)
{
  struct evt_registry *r = new_registry();
  char err[256] = "";
  int n = load(r,
               "<m " RTK_NS "><events><provider name='P' rtk:classic='true' "
               "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
               "<templates><template tid='t'>"
               "<data name='Pid' inType='win:UInt32'/>"
               "<data name='Stack' inType='win:Pointer' rtk:rest='true'/>"
               "</template></templates><events>"
               "<event value='32' version='2' template='t'/>"
               "</events></provider></events></m>",
               err, sizeof err);
  CHECK_STR(err, "");
  CHECK(n == 1);
  const struct evt_schema *s = evt_registry_find(r, test_guid, true, 32, 2);
  CHECK(s && s->ntop == 2);
  if (s && s->ntop == 2) {
    CHECK(!(s->fields[0].flags & EVT_F_COUNT_REST));
    CHECK(s->fields[1].flags & EVT_F_COUNT_REST);
  }
  evt_registry_free(r);
#define REST_T(fields)                                                         \
  "<m " RTK_NS "><events><provider name='P' "                                  \
  "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"                             \
  "<templates><template tid='t'>\n" fields                                     \
  "</template></templates>" PROV_CLOSE
  load_error(REST_T("<data name='S' inType='win:Pointer' rtk:rest='yes'/>"),
             "t.man:2:37: rest=\"yes\" is not true or false", __LINE__);
  load_error(REST_T("<data name='S' inType='win:Pointer' rtk:rest='true'/>"
                    "<data name='n' inType='win:UInt32'/>"),
             "t.man:2:37: rest=\"true\" is for the template's last field, "
             "without count=",
             __LINE__);
  load_error(REST_T("<data name='S' inType='win:UnicodeString' "
                    "rtk:rest='true'/>"),
             "t.man:2:43: rest=\"true\" needs a fixed-size inType", __LINE__);
#undef REST_T
}

static void
test_classic_errors(void)
{
  load_error(CLASSIC_OPEN("rtk:classic='yes'") CLASSIC_CLOSE,
             "t.man:1:81: classic=\"yes\" is not true or false", __LINE__);
  load_error(CLASSIC_OPEN("rtk:classic='true'") "\n<event value='256' "
                                                "version='1'/>" CLASSIC_CLOSE,
             "t.man:2:8: classic event value \"256\" is not a number from 0 "
             "to 255",
             __LINE__);
  load_error(
      CLASSIC_OPEN("rtk:classic='true'") "\n<event value='2' version='1' "
                                         "opcode='Start'/>" CLASSIC_CLOSE,
      "t.man:2:30: classic event 2 has opcode \"Start\" of value 1", __LINE__);
  load_error("<m " RTK_NS "><events><provider name='P' "
             "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
             "<templates><template tid='t'>\n"
             "<data name='a' inType='rtk:SizeT'/>"
             "</template></templates>" PROV_CLOSE,
             "t.man:2:16: unknown inType \"rtk:SizeT\"", __LINE__);
  /* WBEM names need the project namespace: unbound prefixes and win:
   * do not reach them. */
  load_error(PROV_OPEN "<templates><template tid='t'>\n"
                       "<data name='a' inType='x:WbemSid'/>"
                       "</template></templates>" PROV_CLOSE,
             "t.man:2:16: unknown inType \"x:WbemSid\"", __LINE__);
  load_error("<m xmlns:win='urn:realtimekql:etwcat'><events><provider "
             "name='P' guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
             "<templates><template tid='t'>\n"
             "<data name='a' inType='win:UInt32'/>"
             "</template></templates>" PROV_CLOSE,
             "t.man:2:16: unknown inType \"win:UInt32\"", __LINE__);
}

/* The kernel MOF classes compiled in: every version the docs list. */
struct kclass {
  const char *name;
  const char *guid;
  int type, version;
  const char *opcode;
  unsigned ntop;
};

static const struct kclass kclasses[] = {
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 1, 0, "Start", 4},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 2, 1, "End", 7},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 3, 2, "DCStart", 8},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 4, 3, "DCEnd", 9},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 1, 4, "Start", 12},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 39, 4, "Defunct", 12},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 39, 5, "Defunct", 13},
    {"Process", "3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", 11, 2, "Terminate", 1},
    {"Thread", "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", 1, 0, "Start", 2},
    {"Thread", "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", 1, 1, "Start", 9},
    {"Thread", "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", 2, 1, "End", 2},
    {"Thread", "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", 3, 2, "DCStart", 10},
    {"Thread", "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", 4, 3, "DCEnd", 14},
    {"Thread", "3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c", 2, 4, "End", 15},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 10, 0, "Load", 3},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 3, 0, "DCStart", 3},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 10, 1, "Load", 4},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 2, 2, "UnLoad", 12},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 33, 2, "KernelBase", 1},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 34, 2, "HypercallPage",
     1},
    {"Image", "2cb15d1d-5fc1-11d2-abe1-00a0c911f518", 4, 3, "DCEnd", 14},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 10, 0, "Send", 6},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 10, 1, "Send", 10},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 10, 2, "SendIPV4", 10},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 15, 2, "AcceptIPV4", 15},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 17, 2, "Fail", 2},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 26, 2, "SendIPV6", 10},
    {"TcpIp", "9a280ac0-c8e0-11d1-84e2-00c04fb998a2", 34, 2, "TCPCopyIPV6", 8},
    {"UdpIp", "bf3a50c5-a9c9-4988-a005-2df0b7c80f80", 10, 0, "Send", 7},
    {"UdpIp", "bf3a50c5-a9c9-4988-a005-2df0b7c80f80", 11, 1, "Recv", 6},
    {"UdpIp", "bf3a50c5-a9c9-4988-a005-2df0b7c80f80", 27, 2, "RecvIPV6", 8},
    {"UdpIp", "bf3a50c5-a9c9-4988-a005-2df0b7c80f80", 17, 2, "Fail", 2},
    {"DiskIo", "3d6fa8d4-fe05-11d0-9dda-00c04fd7ba7c", 10, 3, "Read", 9},
    {"DiskIo", "3d6fa8d4-fe05-11d0-9dda-00c04fd7ba7c", 12, 3, "ReadInit", 2},
    {"FileIo", "90cbdc39-4a3e-11d1-84f4-0000f80464e3", 64, 3, "Create", 7},
    {"FileIo", "90cbdc39-4a3e-11d1-84f4-0000f80464e3", 36, 2, "FileRundown", 2},
    {"Registry", "ae53722e-c863-11d2-8659-00c04fa321a1", 11, 2, "Open", 5},
    {"EventTrace", "68fdd900-4a3e-11d1-84f4-0000f80464e3", 80, 2,
     "PartitionInfoExtension", 6},
};

static int
hexdigit(char ch)
{
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

/* "3d6fa8d0-fe05-..." (lowercase) into Windows byte order. */
static void
guid_of(const char *s, uint8_t g[16])
{
  uint8_t raw[16];
  size_t k = 0;
  for (; *s && k < 16; s++) {
    if (*s == '-') continue;
    raw[k++] = (uint8_t)(hexdigit(s[0]) << 4 | hexdigit(s[1]));
    s++;
  }
  static const int order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; i++)
    g[i] = raw[order[i]];
}

/* Decode hex payload bytes with s at pointer size ptr. */
static const char *
decode_hex(const struct evt_schema *s, const char *hex, int ptr)
{
  static uint8_t p[512];
  static char out[2048];
  size_t n = 0;
  for (; hex[0] && hex[1] && n < sizeof p; hex++) {
    if (hexdigit(hex[0]) < 0) continue;
    p[n++] = (uint8_t)(hexdigit(hex[0]) << 4 | hexdigit(hex[1]));
    hex++;
  }
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.ptr_size = (uint8_t)ptr;
  ev.data = p;
  ev.data_len = (uint32_t)n;
  struct jsonw w;
  jw_init(&w);
  char err[256];
  if (evt_decode_payload(NULL, s, &ev, NULL, &w, err, sizeof err) != 0)
    snprintf(out, sizeof out, "ERR: %s", err);
  else
    snprintf(out, sizeof out, "%.*s", (int)w.len, w.buf);
  jw_free(&w);
  return out;
}

static void
test_builtin_kernel(void)
{
  struct evt_registry *r = new_registry();
  CHECK(evt_builtin_load(r) == 0);
  for (size_t i = 0; i < sizeof kclasses / sizeof kclasses[0]; i++) {
    const struct kclass *k = &kclasses[i];
    uint8_t g[16];
    guid_of(k->guid, g);
    const struct evt_schema *s =
        evt_registry_find(r, g, true, (uint16_t)k->type, (uint8_t)k->version);
    check_count++;
    if (!s || !s->classic || s->opcode != k->type || s->ntop != k->ntop ||
        !same_str(s->task_name, k->name) ||
        !same_str(s->opcode_name, k->opcode) ||
        !same_str(s->provider_name, "MSNT_SystemTrace")) {
      check_failures++;
      fprintf(stderr, "%s:%d: %s type %d version %d: %s, %u fields\n", __FILE__,
              __LINE__, k->name, k->type, k->version,
              s ? (s->opcode_name ? s->opcode_name : "(no name)") : "missing",
              s ? s->ntop : 0);
    }
    CHECK_STR(evt_registry_provider_name(r, g), "MSNT_SystemTrace");
  }
  /* The providers compiled in besides the kernel classes, by name, with
   * one event each that their source manifests carry. */
  static const struct {
    const char *guid, *name;
    int id, version;
  } provs[] = {
      {"22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716",
       "Microsoft-Windows-Kernel-Process", 1, 1},
      {"edd08927-9cc4-4e65-b970-c2560fb5c289", "Microsoft-Windows-Kernel-File",
       12, 1},
      {"70eb4f03-c1de-4f73-a051-33d13d5413bd",
       "Microsoft-Windows-Kernel-Registry", 1, 0},
      {"1c95126e-7eea-49a9-a3fe-a378b03ddb4d", "Microsoft-Windows-DNS-Client",
       3008, 0},
      {"a0c1853b-5c40-4b15-8766-3cf1c58f985a", "Microsoft-Windows-PowerShell",
       4104, 1},
      {"2f07e2ee-15db-40f1-90ef-9d7ba282188a", "Microsoft-Windows-TCPIP", 1033,
       0},
      {"1418ef04-b0b4-4623-bf7e-d74ab47bbdaa", "Microsoft-Windows-WMI-Activity",
       5857, 0},
      {"e13c0d23-ccbc-4e12-931b-d9cc2eee27e4",
       "Microsoft-Windows-DotNETRuntime", 10, 4},
      {"a669021c-c450-4609-a035-5af59af4df18",
       "Microsoft-Windows-DotNETRuntimeRundown", 154, 2},
  };
  for (size_t i = 0; i < sizeof provs / sizeof provs[0]; i++) {
    uint8_t pg[16];
    guid_of(provs[i].guid, pg);
    CHECK_STR(evt_registry_provider_name(r, pg), provs[i].name);
    const struct evt_schema *ps = evt_registry_find(
        r, pg, false, (uint16_t)provs[i].id, (uint8_t)provs[i].version);
    check_count++;
    if (!ps || ps->classic || !ps->ntop) {
      check_failures++;
      fprintf(stderr, "%s:%d: %s event %d version %d missing\n", __FILE__,
              __LINE__, provs[i].name, provs[i].id, provs[i].version);
    }
  }
  /* One schema, both pointer sizes: Process V4 DCStart as a 64-bit and
   * as a 32-bit record (UniqueProcessKey, DirectoryTableBase and the
   * TOKEN_USER before the SID are pointer-sized). */
  uint8_t g[16];
  guid_of("3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c", g);
  const struct evt_schema *s = evt_registry_find(r, g, true, 3, 4);
  static const char sid[] = "0101000000000005 12000000";
  static const char tail[] = "6e6f74657061642e65786500 6100000000000000 0000";
  char hex[512];
  snprintf(hex, sizeof hex,
           "c0a0d48102ccffff 2c0b0000 40020000 01000000 03010000 "
           "00b0c20400000000 00000000 "
           "30c1d48102ccffff 0000000000000000 %s %s",
           sid, tail);
  CHECK_STR(s ? decode_hex(s, hex, 8) : "missing",
            "{\"UniqueProcessKey\":\"0xFFFFCC0281D4A0C0\","
            "\"ProcessId\":\"0xB2C\",\"ParentId\":\"0x240\",\"SessionId\":1,"
            "\"ExitStatus\":259,\"DirectoryTableBase\":\"0x4C2B000\","
            "\"Flags\":0,\"UserSID\":\"S-1-5-18\","
            "\"ImageFileName\":\"notepad.exe\",\"CommandLine\":\"a\","
            "\"PackageFullName\":\"\",\"ApplicationId\":\"\"}");
  snprintf(hex, sizeof hex,
           "c0a0d481 2c0b0000 40020000 01000000 03010000 00b0c204 "
           "00000000 30c1d481 00000000 %s %s",
           sid, tail);
  CHECK_STR(s ? decode_hex(s, hex, 4) : "missing",
            "{\"UniqueProcessKey\":\"0x81D4A0C0\","
            "\"ProcessId\":\"0xB2C\",\"ParentId\":\"0x240\",\"SessionId\":1,"
            "\"ExitStatus\":259,\"DirectoryTableBase\":\"0x4C2B000\","
            "\"Flags\":0,\"UserSID\":\"S-1-5-18\","
            "\"ImageFileName\":\"notepad.exe\",\"CommandLine\":\"a\","
            "\"PackageFullName\":\"\",\"ApplicationId\":\"\"}");
  /* No token: a WbemSid of one zero u32. */
  snprintf(hex, sizeof hex,
           "c0a0d481 2c0b0000 40020000 01000000 03010000 00b0c204 "
           "00000000 00000000 %s",
           tail);
  CHECK_STR(s ? decode_hex(s, hex, 4) : "missing",
            "{\"UniqueProcessKey\":\"0x81D4A0C0\","
            "\"ProcessId\":\"0xB2C\",\"ParentId\":\"0x240\",\"SessionId\":1,"
            "\"ExitStatus\":259,\"DirectoryTableBase\":\"0x4C2B000\","
            "\"Flags\":0,\"UserSID\":null,"
            "\"ImageFileName\":\"notepad.exe\",\"CommandLine\":\"a\","
            "\"PackageFullName\":\"\",\"ApplicationId\":\"\"}");
  /* TcpIp V2 SendIPV4: network-order address and ports, connid sized by
   * the record. */
  guid_of("9a280ac0-c8e0-11d1-84e2-00c04fb998a2", g);
  s = evt_registry_find(r, g, true, 10, 2);
  CHECK_STR(s ? decode_hex(s,
                           "ac220000 99050000 ac1ba639 0a28e4e6 01bb cdd3 "
                           "00000000 01000000 02000000 00c0cf2980f8ffff",
                           8)
              : "missing",
            "{\"PID\":8876,\"size\":1433,\"daddr\":\"172.27.166.57\","
            "\"saddr\":\"10.40.228.230\",\"dport\":443,\"sport\":52691,"
            "\"startime\":0,\"endtime\":1,\"seqnum\":2,"
            "\"connid\":\"0xFFFFF88029CFC000\"}");
  CHECK_STR(s ? decode_hex(s,
                           "ac220000 99050000 ac1ba639 0a28e4e6 01bb cdd3 "
                           "00000000 01000000 02000000 00c0cf29",
                           4)
              : "missing",
            "{\"PID\":8876,\"size\":1433,\"daddr\":\"172.27.166.57\","
            "\"saddr\":\"10.40.228.230\",\"dport\":443,\"sport\":52691,"
            "\"startime\":0,\"endtime\":1,\"seqnum\":2,"
            "\"connid\":\"0x29CFC000\"}");
  evt_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* Real manifests from the corpus.                                     */

static int
corpus_manifest(const char *file, const char *label, struct evt_registry *r)
{
  char path[256];
  snprintf(path, sizeof path, CORPUS "manifests/%s", file);
  size_t len;
  char *xml = read_file(path, &len);
  if (!xml) {
    printf("skip %s: %s not found\n", label, path);
    return -2;
  }
  char err[256] = "";
  int n = evt_manifest_load(r, xml, len, file, EVT_PRIO_USER, err, sizeof err);
  if (n < 0) fprintf(stderr, "%s: %s\n", label, err);
  CHECK(n > 0);
  printf("%s: %d event schemas\n", file, n);
  free(xml);
  return n;
}

static void
test_corpus(void)
{
  struct evt_registry *r = new_registry();
  int n = corpus_manifest("Tx__SystemEvents.man", "SystemEvents", r);
  if (n >= 0) {
    CHECK(n == 450);
    /* Its Kernel-Network provider is what the built-in reproduces. */
    struct evt_registry *b = new_registry();
    CHECK(evt_builtin_load(b) == 0);
    for (size_t i = 0; i < sizeof knet / sizeof knet[0]; i++) {
      const struct evt_schema *x =
          evt_registry_find(r, knet_guid, false, knet[i].id, 0);
      const struct evt_schema *y =
          evt_registry_find(b, knet_guid, false, knet[i].id, 0);
      CHECK(x && y);
      if (!x || !y) continue;
      CHECK(same_str(x->level_name, y->level_name));
      CHECK(same_str(x->task_name, y->task_name));
      CHECK(same_str(x->opcode_name, y->opcode_name));
      CHECK(same_str(x->channel_name, y->channel_name));
      CHECK(same_str(x->keywords_name, y->keywords_name));
      CHECK(same_str(x->message, y->message));
      CHECK(x->opcode == y->opcode);
      CHECK(x->nfields == y->nfields && x->ntop == y->ntop);
      for (uint16_t j = 0; j < x->nfields && j < y->nfields; j++) {
        const struct evt_field *p = &x->fields[j], *q = &y->fields[j];
        check_count++;
        if (strcmp(p->name, q->name) || p->in != q->in || p->out != q->out ||
            p->flags != q->flags || p->len != q->len) {
          check_failures++;
          fprintf(stderr, "event %u field %u: %s/%s differ\n", knet[i].id, j,
                  p->name, q->name);
        }
      }
    }
    evt_registry_free(b);
    /* A provider with an imported channel and a map. */
    static const uint8_t kgen[16] = {0xb7, 0xa8, 0x8c, 0xa6, 0x4f, 0x00,
                                     0xb6, 0xd7, 0xa6, 0x98, 0x07, 0xe2,
                                     0xde, 0x0f, 0x1f, 0x5d};
    CHECK_STR(evt_registry_provider_name(r, kgen),
              "Microsoft-Windows-Kernel-General");
    CHECK(evt_registry_find_map(r, kgen, "Ex:SystemTimeChange.ReasonMap"));
  }
  n = corpus_manifest("Tx__HTTP_Server.man", "HTTP_Server", r);
  if (n >= 0) CHECK(n == 85);
  evt_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* EventSource manifests (event 65534).                                */

static const char es_man[] =
    "<instrumentationManifest><instrumentation><events>"
    "<provider name='My-Source' "
    "guid='{01020304-0506-0708-090a-0b0c0d0e0f10}'>"
    "<tasks><task name='Req' value='1' message='$(string.t)'>"
    "<opcodes><opcode name='Go' value='11'/></opcodes></task></tasks>"
    "<templates><template tid='A'><data name='x' inType='win:Int32'/>"
    "</template></templates>"
    "<events><event value='1' version='0' level='win:Informational' "
    "task='Req' opcode='Go' template='A' message='$(string.e)'/></events>"
    "</provider></events></instrumentation><localization>"
    "<resources culture='en-US'><stringTable>"
    "<string id='t' value='Request'/><string id='e' value='x=%1'/>"
    "</stringTable></resources></localization></instrumentationManifest>";

static size_t
envelope(uint8_t *out, uint16_t total, uint16_t num, const char *data, size_t n)
{
  out[0] = 1;
  out[1] = 1;
  out[2] = 0;
  out[3] = 0x5B;
  out[4] = (uint8_t)total;
  out[5] = (uint8_t)(total >> 8);
  out[6] = (uint8_t)num;
  out[7] = (uint8_t)(num >> 8);
  memcpy(out + 8, data, n);
  return n + 8;
}

static void
test_chunks(void)
{
  struct evt_registry *r = new_registry();
  char err[256];
  uint8_t buf[sizeof es_man + 16];
  size_t len = sizeof es_man - 1, third = len / 3;

  /* Three chunks in order: stored, stored, loaded. */
  size_t n = envelope(buf, 3, 0, es_man, third);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == 0);
  CHECK(!evt_registry_find(r, test_guid, false, 1, 0));
  n = envelope(buf, 3, 1, es_man + third, third);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == 0);
  n = envelope(buf, 3, 2, es_man + 2 * third, len - 2 * third);
  int rc = evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err);
  if (rc != 1) fprintf(stderr, "chunks: %s\n", err);
  CHECK(rc == 1);
  const struct evt_schema *s = evt_registry_find(r, test_guid, false, 1, 0);
  CHECK(s);
  if (s) {
    CHECK_STR(s->task_name, "Request");
    CHECK_STR(s->opcode_name, "Go");
    CHECK_STR(s->message, "x=%1");
    CHECK(s->nfields == 1);
    CHECK_STR(s->source, "manifest of 01020304-0506-0708-090a-0b0c0d0e0f10");
  }
  CHECK_STR(evt_registry_provider_name(r, test_guid), "My-Source");

  /* The same manifest again, in one chunk with a trailing NUL: complete,
   * and not compiled a second time (the schema stays the same object). */
  char with_nul[sizeof es_man];
  memcpy(with_nul, es_man, sizeof es_man);
  n = envelope(buf, 1, 0, with_nul, sizeof es_man);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == 1);
  CHECK(evt_registry_find(r, test_guid, false, 1, 0) == s);

  /* Envelope errors. */
  CHECK(evt_manifest_chunk(r, test_guid, buf, 7, err, sizeof err) == -1);
  CHECK(strstr(err, "shorter than its 8-byte envelope"));
  n = envelope(buf, 1, 0, "<a/>", 4);
  buf[3] = 0x5C;
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == -1);
  CHECK(strstr(err, "unknown envelope"));
  n = envelope(buf, 2, 2, "<a/>", 4);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == -1);
  n = envelope(buf, 0, 0, "<a/>", 4);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == -1);
  /* Out of sequence: 0 then 2 of 3, then 1 (the state was dropped). */
  n = envelope(buf, 3, 0, es_man, third);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == 0);
  n = envelope(buf, 3, 2, es_man, third);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == -1);
  CHECK(strstr(err, "chunk 2 of 3 out of sequence"));
  n = envelope(buf, 3, 1, es_man, third);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == -1);
  /* A complete manifest that does not compile reports its error. */
  n = envelope(buf, 1, 0, "<a>", 3);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == -1);
  CHECK_STR(err, "manifest of 01020304-0506-0708-090a-0b0c0d0e0f10:1:4: end "
                 "of input inside <a>");
  /* Another registry does not see this one's chunks. */
  struct evt_registry *r2 = new_registry();
  n = envelope(buf, 2, 0, es_man, third);
  CHECK(evt_manifest_chunk(r, test_guid, buf, n, err, sizeof err) == 0);
  n = envelope(buf, 2, 1, es_man + third, len - third);
  CHECK(evt_manifest_chunk(r2, test_guid, buf, n, err, sizeof err) == -1);
  evt_manifest_chunks_drop(r2);
  evt_registry_free(r2);
  evt_manifest_chunks_drop(r);
  evt_registry_free(r);

  /* More providers at once than the table holds: the oldest is evicted,
   * the others complete. */
  r = new_registry();
  uint8_t g[EVT_MANIFEST_PENDING + 1][16];
  for (int i = 0; i <= EVT_MANIFEST_PENDING; i++) {
    memcpy(g[i], test_guid, 16);
    g[i][15] = (uint8_t)(0x80 + i);
    n = envelope(buf, 2, 0, es_man, third);
    CHECK(evt_manifest_chunk(r, g[i], buf, n, err, sizeof err) == 0);
  }
  n = envelope(buf, 2, 1, es_man + third, len - third);
  CHECK(evt_manifest_chunk(r, g[0], buf, n, err, sizeof err) == -1);
  CHECK(evt_manifest_chunk(r, g[EVT_MANIFEST_PENDING], buf, n, err,
                           sizeof err) == 1);
  evt_manifest_chunks_drop(NULL);
  evt_registry_free(r);
}

/* The one manifest event of Tx__BondEtwSample.etl. Its EVENT_HEADER is
 * the 80 bytes before the payload and starts with the u16 event size. */
static void
test_bond(void)
{
  size_t len;
  char *etl = read_file(CORPUS "Tx__BondEtwSample.etl", &len);
  if (!etl) {
    printf("skip bond: " CORPUS "Tx__BondEtwSample.etl not found\n");
    return;
  }
  static const char magic[] = "\x01\x01\x00\x5b\x01\x00\x00\x00<instr";
  size_t at = 0;
  for (size_t i = 80; i + sizeof magic - 1 <= len; i++) {
    if (memcmp(etl + i, magic, sizeof magic - 1) == 0) {
      at = i;
      break;
    }
  }
  CHECK(at != 0);
  if (!at) {
    free(etl);
    return;
  }
  const uint8_t *h = (const uint8_t *)etl + at - 80;
  size_t size = (size_t)(h[0] | h[1] << 8);
  CHECK(size > 80 && at - 80 + size <= len);
  size_t plen = size - 80;
  CHECK(plen == 6329);
  uint8_t bond[16];
  memcpy(bond, h + 24, 16); /* EVENT_HEADER.ProviderId */
  struct evt_registry *r = new_registry();
  char err[256] = "";
  int rc = evt_manifest_chunk(r, bond, (const uint8_t *)etl + at, plen, err,
                              sizeof err);
  if (rc != 1) fprintf(stderr, "bond: %s\n", err);
  CHECK(rc == 1);
  CHECK_STR(evt_registry_provider_name(r, bond),
            "MSOpenTech-Tx-BinaryEventSource");
  int events = 0;
  for (uint16_t id = 1; id <= 5; id++)
    events += !!evt_registry_find(r, bond, false, id, 0);
  CHECK(events == 5);
  const struct evt_schema *s = evt_registry_find(r, bond, false, 3, 0);
  if (s) {
    CHECK_STR(s->task_name, "WriteManifestPayload");
    CHECK_STR(s->level_name, "Log Always");
    CHECK(!s->opcode_name && !s->channel_name && !s->keywords_name);
    CHECK(s->ntop == 6 && s->nfields == 6);
    CHECK_STR(s->fields[5].name, "manifestPayload");
  }
  s = evt_registry_find(r, bond, false, 1, 0);
  if (s && s->nfields == 8) {
    CHECK(s->fields[7].flags == EVT_F_LEN_FIELD && s->fields[7].len == 6);
  }
  printf("Tx__BondEtwSample.etl manifest: %d event schemas\n", events);
  evt_manifest_chunks_drop(r);
  evt_registry_free(r);
  free(etl);
}

int
main(void)
{
  test_lex_tokens();
  test_lex_errors();
  test_features();
  test_cultures();
  test_channel_numbering();
  test_errors();
  test_builtin();
  test_classic();
  test_classic_errors();
  test_rest_attr();
  test_builtin_kernel();
  test_corpus();
  test_chunks();
  test_bond();
  return check_result();
}
