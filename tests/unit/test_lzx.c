/*
 * test_lzx.c - unit test of the Plain LZ77 codec (etwcat/etl_lzx.c and
 * the test compressor tests/tools/lzx_compress.c).
 *
 * Regular cases: hand-derived vectors from the [MS-XCA] rules (literals
 * only, an overlapping long match, two long matches sharing one nibble
 * byte, the u32 length escape), the boundary of every length escape,
 * round trips of random, repetitive and run data, prefix decoding, and
 * every compressed buffer of three real traces from ../shared/corpus/etl
 * (skipped with a note when the corpus is absent). Error cases: empty,
 * truncated and corrupt streams and a too-small output, each of which
 * must return -1 without touching memory outside the buffers (run under
 * ASan to be sure).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_lzx.h"
#include "lib/bytes.h"
#include "tests/tools/lzx_compress.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETL_BUF_HDR 0x48u
#define ETL_FLAG_COMPRESSED 0x40u

/* A deterministic generator, so failures reproduce. */
static uint32_t rng_state = 0x12345678u;

static uint32_t
rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static uint8_t *
xmalloc(size_t n)
{
  uint8_t *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "test_lzx: out of memory\n");
    exit(1);
  }
  return p;
}

/* Decode in[0..in_len) into a buffer of exactly cap bytes (a separate
 * allocation, so ASan sees any overrun) and compare with want. */
static void
expect_decode(const uint8_t *in, size_t in_len, const uint8_t *want,
              size_t want_len, int line)
{
  uint8_t *out = xmalloc(want_len);
  size_t got = (size_t)-1;
  int rc = etl_lzx_decompress(in, in_len, out, want_len, &got);
  check_count++;
  if (rc != 0 || got != want_len || memcmp(out, want, want_len) != 0) {
    check_failures++;
    fprintf(stderr, "%s:%d: decode: rc %d, %zu bytes, want %zu\n", __FILE__,
            line, rc, got, want_len);
  }
  free(out);
}

/* Expect -1 from a stream decoded into cap bytes. */
static void
expect_fail(const uint8_t *in, size_t in_len, size_t cap, int line)
{
  uint8_t *out = xmalloc(cap);
  size_t got = (size_t)-1;
  int rc = etl_lzx_decompress(in, in_len, out, cap, &got);
  check_count++;
  if (rc != -1 || got > cap) {
    check_failures++;
    fprintf(stderr, "%s:%d: corrupt stream: rc %d, %zu bytes\n", __FILE__, line,
            rc, got);
  }
  free(out);
}

/* Compress, check the bound, decode with the exact size and one byte
 * less, and check a few prefixes. Returns the compressed size. */
static size_t
round_trip(const uint8_t *data, size_t n, int line)
{
  size_t bound = lzx_compress_bound(n);
  uint8_t *z = xmalloc(bound);
  size_t zn = lzx_compress(data, n, z, bound);
  check_count++;
  if (zn < 4 || zn > bound) {
    check_failures++;
    fprintf(stderr, "%s:%d: compress of %zu bytes gave %zu\n", __FILE__, line,
            n, zn);
    free(z);
    return 0;
  }
  expect_decode(z, zn, data, n, line);
  if (n > 0) expect_fail(z, zn, n - 1, line);

  /* Prefixes: a few fixed ones and one random one. */
  size_t wants[] = {0, 1, 7, n / 2, n, n + 10, n ? rng() % n : 0};
  for (size_t k = 0; k < sizeof wants / sizeof wants[0]; k++) {
    size_t want = wants[k];
    uint8_t *out = xmalloc(want);
    size_t got = (size_t)-1;
    int rc = etl_lzx_decompress_prefix(z, zn, out, want, &got);
    size_t expect = want < n ? want : n;
    check_count++;
    if (rc != 0 || got != expect || memcmp(out, data, expect) != 0) {
      check_failures++;
      fprintf(stderr, "%s:%d: prefix %zu of %zu: rc %d, %zu bytes\n", __FILE__,
              line, want, n, rc, got);
    }
    free(out);
  }
  free(z);
  return zn;
}

/* Compress and compare with an exact expected encoding. */
static void
expect_encode(const uint8_t *data, size_t n, const uint8_t *want,
              size_t want_len, int line)
{
  uint8_t z[64];
  size_t zn = lzx_compress(data, n, z, sizeof z);
  check_count++;
  if (zn != want_len || memcmp(z, want, want_len) != 0) {
    check_failures++;
    fprintf(stderr, "%s:%d: encoding differs (%zu bytes, want %zu)\n", __FILE__,
            line, zn, want_len);
  }
}

