/*
 * uuid.c - OS random bytes and version-4 UUIDs (see uuid.h).
 *
 * SPDX-License-Identifier: MIT
 */
/* Windows declares rand_s() only with this set before <stdlib.h>;
 * elsewhere it means nothing. */
#define _CRT_RAND_S
#include "lib/platform.h"
#include "lib/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#ifdef PLAT_POSIX
#include <unistd.h>
#endif

static const char hexd[] = "0123456789abcdef";

#ifdef PLAT_WINDOWS
int
uuid_rand_bytes(void *buf, size_t n)
{
  unsigned char *p = buf;
  while (n) {
    unsigned int v;
    if (rand_s(&v) != 0) return -1;
    size_t k = n < sizeof v ? n : sizeof v;
    memcpy(p, &v, k);
    p += k;
    n -= k;
  }
  return 0;
}
#else
int
uuid_rand_bytes(void *buf, size_t n)
{
  unsigned char *p = buf;
  while (n) {
    size_t k = n < 256 ? n : 256; /* getentropy's limit */
    if (getentropy(p, k) != 0) break;
    p += k;
    n -= k;
  }
  if (!n) return 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      close(fd);
      return -1;
    }
    p += r;
    n -= (size_t)r;
  }
  close(fd);
  return 0;
}
#endif

int
uuid_v4(uint8_t u[16])
{
  if (uuid_rand_bytes(u, 16) != 0) return -1;
  u[6] = (uint8_t)((u[6] & 0x0F) | 0x40);
  u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
  return 0;
}

void
uuid_fmt(const uint8_t u[16], char out[37])
{
  size_t o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hexd[u[i] >> 4];
    out[o++] = hexd[u[i] & 15];
  }
  out[o] = '\0';
}

void
uuid_fmt_n(const uint8_t u[16], char out[33])
{
  for (int i = 0; i < 16; i++) {
    out[2 * i] = hexd[u[i] >> 4];
    out[2 * i + 1] = hexd[u[i] & 15];
  }
  out[32] = '\0';
}

static int
hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int
uuid_parse_n(const char *s, uint8_t u[16])
{
  for (int i = 0; i < 16; i++) {
    int h = hexval(s[2 * i]);
    int l = h < 0 ? -1 : hexval(s[2 * i + 1]);
    if (l < 0) return -1;
    u[i] = (uint8_t)(h << 4 | l);
  }
  return 0;
}
