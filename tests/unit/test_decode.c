/*
 * test_decode.c - unit tests of payload decoding (etwcat/evt_decode.c).
 *
 * Schemas are built by hand as static field arrays; payloads are written
 * as hex. Each case decodes into a jsonw after `{"EventData":` and
 * compares the exact JSON text of the value. Regular cases cover every
 * in-type and the out-types that change the text, fixed and field
 * lengths and counts, structs, arrays of structs, maps, duplicate names,
 * --tx-compat, and the real Kernel-Network event 11 payload of
 * etw-schemas.md section 2. Error cases check the -1, the reason, and
 * that nothing of the object is left in the writer. The formatters
 * themselves are tested in test_format.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/evt_decode.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

/* Short names for the schema tables below. */
#define I8 EVT_IN_INT8
#define U8 EVT_IN_UINT8
#define I16 EVT_IN_INT16
#define U16 EVT_IN_UINT16
#define I32 EVT_IN_INT32
#define U32 EVT_IN_UINT32
#define I64 EVT_IN_INT64
#define U64 EVT_IN_UINT64
#define USTR EVT_IN_UNICODESTRING
#define ASTR EVT_IN_ANSISTRING
#define BIN EVT_IN_BINARY

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
/* A schema over field array a with the first ntop_ at top level. */
#define SCHEMA(a, ntop_)                                                       \
  {                                                                            \
    .provider = {1, 2, 3}, .nfields = NF(a), .ntop = ntop_, .fields = a        \
  }