/* ---- regular cases ---- */

/* Literals only: 26 zero flags, then 6 one bits that end the stream. */
static void
test_vector_alphabet(void)
{
  const char *abc = "abcdefghijklmnopqrstuvwxyz";
  uint8_t z[30] = {0x3f, 0x00, 0x00, 0x00};
  memcpy(z + 4, abc, 26);
  expect_decode(z, sizeof z, (const uint8_t *)abc, 26, __LINE__);
  expect_encode((const uint8_t *)abc, 26, z, sizeof z, __LINE__);
}

/* "abc" x 100: three literals, then one match at offset 3 of length 297,
 * overlapping itself: nibble 15, byte 255, u16 297 - 3 = 0x0126. */
static void
test_vector_abc300(void)
{
  static const uint8_t z[] = {0xff, 0xff, 0xff, 0x1f, 'a',  'b', 'c',
                              0x17, 0x00, 0x0f, 0xff, 0x26, 0x01};
  uint8_t data[300];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t) "abc"[i % 3];
  expect_decode(z, sizeof z, data, sizeof data, __LINE__);
  expect_encode(data, sizeof data, z, sizeof z, __LINE__);
}

/* 'a' x 21 then 'b' x 26: two long matches. The first takes a fresh byte
 * for its nibble (20 - 10 = 0xa, low half); the second puts its nibble
 * (25 - 10 = 15, high half) in that same byte, then a length byte 0. */
static void
test_vector_shared_nibble(void)
{
  static const uint8_t z[] = {0xff, 0xff, 0xff, 0x5f, 'a',  0x07,
                              0x00, 0xfa, 'b',  0x07, 0x00, 0x00};
  uint8_t data[47];
  memset(data, 'a', 21);
  memset(data + 21, 'b', 26);
  expect_decode(z, sizeof z, data, sizeof data, __LINE__);
  expect_encode(data, sizeof data, z, sizeof z, __LINE__);

  /* Three long matches: the third takes a fresh nibble byte again. */
  static const uint8_t z3[] = {0xff, 0xff, 0xff, 0x57, 'a',  0x07, 0x00, 0x00,
                               'b',  0x07, 0x00, 'c',  0x07, 0x00, 0x01};
  uint8_t d3[11 + 11 + 12];
  memset(d3, 'a', 11);
  memset(d3 + 11, 'b', 11);
  memset(d3 + 22, 'c', 12);
  expect_decode(z3, sizeof z3, d3, sizeof d3, __LINE__);
  expect_encode(d3, sizeof d3, z3, sizeof z3, __LINE__);
}

/* 'a' x 70000: a match of 69999, so u16 0 then u32 69996 = 0x0001116c. */
static void
test_vector_u32(void)
{
  static const uint8_t z[] = {0xff, 0xff, 0xff, 0x7f, 'a',  0x07, 0x00, 0x0f,
                              0xff, 0x00, 0x00, 0x6c, 0x11, 0x01, 0x00};
  size_t n = 70000;
  uint8_t *data = xmalloc(n);
  memset(data, 'a', n);
  expect_decode(z, sizeof z, data, n, __LINE__);
  expect_encode(data, n, z, sizeof z, __LINE__);
  free(data);
}

/* The u16 escape at its minimum, 22 (length 25), which no greedy
 * compressor writes but the spec accepts. */
static void
test_vector_wide_minimum(void)
{
  static const uint8_t z[] = {0xff, 0xff, 0xff, 0x7f, 'x', 0x07,
                              0x00, 0x0f, 0xff, 0x16, 0x00};
  uint8_t data[26];
  memset(data, 'x', sizeof data);
  expect_decode(z, sizeof z, data, sizeof data, __LINE__);
}

/* A run of L + 1 bytes is one literal and one match of L; the encoded
 * size tells which length escape was taken. */
static void
test_length_escapes(void)
{
  static const struct {
    size_t match;
    size_t size;
  } cases[] = {
      {3, 7},    {9, 7},      {10, 8},     {24, 8},     {25, 9},      {279, 9},
      {280, 11}, {65538, 11}, {65539, 15}, {70000, 15}, {300000, 15},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    size_t n = cases[k].match + 1;
    uint8_t *data = xmalloc(n);
    memset(data, 0x5a, n);
    size_t zn = round_trip(data, n, __LINE__);
    check_count++;
    if (zn != cases[k].size) {
      check_failures++;
      fprintf(stderr, "%s:%d: match %zu: %zu bytes, want %zu\n", __FILE__,
              __LINE__, cases[k].match, zn, cases[k].size);
    }
    free(data);
  }
}

