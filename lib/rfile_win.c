/*
 * rfile_win.c - rfile over CreateFileW and positional ReadFile (rfile.h).
 *
 * Paths arrive as UTF-8 and go through win_path (lib/winapi.h), so long
 * paths and non-ASCII names open. The file is shared for reading, writing
 * and deletion, because a trace may still be written by a running session
 * (or rotated away) while it is read. Each read names its offset in an
 * OVERLAPPED structure on a synchronous handle: ReadFile then reads at
 * that offset and waits, and no shared file pointer is involved.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/rfile.h"

#include "lib/winapi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

/* Largest single ReadFile: its length is a DWORD. */
#define RFILE_CHUNK (1u << 30)

struct rfile {
  HANDLE h; /* INVALID_HANDLE_VALUE: reads come from mem */
  const uint8_t *mem;
  uint64_t size;
};

struct rfile *
rfile_open(const char *path)
{
  wchar_t *w = win_path(path);
  if (!w) return NULL;
  DWORD attr = GetFileAttributesW(w);
  if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
    free(w);
    errno = EISDIR;
    return NULL;
  }
  HANDLE h = CreateFileW(w, GENERIC_READ,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
  DWORD err = GetLastError();
  free(w);
  if (h == INVALID_HANDLE_VALUE) {
    errno = win_errno(err);
    return NULL;
  }
  LARGE_INTEGER sz;
  if (!GetFileSizeEx(h, &sz) || sz.QuadPart < 0) {
    err = GetLastError();
    CloseHandle(h);
    errno = win_errno(err);
    return NULL;
  }
  struct rfile *f = malloc(sizeof *f);
  if (!f) {
    CloseHandle(h);
    errno = ENOMEM;
    return NULL;
  }
  f->h = h;
  f->mem = NULL;
  f->size = (uint64_t)sz.QuadPart;
  return f;
}

struct rfile *
rfile_from_memory(const void *p, size_t n)
{
  struct rfile *f = malloc(sizeof *f);
  if (!f) return NULL;
  f->h = INVALID_HANDLE_VALUE;
  f->mem = p;
  f->size = n;
  return f;
}

void
rfile_close(struct rfile *f)
{
  if (!f) return;
  if (f->h != INVALID_HANDLE_VALUE) CloseHandle(f->h);
  free(f);
}

uint64_t
rfile_size(const struct rfile *f)
{
  return f->size;
}

long long
rfile_pread(struct rfile *f, void *buf, size_t n, uint64_t off)
{
  if (f->h == INVALID_HANDLE_VALUE) {
    if (off >= f->size) return 0;
    size_t avail = (size_t)(f->size - off);
    size_t take = n < avail ? n : avail;
    memcpy(buf, f->mem + off, take);
    return (long long)take;
  }
  size_t got = 0;
  while (got < n) {
    uint64_t at = off + got;
    size_t want = n - got < RFILE_CHUNK ? n - got : RFILE_CHUNK;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)at;
    ov.OffsetHigh = (DWORD)(at >> 32);
    DWORD r = 0;
    if (!ReadFile(f->h, (char *)buf + got, (DWORD)want, &r, &ov)) {
      DWORD err = GetLastError();
      if (err == ERROR_HANDLE_EOF) break;
      errno = win_errno(err);
      return -1;
    }
    if (r == 0) break;
    got += r;
  }
  return (long long)got;
}