static struct jsonw w;
static struct evt_registry *reg;
static char err[256];
static uint8_t payload[8192];

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
  size_t n = 0;
  int hi = -1;
  for (; *h; h++) {
    int v;
    if (*h >= '0' && *h <= '9')
      v = *h - '0';
    else if (*h >= 'a' && *h <= 'f')
      v = *h - 'a' + 10;
    else if (*h >= 'A' && *h <= 'F')
      v = *h - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else if (n < cap) {
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  return n;
}

/*
 * Decode n payload bytes with s. Returns the EventData value text, or
 * "ERR: reason" after checking that the writer was left exactly as it
 * was (the caller's key pending, nothing after it).
 */
static const char *
dec_bytes(const struct evt_schema *s, const uint8_t *p, size_t n, int ptr,
          bool tx)
{
  static char out[16384];
  static const char pre[] = "{\"EventData\":";
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.ptr_size = (uint8_t)ptr;
  ev.data = p;
  ev.data_len = (uint32_t)n;
  struct evt_opts o = {tx};
  jw_reset(&w);
  jw_obj_begin(&w);
  jw_key(&w, "EventData");
  size_t before = w.len;
  memcpy(err, "(unset)", 8);
  int rc = evt_decode_payload(reg, s, &ev, &o, &w, err, sizeof err);
  if (rc != 0) {
    CHECK(rc == -1);
    CHECK(w.len == before);
    jw_null(&w);
    jw_obj_end(&w);
    CHECK(w.len == sizeof pre - 1 + 5);
    CHECK(w.len < sizeof out && !memcmp(w.buf, "{\"EventData\":null}", 18));
    snprintf(out, sizeof out, "ERR: %s", err);
    return out;
  }
  CHECK(!err[0]);
  jw_obj_end(&w);
  CHECK(!w.oom);
  CHECK(w.len >= sizeof pre && !memcmp(w.buf, pre, sizeof pre - 1));
  size_t k = w.len - (sizeof pre - 1) - 1;
  if (k >= sizeof out) k = sizeof out - 1;
  memcpy(out, w.buf + sizeof pre - 1, k);
  out[k] = 0;
  return out;
}

static const char *
dec(const struct evt_schema *s, const char *hex)
{
  size_t n = unhex(hex, payload, sizeof payload);
  return dec_bytes(s, payload, n, 8, false);
}

static const char *
dec_opt(const struct evt_schema *s, const char *hex, int ptr, bool tx)
{
  size_t n = unhex(hex, payload, sizeof payload);
  return dec_bytes(s, payload, n, ptr, tx);
}

/* ------------------------------------------------------------------ */
/* Regular cases */

static const struct evt_field kn_f[] = {
    F("PID", U32, 0),
    F("size", U32, 0),
    F("daddr", U32, EVT_OUT_IPV4),
    F("saddr", U32, EVT_OUT_IPV4),
    F("dport", U16, EVT_OUT_PORT),
    F("sport", U16, EVT_OUT_PORT),
    F("seqnum", U32, 0),
    F("connid", U32, 0),
};
static const struct evt_schema kn = SCHEMA(kn_f, 8);
static const char kn_payload[] = "9c0a0000 05100000 9d38f426 0a796a76 01bb "
                                 "f12c 00000000 00000000 00000000";

static void
test_kernel_network(void)
{
  /* Event 11 of Tx__KernelNetwork.etl; 4 trailing bytes are ignored. */
  CHECK_STR(dec(&kn, kn_payload),
            "{\"PID\":2716,\"size\":4101,\"daddr\":\"157.56.244.38\","
            "\"saddr\":\"10.121.106.118\",\"dport\":443,\"sport\":61740,"
            "\"seqnum\":0,\"connid\":0}");
  /* --tx-compat: ports as the raw little-endian u16. */
  CHECK_STR(dec_opt(&kn, kn_payload, 8, true),
            "{\"PID\":2716,\"size\":4101,\"daddr\":\"157.56.244.38\","
            "\"saddr\":\"10.121.106.118\",\"dport\":47873,\"sport\":11505,"
            "\"seqnum\":0,\"connid\":0}");
  /* Exactly the template size, no trailing bytes. */
  CHECK_STR(dec(&kn, "9c0a0000 05100000 9d38f426 0a796a76 01bb f12c "
                     "01000000 02000000"),
            "{\"PID\":2716,\"size\":4101,\"daddr\":\"157.56.244.38\","
            "\"saddr\":\"10.121.106.118\",\"dport\":443,\"sport\":61740,"
            "\"seqnum\":1,\"connid\":2}");
}

static void
test_spans(void)
{
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.ptr_size = 8;
  ev.data = payload;
  ev.data_len = (uint32_t)unhex(kn_payload, payload, sizeof payload);
  struct evt_span sp[3];
  jw_reset(&w);
  CHECK(evt_decode_payload_spans(reg, &kn, &ev, NULL, &w, sp, 3, err,
                                 sizeof err) == 0);
  CHECK(sp[0].end - sp[0].start == 4 &&
        !memcmp(w.buf + sp[0].start, "2716", 4));
  CHECK(sp[2].end - sp[2].start == 15 &&
        !memcmp(w.buf + sp[2].start, "\"157.56.244.38\"", 15));
  CHECK(w.buf[sp[2].end] == ',');
}

static const struct evt_field ints_f[] = {
    F("i8", I8, 0),
    F("u8", U8, 0),
    F("i16", I16, 0),
    F("u16", U16, 0),
    F("i32", I32, 0),
    F("u32", U32, 0),
    F("i64", I64, 0),
    F("u64", U64, 0),
    F("h32", EVT_IN_HEXINT32, 0),
    F("h64", EVT_IN_HEXINT64, 0),
    F("b", EVT_IN_BOOLEAN, 0),
    F("b", EVT_IN_BOOLEAN, 0),
    F("f", EVT_IN_FLOAT, 0),
    F("f2", EVT_IN_FLOAT, 0),
    F("d", EVT_IN_DOUBLE, 0),
    F("d2", EVT_IN_DOUBLE, 0),
    F("g", EVT_IN_GUID, 0),
    F("ft", EVT_IN_FILETIME, 0),
    F("st", EVT_IN_SYSTEMTIME, 0),
    F("p", EVT_IN_POINTER, 0),
    F("sz", EVT_IN_WBEM_SIZET, 0),
    F("sid", EVT_IN_SID, 0),
    F("nul", EVT_IN_NULL, 0),
};
static const struct evt_schema ints = SCHEMA(ints_f, NF(ints_f));

static void
test_in_types(void)
{
  CHECK_STR(dec(&ints, "ff ff feff 3412 fdffffff ffffffff 0000000000000080 "
                       "ffffffffffffffff efbeadde 0100000000000000 "
                       "01000000 00000000 0000c03f cdcccc3d "
                       "9a9999999999b93f 039300aa4bdd4dfe "
                       "33221100 5544 7766 8899aabbccddeeff "
                       "07a18f381c08cb01 "
                       "e807 0200 0500 1d00 0d00 0500 0900 0700 "
                       "0000001000000000 2a00000000000000 "
                       "0101 000000000005 12000000"),
            "{\"i8\":-1,\"u8\":255,\"i16\":-2,\"u16\":4660,\"i32\":-3,"
            "\"u32\":4294967295,\"i64\":-9223372036854775808,"
            "\"u64\":18446744073709551615,\"h32\":\"0xDEADBEEF\","
            "\"h64\":\"0x1\",\"b\":true,\"b_2\":false,\"f\":1.5,"
            "\"f2\":0.1,\"d\":0.1,\"d2\":-2.5e+300,"
            "\"g\":\"00112233-4455-6677-8899-aabbccddeeff\","
            "\"ft\":\"2010-06-09T21:39:21.1234567\","
            "\"st\":\"2024-02-29T13:05:09.007\",\"p\":\"0x10000000\","
            "\"sz\":\"0x2A\",\"sid\":\"S-1-5-18\",\"nul\":null}");
}

static const struct evt_field ptr_f[] = {
    F("p", EVT_IN_POINTER, 0),
    F("sz", EVT_IN_WBEM_SIZET, 0),
    F("n", U16, 0),
};
static const struct evt_schema ptrs = SCHEMA(ptr_f, 3);

static void
test_pointer_size(void)
{
  CHECK_STR(dec_opt(&ptrs, "78563412 04000000 0100", 4, false),
            "{\"p\":\"0x12345678\",\"sz\":\"0x4\",\"n\":1}");
  CHECK_STR(dec_opt(&ptrs, "7856341200000080 0400000000000000 0100", 8, false),
            "{\"p\":\"0x8000000012345678\",\"sz\":\"0x4\",\"n\":1}");
}

/* A rest-of-payload tail (StackWalk's Stack1..Stack192): members
 * Stack1, Stack2, ... as many as the payload holds, pointer-sized. */
static const struct evt_field mof_tail_f[] = {
    F("Pid", EVT_IN_UINT32, 0),
    FL("Stack", EVT_IN_POINTER, 0, EVT_F_COUNT_REST, 0, 0),
};
static const struct evt_schema mof_tails = SCHEMA(mof_tail_f, 2);

static void
test_rest(void)
{
  CHECK_STR(dec_opt(&mof_tails, "04000000 1000000000000000 2000000000000080", 8,
                    false),
            "{\"Pid\":4,\"Stack1\":\"0x10\",\"Stack2\":"
            "\"0x8000000000000020\"}");
  CHECK_STR(
      dec_opt(&mof_tails, "04000000 10000000 20000000 30000000", 4, false),
      "{\"Pid\":4,\"Stack1\":\"0x10\",\"Stack2\":\"0x20\","
      "\"Stack3\":\"0x30\"}");
  /* No frames at all is a valid record. */
  CHECK_STR(dec_opt(&mof_tails, "04000000", 8, false), "{\"Pid\":4}");
  /* Half a pointer left over: the record is not what the class says. */
  CHECK_STR(dec_opt(&mof_tails, "04000000 1000000000000000 20000000", 8, false),
            "ERR: field 'Stack' (Pointer) at payload offset 4: 12 bytes "
            "left, not a whole number of 8-byte values");
}

static const struct evt_field outs_f[] = {
    F("hx", U8, EVT_OUT_HEXINT8),
    F("bo", U8, EVT_OUT_BOOLEAN),
    F("ch", U8, EVT_OUT_STRING),
    F("wc", U16, EVT_OUT_STRING),
    F("pid", U32, EVT_OUT_PID),
    F("w32", U32, EVT_OUT_WIN32ERROR),
    F("hr", I32, EVT_OUT_HRESULT),
    F("ec", U32, EVT_OUT_ERRORCODE),
    F("nt", EVT_IN_HEXINT32, EVT_OUT_NTSTATUS),
    F("ts", U64, EVT_OUT_DATETIME_UTC),
    FL("ftu", EVT_IN_FILETIME, 0, EVT_F_UTC, 0, 0),
    F("ftbig", EVT_IN_FILETIME, 0),
    F("cp", U64, EVT_OUT_CODE_POINTER),
    F("i8hex", I8, EVT_OUT_HEXINT8),
    F("h16", U16, EVT_OUT_HEXINT16),
    F("stu", EVT_IN_SYSTEMTIME, EVT_OUT_DATETIME_UTC),
    F("ip32", U32, EVT_OUT_IPV4),
    F("port32", U32, EVT_OUT_PORT),
    F("bool8", I8, EVT_OUT_BOOLEAN),
};
static const struct evt_schema outs = SCHEMA(outs_f, NF(outs_f));

static void
test_out_types(void)
{
  CHECK_STR(dec(&outs, "0a 02 41 e900 10000000 05000000 05400080 05000000 "
                       "220000c0 07a18f381c08cb01 07a18f381c08cb01 "
                       "ffffffffffffffff 00104000fcffffff ff 0a00 "
                       "e807 0200 0500 1d00 0d00 0500 0900 0700 "
                       "7f000001 01bb0000 00"),
            "{\"hx\":\"0xA\",\"bo\":true,\"ch\":\"A\",\"wc\":\"\xC3\xA9\","
            "\"pid\":16,\"w32\":5,\"hr\":-2147467259,\"ec\":\"0x5\","
            "\"nt\":3221225506,"
            "\"ts\":\"2010-06-09T21:39:21.1234567Z\","
            "\"ftu\":\"2010-06-09T21:39:21.1234567Z\","
            "\"ftbig\":18446744073709551615,"
            "\"cp\":\"0xFFFFFFFC00401000\",\"i8hex\":\"0xFF\","
            "\"h16\":\"0xA\",\"stu\":\"2024-02-29T13:05:09.007Z\","
            "\"ip32\":\"127.0.0.1\",\"port32\":47873,\"bool8\":false}");
}

static const struct evt_field strs_f[] = {
    F("s1", USTR, 0),
    F("s2", ASTR, 0),
    F("s3", ASTR, 0),
    F("s4", ASTR, EVT_OUT_UTF8),
    FL("s5", USTR, 0, EVT_F_LEN_FIXED, 3, 0),
    FL("s6", ASTR, 0, EVT_F_LEN_FIXED, 4, 0),
    F("q", USTR, 0),
    F("emoji", USTR, 0),
    F("cs", EVT_IN_COUNTEDSTRING, 0),
    F("ca", EVT_IN_COUNTEDANSISTRING, 0),
    F("wcs", EVT_IN_WBEM_COUNTEDSTRING, 0),
    F("wca", EVT_IN_WBEM_COUNTEDANSISTRING, 0),
    F("wrs", EVT_IN_WBEM_REVCOUNTEDSTRING, 0),
    F("wra", EVT_IN_WBEM_REVCOUNTEDANSISTRING, 0),
    F("uc", EVT_IN_WBEM_UNICODECHAR, 0),
    F("ac", EVT_IN_WBEM_ANSICHAR, 0),
    F("xml", ASTR, EVT_OUT_XML),
    F("empty", USTR, 0),
    F("last", USTR, 0),
};
static const struct evt_schema strs = SCHEMA(strs_f, NF(strs_f));

static void
test_strings(void)
{
  CHECK_STR(dec(&strs, "48006900 0000 "     /* s1 "Hi" */
                       "e941 00 "           /* s2 Latin-1 */
                       "c3a9 00 "           /* s3 UTF-8 */
                       "e9 00 "             /* s4 bad UTF-8 */
                       "410042004300 "      /* s5, 3 WCHARs, no NUL */
                       "61620000 "          /* s6, 4 bytes, NUL inside */
                       "22000a005c00 0000 " /* q: quote, LF, backslash */
                       "3dd800de 0000 "     /* U+1F600 */
                       "0400 58005900 "     /* cs */
                       "0300 616263 "       /* ca */
                       "0200 5a00 "         /* wcs */
                       "0100 7a "           /* wca */
                       "0002 5a00 "         /* wrs, big-endian count */
                       "0001 71 "           /* wra */
                       "4b00 "              /* uc */
                       "4c "                /* ac */
                       "3c612f3e 00 "       /* xml */
                       "0000 "              /* empty */
                       "4f004b00"),         /* last, no NUL */
            "{\"s1\":\"Hi\",\"s2\":\"\xC3\xA9"
            "A\",\"s3\":\"\xC3\xA9\",\"s4\":\"\xEF\xBF\xBD\","
            "\"s5\":\"ABC\",\"s6\":\"ab\",\"q\":\"\\\"\\n\\\\\","
            "\"emoji\":\"\xF0\x9F\x98\x80\",\"cs\":\"XY\",\"ca\":\"abc\","
            "\"wcs\":\"Z\",\"wca\":\"z\",\"wrs\":\"Z\",\"wra\":\"q\","
            "\"uc\":\"K\",\"ac\":\"L\",\"xml\":\"<a/>\",\"empty\":\"\","
            "\"last\":\"OK\"}");
}

static const struct evt_field rest_f[] = {
    F("n", U8, 0),
    F("rest", EVT_IN_WBEM_NONNULLSTRING, 0),
};
static const struct evt_schema rest = SCHEMA(rest_f, 2);
static const struct evt_field resta_f[] = {
    F("rest", EVT_IN_WBEM_NONNULLANSISTRING, 0),
    F("after", EVT_IN_WBEM_NONNULLANSISTRING, 0),
};
static const struct evt_schema resta = SCHEMA(resta_f, 2);
static const struct evt_field odd_f[] = {F("s", USTR, 0)};
static const struct evt_schema odd = SCHEMA(odd_f, 1);

static void
test_rest_strings(void)
{
  CHECK_STR(dec(&rest, "07 41004200"), "{\"n\":7,\"rest\":\"AB\"}");
  CHECK_STR(dec(&rest, "07"), "{\"n\":7,\"rest\":\"\"}");
  CHECK_STR(dec(&resta, "616263"), "{\"rest\":\"abc\",\"after\":\"\"}");
  /* A string ending with the payload on an odd byte. */
  CHECK_STR(dec(&odd, "410042"), "{\"s\":\"A\"}");
  /* Unpaired surrogate. */
  CHECK_STR(dec(&odd, "00d84100 0000"), "{\"s\":\"\xEF\xBF\xBD"
                                        "A\"}");
}

static const struct evt_field lenf_f[] = {
    F("n", U16, 0),
    FL("s", USTR, 0, EVT_F_LEN_FIELD, 0, 0),
    FL("b", BIN, 0, EVT_F_LEN_FIELD, 0, 0),
    FL("a", ASTR, 0, EVT_F_LEN_FIELD, 0, 0),
};
static const struct evt_schema lenf = SCHEMA(lenf_f, 4);

static void
test_length_field(void)
{
  CHECK_STR(dec(&lenf, "0300 410042004300 010203 78797a"),
            "{\"n\":3,\"s\":\"ABC\",\"b\":\"010203\",\"a\":\"xyz\"}");
  CHECK_STR(dec(&lenf, "0000"), "{\"n\":0,\"s\":\"\",\"b\":\"\",\"a\":\"\"}");
}

static const struct evt_field bins_f[] = {
    FL("bf", BIN, 0, EVT_F_LEN_FIXED, 4, 0),
    F("v6", BIN, EVT_OUT_IPV6),
    FL("v6b", BIN, EVT_OUT_IPV6, EVT_F_LEN_FIXED, 16, 0),
    FL("v6c", BIN, EVT_OUT_IPV6, EVT_F_LEN_FIXED, 4, 0),
    F("cb", EVT_IN_COUNTEDBINARY, 0),
    FL("cu", U8, 0, EVT_F_CUSTOM, 0, 0),
    FL("e", BIN, 0, EVT_F_LEN_FIXED, 0, 0),
    F("hd", EVT_IN_WBEM_HEXDUMP, 0),
    FL("pk", BIN, EVT_OUT_PKCS7_WITH_TYPE_INFO, EVT_F_LEN_FIXED, 2, 0),
    F("cb6", EVT_IN_COUNTEDBINARY, EVT_OUT_IPV6),
};
static const struct evt_schema bins = SCHEMA(bins_f, NF(bins_f));

static void
test_binary(void)
{
  CHECK_STR(dec(&bins, "deadbeef 20010db8000000000000000000000001 "
                       "fe800000000000000000000000000001 01020304 "
                       "0200 abcd 0300 010203 02000000 abcd 3082 "
                       "1000 00000000000000000000ffffc0000201"),
            "{\"bf\":\"DEADBEEF\",\"v6\":\"2001:db8::1\","
            "\"v6b\":\"fe80::1\",\"v6c\":\"01020304\",\"cb\":\"ABCD\","
            "\"cu\":\"010203\",\"e\":\"\",\"hd\":\"ABCD\",\"pk\":\"3082\","
            "\"cb6\":\"::ffff:192.0.2.1\"}");
}

static const struct evt_field sock_f[] = {
    FL("sa4", BIN, EVT_OUT_SOCKETADDRESS, EVT_F_LEN_FIXED, 16, 0),
    FL("sa6", BIN, EVT_OUT_SOCKETADDRESS, EVT_F_LEN_FIXED, 28, 0),
    FL("sa6b", BIN, EVT_OUT_SOCKETADDRESS, EVT_F_LEN_FIXED, 28, 0),
    FL("sau", BIN, EVT_OUT_SOCKETADDRESS, EVT_F_LEN_FIXED, 4, 0),
};
static const struct evt_schema sock = SCHEMA(sock_f, 4);
static const char sock_payload[] =
    "0200 0050 c0a80001 0000000000000000 "
    "1700 01bb 00000000 fe800000000000000000000000000001 05000000 "
    "1700 0035 00000000 20010db8000000000000000000000001 00000000 "
    "0100 0102";

static void
test_socket_address(void)
{
  CHECK_STR(dec(&sock, sock_payload),
            "{\"sa4\":\"192.168.0.1:80\",\"sa6\":\"[fe80::1%5]:443\","
            "\"sa6b\":\"[2001:db8::1]:53\",\"sau\":\"01000102\"}");
  CHECK_STR(dec_opt(&sock, sock_payload, 8, true),
            "{\"sa4\":\"192.168.0.1:80\",\"sa6\":\"fe80::1%5:443\","
            "\"sa6b\":\"2001:db8::1:53\",\"sau\":\"01000102\"}");
}

static const struct evt_field sids_f[] = {
    F("sid", EVT_IN_SID, 0),
    F("ws", EVT_IN_WBEM_SID, 0),
    F("ws0", EVT_IN_WBEM_SID, 0),
    F("n", U8, 0),
};
static const struct evt_schema sids = SCHEMA(sids_f, 4);

static void
test_sids(void)
{
  /* WbemSid: TOKEN_USER (2 pointers) then the SID; 0 means none. */
  CHECK_STR(dec(&sids, "0105 000000000005 15000000 a1b2c3d4 11223344 "
                       "55667788 e9030000 "
                       "10a0b0c0d0e0f0ff 0000000000000000 "
                       "0101 000000000005 12000000 "
                       "00000000 07"),
            "{\"sid\":\"S-1-5-21-3569595041-1144201745-2289526357-1001\","
            "\"ws\":\"S-1-5-18\",\"ws0\":null,\"n\":7}");
  CHECK_STR(dec_opt(&sids,
                    "0100 000000000005 "
                    "10a0b0c0 00000000 "
                    "0101 000000000005 13000000 "
                    "00000000 07",
                    4, false),
            "{\"sid\":\"S-1-5\",\"ws\":\"S-1-5-19\",\"ws0\":null,\"n\":7}");
}

static const struct evt_field arrs_f[] = {
    FL("a", U32, 0, EVT_F_COUNT_FIXED, 0, 3),
    FL("one", U8, 0, EVT_F_COUNT_FIXED, 0, 1),
    F("n", U16, 0),
    FL("arr", U16, 0, EVT_F_COUNT_FIELD, 0, 2),
    FL("inl", U8, 0, EVT_F_COUNT_INLINE, 0, 0),
    FL("strs", USTR, 0, EVT_F_COUNT_FIXED, 0, 2),
    FL("ips", U32, EVT_OUT_IPV4, EVT_F_COUNT_FIXED, 0, 2),
    FL("none", U64, 0, EVT_F_COUNT_FIXED, 0, 0),
    FL("fixs", ASTR, 0, EVT_F_COUNT_FIXED | EVT_F_LEN_FIXED, 2, 2),
    FL("g", EVT_IN_GUID, 0, EVT_F_COUNT_INLINE, 0, 0),
};
static const struct evt_schema arrs = SCHEMA(arrs_f, NF(arrs_f));

static void
test_arrays(void)
{
  CHECK_STR(dec(&arrs, "01000000 02000000 03000000 07 0200 0a00 0b00 "
                       "0300 010203 6100 0000 6200 0000 01020304 05060708 "
                       "61626364 0000"),
            "{\"a\":[1,2,3],\"one\":[7],\"n\":2,\"arr\":[10,11],"
            "\"inl\":[1,2,3],\"strs\":[\"a\",\"b\"],"
            "\"ips\":[\"1.2.3.4\",\"5.6.7.8\"],\"none\":[],"
            "\"fixs\":[\"ab\",\"cd\"],\"g\":[]}");
  CHECK_STR(dec(&arrs, "01000000 02000000 03000000 07 0000 "
                       "0000 6100 0000 6200 0000 01020304 05060708 "
                       "61626364 0100 00000000000000000000000000000000"),
            "{\"a\":[1,2,3],\"one\":[7],\"n\":0,\"arr\":[],"
            "\"inl\":[],\"strs\":[\"a\",\"b\"],"
            "\"ips\":[\"1.2.3.4\",\"5.6.7.8\"],\"none\":[],"
            "\"fixs\":[\"ab\",\"cd\"],"
            "\"g\":[\"00000000-0000-0000-0000-000000000000\"]}");
}

/* Top: cnt, items[cnt] {id, name}, tail. */
static const struct evt_field sarr_f[] = {
    F("cnt", U8, 0),    ST("items", EVT_F_COUNT_FIELD, 0, 3, 2),
    F("tail", U16, 0),  F("id", U16, 0),
    F("name", ASTR, 0),
};
static const struct evt_schema sarr = SCHEMA(sarr_f, 3);

/* outer {x, inner {x, y}}; member names repeat across objects only. */
static const struct evt_field nest_f[] = {
    ST("outer", 0, 0, 1, 2), F("x", U8, 0), ST("inner", 0, 0, 3, 2),
    F("x", U8, 0),           F("y", U8, 0),
};
static const struct evt_schema nest = SCHEMA(nest_f, 1);

/* s[2] {k, v[k]}: a count taken from a sibling member. */
static const struct evt_field sib_f[] = {
    ST("s", EVT_F_COUNT_FIXED, 2, 1, 2),
    F("k", U8, 0),
    FL("v", U8, 0, EVT_F_COUNT_FIELD, 0, 1),
};
static const struct evt_schema sib = SCHEMA(sib_f, 1);

/* TraceLogging vcount array of structs. */
static const struct evt_field tlv_f[] = {
    ST("s", EVT_F_COUNT_INLINE, 0, 2, 1),
    F("z", U8, 0),
    F("a", U8, 0),
};
static const struct evt_schema tlv = SCHEMA(tlv_f, 2);

static void
test_structs(void)
{
  CHECK_STR(dec(&sarr, "02 0100 6100 0200 626300 0900"),
            "{\"cnt\":2,\"items\":[{\"id\":1,\"name\":\"a\"},"
            "{\"id\":2,\"name\":\"bc\"}],\"tail\":9}");
  CHECK_STR(dec(&sarr, "00 0900"), "{\"cnt\":0,\"items\":[],\"tail\":9}");
  CHECK_STR(dec(&nest, "01 02 03"),
            "{\"outer\":{\"x\":1,\"inner\":{\"x\":2,\"y\":3}}}");
  CHECK_STR(dec(&sib, "01 05 02 06 07"),
            "{\"s\":[{\"k\":1,\"v\":[5]},{\"k\":2,\"v\":[6,7]}]}");
  CHECK_STR(dec(&tlv, "0200 0a 0b 0c"),
            "{\"s\":[{\"a\":10},{\"a\":11}],\"z\":12}");
}

static const struct evt_map_entry vm_e[] = {
    {0, "Zero"}, {1, "One"}, {5, "Five"}, {0xFFFFFFFF, "All"}};
static const struct evt_map vm = {"VM", false, 4, vm_e};
static const struct evt_map_entry bm_e[] = {
    {1, "Read"}, {2, "Write"}, {4, "Exec"}, {0x30, "Both"}};
static const struct evt_map bm = {"BM", true, 4, bm_e};
static const struct evt_map_entry pm_e[] = {{443, "https"}};
static const struct evt_map pm = {"PortMap", false, 1, pm_e};

static const struct evt_field maps_f[] = {
    {.name = "v1", .in = U32, .map = &vm},
    {.name = "v2", .in = U32, .map = &vm},
    {.name = "v3", .in = U8, .map = &vm},
    {.name = "v4", .in = U64, .map = &vm},
    {.name = "v5", .in = I32, .map = &vm},
    {.name = "b1", .in = U32, .map = &bm},
    {.name = "b2", .in = U32, .map = &bm},
    {.name = "b3", .in = U32, .map = &bm},
    {.name = "b4", .in = U32, .map = &bm},
    {.name = "lazy", .in = U16, .map_name = "PortMap"},
    {.name = "nomap", .in = U16, .map_name = "Missing"},
    {.name = "ba",
     .in = U8,
     .flags = EVT_F_COUNT_FIXED,
     .count = 2,
     .map = &bm},
};
static const struct evt_schema maps = SCHEMA(maps_f, NF(maps_f));

static void
test_maps(void)
{
  CHECK_STR(dec(&maps, "05000000 03000000 00 ffffffff00000000 feffffff "
                       "07010000 30000000 10000000 00000000 bb01 bb01 "
                       "03 08"),
            "{\"v1\":\"Five\",\"v2\":3,\"v3\":\"Zero\",\"v4\":\"All\","
            "\"v5\":-2,\"b1\":\"Read | Write | Exec | 0x100\","
            "\"b2\":\"Both\",\"b3\":16,\"b4\":0,\"lazy\":\"https\","
            "\"nomap\":443,\"ba\":[\"Read | Write\",8]}");
}

static const struct evt_field dups_f[] = {
    F("a", U8, 0), F("a", U8, 0), F("b", U8, 0),
    F("a", U8, 0), F("", U8, 0),  F("", U8, 0),
};
static const struct evt_schema dups = SCHEMA(dups_f, NF(dups_f));

static void
test_duplicate_names(void)
{
  CHECK_STR(dec(&dups, "01 02 03 04 05 06"),
            "{\"a\":1,\"a_2\":2,\"b\":3,\"a_3\":4,\"\":5,\"_2\":6}");

  /* A large object (hash-table path): f0..f79, then f0, f1, f0 again. */
  enum { NB = 83 };
  static struct evt_field big_f[NB];
  static char names[NB][16];
  for (int i = 0; i < NB; i++) {
    int k = i < 80 ? i : (i == 81 ? 1 : 0);
    snprintf(names[i], sizeof names[i], "f%d", k);
    big_f[i].name = names[i];
    big_f[i].in = U8;
  }
  struct evt_schema big = {.nfields = NB, .ntop = NB, .fields = big_f};
  uint8_t p[NB];
  memset(p, 1, sizeof p);
  char want[2048];
  size_t n = 0;
  want[n++] = '{';
  for (int i = 0; i < NB; i++) {
    const char *suffix = i == 80 || i == 81 ? "_2" : i == 82 ? "_3" : "";
    n += (size_t)snprintf(want + n, sizeof want - n, "%s\"%s%s\":1",
                          i ? "," : "", names[i], suffix);
  }
  want[n++] = '}';
  want[n] = 0;
  CHECK_STR(dec_bytes(&big, p, sizeof p, 8, false), want);
}

/* Many integer members with long names: the member batch fills and is
 * flushed mid-object; names of 96 bytes are batched, 97 bytes and names
 * needing escapes are not; spans stay right across flushes. */
static void
test_member_batch(void)
{
  enum { NB = 14 };
  static struct evt_field f[NB];
  static char names[NB][128];
  for (int i = 0; i < NB; i++) {
    size_t len = i == 3 ? 97 : i == 4 ? 96 : 80 + (size_t)i;
    memset(names[i], 'a' + i, len);
    names[i][len] = 0;
    f[i].name = names[i];
    f[i].in = i % 3 == 0 ? U32 : i % 3 == 1 ? I16 : U8;
    f[i].out = i == 5 ? EVT_OUT_IPV4 : 0;
    if (i == 5) f[i].in = U32;
  }
  memcpy(names[7], "q\"uote\\", sizeof "q\"uote\\"); /* needs escaping */
  memcpy(names[9], "\xC3\xA9t\xC3\xA9",
         sizeof "\xC3\xA9t\xC3\xA9"); /* UTF-8: the writer checks it */
  names[11][0] = 0;                   /* empty name */
  names[12][0] = 0;                   /* duplicate: "_2" */
  f[13].out = EVT_OUT_NOPRINT;
  uint8_t p[64];
  memset(p, 0xfe, sizeof p);
  struct evt_schema s = {.nfields = NB, .ntop = NB, .fields = f};
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.ptr_size = 8;
  ev.data = p;
  ev.data_len = sizeof p;
  struct evt_span sp[NB];
  jw_reset(&w);
  CHECK(evt_decode_payload_spans(reg, &s, &ev, NULL, &w, sp, NB, err,
                                 sizeof err) == 0);
  char want[4096];
  size_t n = 0;
  want[n++] = '{';
  for (int i = 0; i < NB - 1; i++) {
    const char *v;
    switch (i % 3) {
    case 0:
      v = "4278124286";
      break;
    case 1:
      v = "-258";
      break;
    default:
      v = "254";
      break;
    }
    if (i == 5) v = "\"254.254.254.254\"";
    const char *name = i == 7 ? "q\\\"uote\\\\" : names[i];
    n += (size_t)snprintf(want + n, sizeof want - n, "%s\"%s%s\":%s",
                          i ? "," : "", name, i == 12 ? "_2" : "", v);
    CHECK(sp[i].end - sp[i].start == strlen(v) &&
          !memcmp(w.buf + sp[i].start, v, strlen(v)));
  }
  want[n++] = '}';
  want[n] = 0;
  CHECK(sp[NB - 1].start == sp[NB - 1].end);
  CHECK(w.len == n && !memcmp(w.buf, want, n));
  if (w.len != n || memcmp(w.buf, want, n))
    fprintf(stderr, "got  %.*s\nwant %s\n", (int)w.len, w.buf, want);
}

static const struct evt_field noprint_f[] = {
    F("len", U16, EVT_OUT_NOPRINT),
    FL("data", BIN, 0, EVT_F_LEN_FIELD, 0, 0),
    F("len", U16, EVT_OUT_NOPRINT),
};
static const struct evt_schema noprint = SCHEMA(noprint_f, 3);
static const struct evt_field empty_f[] = {F("x", U8, 0)};
static const struct evt_schema empty = SCHEMA(empty_f, 0);

static void
test_misc(void)
{
  /* NOPRINT: decoded (used as a length) but not printed. */
  CHECK_STR(dec(&noprint, "0200 abcd 0000"), "{\"data\":\"ABCD\"}");
  /* No top-level fields, any payload. */
  CHECK_STR(dec(&empty, "010203"), "{}");
  CHECK_STR(dec(&empty, ""), "{}");
  /* A NULL payload pointer with no fields. */
  CHECK_STR(dec_bytes(&empty, NULL, 0, 8, false), "{}");
  /* The key is the caller's; the value follows it directly. */
  jw_reset(&w);
  jw_arr_begin(&w);
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.data = payload;
  ev.data_len = (uint32_t)unhex("0102", payload, sizeof payload);
  CHECK(evt_decode_payload(NULL, &nest, &ev, NULL, &w, NULL, 0) != 0);
  CHECK(evt_decode_payload(NULL, &empty, &ev, NULL, &w, NULL, 0) == 0);
  CHECK(evt_decode_payload(NULL, &empty, &ev, NULL, &w, NULL, 0) == 0);
  jw_arr_end(&w);
  CHECK(w.len == 7 && !memcmp(w.buf, "[{},{}]", 7));
}

static void
test_string_only(void)
{
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.data = payload;
  ev.data_len = (uint32_t)unhex("48006900 0000 5800", payload, sizeof payload);
  jw_reset(&w);
  evt_decode_string_only(&ev, &w);
  CHECK(w.len == 4 && !memcmp(w.buf, "\"Hi\"", 4));
  ev.data_len = (uint32_t)unhex("410042 00", payload, sizeof payload) - 1;
  jw_reset(&w);
  evt_decode_string_only(&ev, &w);
  CHECK(w.len == 3 && !memcmp(w.buf, "\"A\"", 3));
  ev.data = NULL;
  ev.data_len = 0;
  jw_reset(&w);
  evt_decode_string_only(&ev, &w);
  CHECK(w.len == 2 && !memcmp(w.buf, "\"\"", 2));
}

/* ------------------------------------------------------------------ */
/* Error cases */

static const struct evt_field e_len_f[] = {
    F("n", U16, 0),
    FL("s", USTR, 0, EVT_F_LEN_FIELD, 0, 0),
};
static const struct evt_schema e_len = SCHEMA(e_len_f, 2);
static const struct evt_field e_neg_f[] = {
    F("n", I32, 0),
    FL("b", BIN, 0, EVT_F_LEN_FIELD, 0, 0),
};
static const struct evt_schema e_neg = SCHEMA(e_neg_f, 2);
static const struct evt_field e_cnt_f[] = {
    F("n", U32, 0),
    FL("arr", U32, 0, EVT_F_COUNT_FIELD, 0, 0),
};
static const struct evt_schema e_cnt = SCHEMA(e_cnt_f, 2);
static const struct evt_field e_self_f[] = {ST("s", 0, 0, 0, 1)};
static const struct evt_schema e_self = SCHEMA(e_self_f, 1);
static const struct evt_field e_later_f[] = {
    FL("s", ASTR, 0, EVT_F_LEN_FIELD, 1, 0),
    F("n", U8, 0),
};
static const struct evt_schema e_later = SCHEMA(e_later_f, 2);
static const struct evt_field e_range_f[] = {
    FL("s", ASTR, 0, EVT_F_LEN_FIELD, 99, 0),
};
static const struct evt_schema e_range = SCHEMA(e_range_f, 1);
static const struct evt_field e_notint_f[] = {
    F("g", EVT_IN_GUID, 0),
    FL("b", BIN, 0, EVT_F_COUNT_FIELD, 0, 0),
};
static const struct evt_schema e_notint = SCHEMA(e_notint_f, 2);
static const struct evt_field e_members_f[] = {
    ST("s", 0, 0, 5, 3),
    F("x", U8, 0),
};
static const struct evt_schema e_members = SCHEMA(e_members_f, 1);
static const struct evt_field e_inline_f[] = {
    F("a", U8, 0),
    FL("v", U8, 0, EVT_F_COUNT_INLINE, 0, 0),
};
static const struct evt_schema e_inline = SCHEMA(e_inline_f, 2);
static const struct evt_field e_counted_f[] = {
    F("cs", EVT_IN_COUNTEDSTRING, 0),
};
static const struct evt_schema e_counted = SCHEMA(e_counted_f, 1);
static const struct evt_field e_unknown_f[] = {F("u", 99, 0)};
static const struct evt_schema e_unknown = SCHEMA(e_unknown_f, 1);
static const struct evt_field e_nolen_f[] = {F("b", BIN, 0)};
static const struct evt_schema e_nolen = SCHEMA(e_nolen_f, 1);
static const struct evt_field e_zero_f[] = {
    ST("z", EVT_F_COUNT_FIXED, 60000, 1, 0),
    F("x", U8, 0),
};
static const struct evt_schema e_zero = SCHEMA(e_zero_f, 1);
static const struct evt_field e_zero2_f[] = {
    ST("z", EVT_F_COUNT_FIXED, 4000, 1, 1),
    FL("n", EVT_IN_NULL, 0, EVT_F_COUNT_FIXED, 0, 4000),
};
static const struct evt_schema e_zero2 = SCHEMA(e_zero2_f, 1);
static const struct evt_field e_zero3_f[] = {
    ST("z", EVT_F_COUNT_FIXED, EVT_DEC_ZERO_BUDGET, 2, 0),
    F("after", EVT_IN_NULL, 0),
};
static const struct evt_schema e_zero3 = SCHEMA(e_zero3_f, 2);
static const struct evt_field e_str_f[] = {F("x", U16, 0), F("s", USTR, 0)};
static const struct evt_schema e_str = SCHEMA(e_str_f, 2);
static const struct evt_field e_astr_f[] = {F("s", ASTR, 0)};
static const struct evt_schema e_astr = SCHEMA(e_astr_f, 1);
static const struct evt_field e_ntop_f[] = {F("x", U8, 0)};
static const struct evt_schema e_ntop = {
    .nfields = 1, .ntop = 2, .fields = e_ntop_f};
static const struct evt_field e_hexdump_f[] = {
    F("hd", EVT_IN_WBEM_HEXDUMP, 0),
};
static const struct evt_schema e_hexdump = SCHEMA(e_hexdump_f, 1);
static const struct evt_field e_custom_f[] = {
    FL("cu", U8, 0, EVT_F_CUSTOM, 0, 0),
};
static const struct evt_schema e_custom = SCHEMA(e_custom_f, 1);
static const struct evt_field e_deep_f[] = {
    F("ok", U32, 0),
    ST("s", 0, 0, 2, 2),
    F("a", U32, 0),
    F("b", EVT_IN_SID, 0),
};
static const struct evt_schema e_deep = SCHEMA(e_deep_f, 2);

static void
test_errors(void)
{
  /* Overrun of a fixed-size field. */
  CHECK_STR(dec(&kn, "9c0a0000 05100000 9d38"),
            "ERR: field 'daddr' (UInt32) at payload offset 8 needs 4 "
            "bytes, 2 left");
  CHECK_STR(dec(&kn, ""),
            "ERR: field 'PID' (UInt32) at payload offset 0 needs 4 bytes, "
            "0 left");
  CHECK_STR(dec(&kn, "9c0a0000 05100000 9d38f426 0a796a76 01bb f12c "
                     "00000000 000000"),
            "ERR: field 'connid' (UInt32) at payload offset 24 needs 4 "
            "bytes, 3 left");
  /* Length field larger than the payload. */
  CHECK_STR(dec(&e_len, "6400 4100"),
            "ERR: field 's' (UnicodeString) at payload offset 2 has length "
            "100 (WCHARs), more than the 2 bytes left");
  /* A negative length (sign-extended) is refused. */
  CHECK_STR(dec(&e_neg, "ffffffff 00"),
            "ERR: field 'b' (Binary) at payload offset 4 has length "
            "18446744073709551615 (bytes), more than the 1 bytes left");
  /* Bad SIDs. */
  CHECK_STR(dec(&ints, "ff ff feff 3412 fdffffff ffffffff 0000000000000080 "
                       "ffffffffffffffff efbeadde 0100000000000000 "
                       "01000000 00000000 0000c03f cdcccc3d "
                       "9a9999999999b93f 039300aa4bdd4dfe "
                       "33221100 5544 7766 8899aabbccddeeff "
                       "07a18f381c08cb01 "
                       "e807 0200 0500 1d00 0d00 0500 0900 0700 "
                       "0000001000000000 2a00000000000000 "
                       "0110 000000000005 12000000"),
            "ERR: field 'sid' (SID) at payload offset 130: bad SID, 16 "
            "sub-authorities (at most 15)");
  CHECK_STR(dec(&sids, "0102 000000000005 15000000"),
            "ERR: field 'sid' (SID) at payload offset 0 needs 16 bytes, 12 "
            "left");
  CHECK_STR(dec(&sids, "0100 0000"),
            "ERR: field 'sid' (SID) at payload offset 0 needs 8 bytes, 4 "
            "left");
  CHECK_STR(dec(&sids, "0100 000000000005 01000000 00000000 0000000000000000 "
                       "0101 000000000005 1200"),
            "ERR: field 'ws' (WbemSid) at payload offset 8 needs 28 bytes, "
            "26 left");
  CHECK_STR(dec(&sids, "0100 000000000005 01000000 00000000 0000000000000000 "
                       "01"),
            "ERR: field 'ws' (WbemSid) at payload offset 8 needs 24 bytes, "
            "17 left");
  CHECK_STR(dec(&sids, "0100 000000000005 000000"),
            "ERR: field 'ws' (WbemSid) at payload offset 8 needs 4 bytes, "
            "3 left");
  /* Count larger than the bytes left. */
  CHECK_STR(dec(&e_cnt, "e8030000 01000000 02000000"),
            "ERR: field 'arr' (UInt32) at payload offset 4 has count 1000 "
            "of at least 4 bytes each, 8 bytes left");
  CHECK_STR(dec(&e_cnt, "03000000 01000000 02000000 030000"),
            "ERR: field 'arr' (UInt32) at payload offset 4 has count 3 of "
            "at least 4 bytes each, 11 bytes left");
  /* Struct arrays whose element is shorter than its member list. */
  CHECK_STR(dec(&sarr, "03 0100 6100 0200 626300"),
            "ERR: field 'id' (UInt16) at payload offset 10 needs 2 bytes, "
            "0 left");
  /* Nesting without end: a struct containing itself. */
  CHECK_STR(dec(&e_self, "00"), "ERR: field 's': structs nested deeper "
                                "than 16");
  /* References to a later field, outside the schema, to a GUID. */
  CHECK_STR(dec(&e_later, "616200 02"),
            "ERR: field 's' takes its length from field 1 ('n'), which is "
            "not an integer decoded before it");
  CHECK_STR(dec(&e_range, "00"),
            "ERR: field 's' takes its length from field 99, but the "
            "schema has 1 fields");
  CHECK_STR(dec(&e_notint, "00000000000000000000000000000000 00"),
            "ERR: field 'b' takes its count from field 0 ('g'), which is "
            "not an integer decoded before it");
  /* Struct members outside the field array. */
  CHECK_STR(dec(&e_members, "00"), "ERR: schema: fields 5..7 of a 2-field "
                                   "list");
  CHECK_STR(dec(&e_ntop, "00"), "ERR: schema: 2 top-level fields of 1");
  /* Inline count, counted string, hexdump, custom overruns. */
  CHECK_STR(dec(&e_inline, "01 05"),
            "ERR: field 'v' (UInt8) at payload offset 1 needs 2 bytes, 1 "
            "left");
  CHECK_STR(dec(&e_inline, "01 0500 0102"),
            "ERR: field 'v' (UInt8) at payload offset 1 has count 5 of at "
            "least 1 bytes each, 2 bytes left");
  CHECK_STR(dec(&e_counted, "0a00 4100"),
            "ERR: field 'cs' (CountedString) at payload offset 0 needs 12 "
            "bytes, 4 left");
  CHECK_STR(dec(&e_hexdump, "05000000 0102"),
            "ERR: field 'hd' (WbemHexDump) at payload offset 0 needs 9 "
            "bytes, 6 left");
  CHECK_STR(dec(&e_custom, "0900 01"),
            "ERR: field 'cu' (UInt8) at payload offset 0 needs 11 bytes, 3 "
            "left");
  /* Schema defects. */
  CHECK_STR(dec(&e_unknown, "00"), "ERR: field 'u' has unknown in-type 99");
  CHECK_STR(dec(&e_nolen, "00"), "ERR: field 'b' (Binary) has no length "
                                 "in the schema");
  /* Zero-size elements cannot run without bound. */
  CHECK_STR(dec(&e_zero, ""),
            "ERR: field 'z' at payload offset 0 has count 60000, more "
            "values than its 0 payload bytes allow");
  CHECK_STR(dec(&e_zero2, "00"),
            "ERR: field 'n' at payload offset 0 has count 4000, more "
            "values than its 1 payload bytes allow");
  CHECK_STR(dec(&e_zero3, ""),
            "ERR: field 'after' at payload offset 0: the event produces "
            "more values than its 0 payload bytes allow");
  /* A NUL-terminated string needs at least one unit. */
  CHECK_STR(dec(&e_str, "0100"),
            "ERR: field 's' (UnicodeString) at payload offset 2 needs 2 "
            "bytes, 0 left");
  CHECK_STR(dec(&e_str, "0100 41"),
            "ERR: field 's' (UnicodeString) at payload offset 2 needs 2 "
            "bytes, 1 left");
  CHECK_STR(dec(&e_astr, ""),
            "ERR: field 's' (AnsiString) at payload offset 0 needs 1 "
            "bytes, 0 left");
  /* A failure deep inside, after output was written: nothing remains. */
  CHECK_STR(dec(&e_deep, "01000000 02000000 0105"),
            "ERR: field 'b' (SID) at payload offset 8 needs 8 bytes, 2 "
            "left");
  /* Binary longer than the bytes left. */
  CHECK_STR(dec(&bins, "deadbe"),
            "ERR: field 'bf' (Binary) at payload offset 0 has length 4 "
            "(bytes), more than the 3 bytes left");
}

static void
test_error_limits(void)
{
  /* An object of more than 1024 members. */
  enum { NB = 1100 };
  static struct evt_field big_f[NB];
  for (int i = 0; i < NB; i++) {
    big_f[i].name = "x";
    big_f[i].in = EVT_IN_NULL;
  }
  struct evt_schema big = {.nfields = NB, .ntop = NB, .fields = big_f};
  CHECK_STR(dec_bytes(&big, payload, 0, 8, false),
            "ERR: schema: an object of 1100 members (at most 1024)");
  /* 1024 same-named members are fine: x, x_2 ... x_1024. */
  big.ntop = big.nfields = 1024;
  const char *out = dec_bytes(&big, payload, 0, 8, false);
  CHECK(!strncmp(out, "{\"x\":null,\"x_2\":null,", 21));
  CHECK(strstr(out, ",\"x_1024\":null}") != NULL);

  /* A short error buffer gets a truncated, terminated message. */
  struct etl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.data = payload;
  ev.data_len = 2;
  char small[8];
  jw_reset(&w);
  CHECK(evt_decode_payload(reg, &kn, &ev, NULL, &w, small, sizeof small) == -1);
  CHECK_STR(small, "field '");
  CHECK(w.len == 0);
}

int
main(void)
{
  jw_init(&w);
  reg = evt_registry_new();
  CHECK(reg != NULL);
  if (!reg) return check_result();
  static const uint8_t prov[16] = {1, 2, 3};
  CHECK(evt_registry_add_map(reg, prov, &pm) == 0);

  /* Regular cases. */
  test_kernel_network();
  test_spans();
  test_in_types();
  test_pointer_size();
  test_rest();
  test_out_types();
  test_strings();
  test_rest_strings();
  test_length_field();
  test_binary();
  test_socket_address();
  test_sids();
  test_arrays();
  test_structs();
  test_maps();
  test_duplicate_names();
  test_member_batch();
  test_misc();
  test_string_only();
  /* Error cases. */
  test_errors();
  test_error_limits();

  evt_registry_free(reg);
  jw_free(&w);
  return check_result();
}