static void
test_round_trips(void)
{
  static const size_t sizes[] = {0,  1,  2,   3,   4,    31,    32,
                                 33, 64, 100, 999, 4096, 65536, 200000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t n = sizes[k];
    uint8_t *data = xmalloc(n);

    /* Incompressible. */
    for (size_t i = 0; i < n; i++)
      data[i] = (uint8_t)rng();
    round_trip(data, n, __LINE__);

    /* A small alphabet: many short matches, all offsets. */
    for (size_t i = 0; i < n; i++)
      data[i] = (uint8_t)('a' + rng() % 4);
    round_trip(data, n, __LINE__);

    /* Runs of random length, so long matches often follow each other
     * and share nibble bytes. */
    for (size_t i = 0; i < n;) {
      size_t run = 1 + rng() % 400;
      uint8_t b = (uint8_t)rng();
      for (; run && i < n; run--)
        data[i++] = b;
    }
    round_trip(data, n, __LINE__);

    /* Record-like data: a template repeated with a changing counter. */
    for (size_t i = 0; i < n; i++)
      data[i] = (uint8_t)((i % 48) < 40 ? i % 48 : (i / 48) >> (i % 8));
    round_trip(data, n, __LINE__);

    free(data);
  }

  /* A 5000-byte random block repeated: one overlapping match at offset
   * 5000 longer than 65535, copied in doubling chunks. */
  size_t n = 5000 * 30;
  uint8_t *data = xmalloc(n);
  for (size_t i = 0; i < 5000; i++)
    data[i] = (uint8_t)rng();
  for (size_t i = 5000; i < n; i++)
    data[i] = data[i - 5000];
  size_t zn = round_trip(data, n, __LINE__);
  CHECK(zn > 5000 && zn < lzx_compress_bound(5000) + 16);

  /* The largest offset, 8192, and one past it (not reachable). */
  n = 8192 + 100;
  for (size_t i = 0; i < 8192; i++)
    data[i] = (uint8_t)rng();
  memcpy(data + 8192, data, 100);
  zn = round_trip(data, n, __LINE__);
  CHECK(zn + 90 < lzx_compress_bound(n));
  n = 8193 + 100;
  for (size_t i = 0; i < 8193; i++)
    data[i] = (uint8_t)rng();
  memcpy(data + 8193, data, 100);
  round_trip(data, n, __LINE__);
  free(data);
}

static void
test_compress_cap(void)
{
  uint8_t data[1000];
  uint8_t z[2000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)rng();
  size_t zn = lzx_compress(data, sizeof data, z, sizeof z);
  CHECK(zn == lzx_compress_bound(sizeof data));
  CHECK(lzx_compress(data, sizeof data, z, zn - 1) == 0);
  CHECK(lzx_compress(data, 0, z, 3) == 0);
  CHECK(lzx_compress(data, 0, z, 4) == 4);
  CHECK(le32(z) == UINT32_MAX);
  CHECK(lzx_compress(NULL, 0, z, 4) == 4);
}

/* Parse just enough of an .etl file to find its compressed buffers
 * (design/etl-format.md, section 1) and decode each one to exactly
 * FilledBytes - 0x48 bytes. Returns the number of compressed buffers
 * decoded, or -1 when the file is absent. */
static long
check_etl_file(const char *path, double *mb_out)
{
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 1u << 20, size = 0;
  uint8_t *file = xmalloc(cap);
  for (;;) {
    size_t got = fread(file + size, 1, cap - size, f);
    size += got;
    if (size < cap) break;
    cap *= 2;
    uint8_t *bigger = realloc(file, cap);
    if (!bigger) {
      fprintf(stderr, "test_lzx: out of memory\n");
      exit(1);
    }
    file = bigger;
  }
  CHECK(!ferror(f));
  fclose(f);

  long n = 0;
  size_t off = 0;
  while (size - off >= ETL_BUF_HDR) {
    const uint8_t *b = file + off;
    uint32_t bsize = le32(b);
    uint32_t filled = le32(b + 0x30);
    uint16_t flag = le16(b + 0x34);
    if (bsize < ETL_BUF_HDR || bsize > size - off) {
      fprintf(stderr, "%s: offset 0x%zx: bad buffer size 0x%x\n", path, off,
              (unsigned)bsize);
      check_failures++;
      break;
    }
    if (flag & ETL_FLAG_COMPRESSED) {
      CHECK(filled >= ETL_BUF_HDR);
      size_t want = filled - ETL_BUF_HDR;
      uint8_t *out = xmalloc(want);
      size_t got = 0;
      int rc = etl_lzx_decompress(b + ETL_BUF_HDR, bsize - ETL_BUF_HDR, out,
                                  want, &got);
      check_count++;
      if (rc != 0 || got != want) {
        check_failures++;
        fprintf(stderr, "%s: offset 0x%zx: rc %d, %zu bytes, want %zu\n", path,
                off, rc, got, want);
      }
      *mb_out += (double)got;

      /* A larger output area gives the same bytes. */
      uint8_t *big = xmalloc(want + 4096);
      size_t got2 = 0;
      CHECK(etl_lzx_decompress(b + ETL_BUF_HDR, bsize - ETL_BUF_HDR, big,
                               want + 4096, &got2) == 0);
      CHECK(got2 == want && memcmp(big, out, want) == 0);

      /* The first record's header, peeked at. */
      size_t peek = want < 64 ? want : 64;
      CHECK(etl_lzx_decompress_prefix(b + ETL_BUF_HDR, bsize - ETL_BUF_HDR, big,
                                      peek, &got2) == 0);
      CHECK(got2 == peek && memcmp(big, out, peek) == 0);

      /* Our compressor round-trips real buffer contents. */
      if (n % 16 == 0) round_trip(out, want, __LINE__);
      free(big);
      free(out);
      n++;
    }
    off += bsize;
  }
  CHECK(off == size);
  free(file);
  return n;
}

static void
test_real_files(void)
{
  static const struct {
    const char *path;
    long compressed;
  } files[] = {
      {"../shared/corpus/etl/perfview__smallEtlFile.etl", 1},
      {"../shared/corpus/etl/perfview__SelfDescribingSingleEvent.etl", 2},
      {"../shared/corpus/etl/perfview__net.4.5.2.x64.etl", 359},
  };
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    double bytes = 0;
    long n = check_etl_file(files[k].path, &bytes);
    if (n < 0) {
      printf("skip: %s not found\n", files[k].path);
      continue;
    }
    check_count++;
    if (n != files[k].compressed) {
      check_failures++;
      fprintf(stderr, "%s: %ld compressed buffers, want %ld\n", files[k].path,
              n, files[k].compressed);
    }
  }
}

/* ---- error cases ---- */

static void
test_errors(void)
{
  uint8_t out[400];
  size_t got = 0;

  /* No flag word, or part of one. */
  expect_fail((const uint8_t *)"", 0, 16, __LINE__);
  expect_fail((const uint8_t *)"\xff\xff", 2, 16, __LINE__);
  CHECK(etl_lzx_decompress(NULL, 0, out, sizeof out, &got) == -1);
  CHECK(got == 0);

  /* The smallest valid stream: no tokens. */
  static const uint8_t empty[] = {0xff, 0xff, 0xff, 0xff};
  CHECK(etl_lzx_decompress(empty, 4, out, 0, &got) == 0 && got == 0);
  CHECK(etl_lzx_decompress(empty, 4, NULL, 0, &got) == 0 && got == 0);

  /* A literal flag with no byte left: the alphabet without its 'z'. */
  uint8_t alpha[30] = {0x3f, 0x00, 0x00, 0x00};
  memcpy(alpha + 4, "abcdefghijklmnopqrstuvwxyz", 26);
  expect_fail(alpha, 29, 26, __LINE__);
  /* After 32 flags a new flag word is needed. */
  static const uint8_t lits32[] = {
      0x00, 0x00, 0x00, 0x00, 1,  2,  3,  4,  5,  6,  7,   8,  9,
      10,   11,   12,   13,   14, 15, 16, 17, 18, 19, 20,  21, 22,
      23,   24,   25,   26,   27, 28, 29, 30, 31, 32, 0xff};
  expect_fail(lits32, sizeof lits32 - 1, 64, __LINE__);
  expect_fail(lits32, sizeof lits32, 64, __LINE__);

  /* Each field of the "abc" x 100 stream cut short. */
  static const uint8_t abc[] = {0xff, 0xff, 0xff, 0x1f, 'a',  'b', 'c',
                                0x17, 0x00, 0x0f, 0xff, 0x26, 0x01};
  for (size_t cut = 0; cut < sizeof abc; cut++) {
    if (cut != 7) expect_fail(abc, cut, 300, __LINE__);
  }
  /* Cut just before a match token, the stream looks complete: the spec
   * ends a stream at a match flag with no input left. */
  CHECK(etl_lzx_decompress(abc, 7, out, 300, &got) == 0 && got == 3);
  /* Prefix mode is fine up to the damage, not past it. */
  CHECK(etl_lzx_decompress_prefix(abc, 8, out, 3, &got) == 0 && got == 3);
  CHECK(etl_lzx_decompress_prefix(abc, 12, out, 10, &got) == -1);
  CHECK(etl_lzx_decompress_prefix(abc, sizeof abc, out, 400, &got) == 0);
  CHECK(got == 300);

  /* Output area too small, by one byte or by all of it. */
  expect_fail(abc, sizeof abc, 299, __LINE__);
  expect_fail(abc, sizeof abc, 3, __LINE__);
  expect_fail(abc, sizeof abc, 0, __LINE__);
  expect_fail(alpha, sizeof alpha, 25, __LINE__);

  /* Offsets reaching before the output. */
  static const uint8_t off_first[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00};
  expect_fail(off_first, sizeof off_first, 64, __LINE__);
  static const uint8_t off_far[] = {0xff, 0xff, 0xff, 0x3f,
                                    'a',  'b',  0x10, 0x00}; /* offset 3 */
  expect_fail(off_far, sizeof off_far, 64, __LINE__);
  static const uint8_t off_max[] = {0xff, 0xff, 0xff, 0x7f, 'a', 0xf8, 0xff};
  expect_fail(off_max, sizeof off_max, 64, __LINE__);
  static const uint8_t off_ok[] = {0xff, 0xff, 0xff, 0x3f,
                                   'a',  'b',  0x08, 0x00}; /* offset 2 */
  expect_decode(off_ok, sizeof off_ok, (const uint8_t *)"ababa", 5, __LINE__);

  /* Wide lengths below 22, in u16 and u32 form. */
  static const uint8_t w21[] = {0xff, 0xff, 0xff, 0x7f, 'x', 0x07,
                                0x00, 0x0f, 0xff, 0x15, 0x00};
  expect_fail(w21, sizeof w21, 400, __LINE__);
  static const uint8_t w0[] = {0xff, 0xff, 0xff, 0x7f, 'x',  0x07, 0x00, 0x0f,
                               0xff, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00};
  expect_fail(w0, sizeof w0, 400, __LINE__);
  /* The largest u32 length into a small area, in both modes. */
  static const uint8_t wmax[] = {0xff, 0xff, 0xff, 0x7f, 'x',  0x07, 0x00, 0x0f,
                                 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff};
  expect_fail(wmax, sizeof wmax, 400, __LINE__);
  CHECK(etl_lzx_decompress_prefix(wmax, sizeof wmax, out, 400, &got) == 0);
  CHECK(got == 400 && out[0] == 'x' && out[399] == 'x');

  /* Every truncation of a real-looking stream: -1, or (when the cut
   * lands before a match flag) a clean but shorter result. */
  uint8_t data[3000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)((rng() % 8 == 0) ? rng() : 'a' + i % 7);
  uint8_t z[4000];
  size_t zn = lzx_compress(data, sizeof data, z, sizeof z);
  CHECK(zn > 0);
  uint8_t *dst = xmalloc(sizeof data);
  for (size_t cut = 0; cut < zn; cut++) {
    uint8_t *part = xmalloc(cut);
    memcpy(part, z, cut);
    int rc = etl_lzx_decompress(part, cut, dst, sizeof data, &got);
    check_count++;
    if (!(rc == -1 || (rc == 0 && got < sizeof data))) {
      check_failures++;
      fprintf(stderr, "%s:%d: cut at %zu: rc %d, %zu bytes\n", __FILE__,
              __LINE__, cut, rc, got);
    }
    free(part);
  }
  free(dst);

  /* Random garbage must never crash; results are not checked. */
  for (int iter = 0; iter < 20000; iter++) {
    size_t n = rng() % 64;
    uint8_t *junk = xmalloc(n);
    for (size_t i = 0; i < n; i++)
      junk[i] = (uint8_t)(iter % 2 ? rng() : rng() | 0x80);
    size_t cap = rng() % 300;
    uint8_t *o = xmalloc(cap);
    (void)etl_lzx_decompress(junk, n, o, cap, &got);
    CHECK(got <= cap);
    (void)etl_lzx_decompress_prefix(junk, n, o, cap, &got);
    CHECK(got <= cap);
    free(o);
    free(junk);
  }
}

int
main(void)
{
  test_vector_alphabet();
  test_vector_abc300();
  test_vector_shared_nibble();
  test_vector_u32();
  test_vector_wide_minimum();
  test_length_escapes();
  test_round_trips();
  test_compress_cap();
  test_real_files();
  test_errors();
  return check_result();
}
