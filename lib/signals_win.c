/*
 * signals_win.c - shutdown signals and input waits on Windows (signals.h).
 *
 * Ctrl-C, Ctrl-Break and console close arrive on a thread the system
 * creates; the handler counts them and sets an event that sig_wait_fd()
 * waits on. A launcher's stop request (the named event of
 * win_stop_event, for processes that share no console) counts the same.
 * Anonymous pipes cannot be waited on, so a pipe is polled with PeekNamedPipe
 * in short steps; files are always ready.
 *
 * Some pipes cannot be peeked: a socket handed over as stdin, and every
 * Unix pipe or FIFO a program gets under Wine (ERROR_NOT_SUPPORTED). A
 * read() on them would block through Ctrl-C and flush deadlines, so
 * sig_input_begin() puts a relay in between: a thread copies the input
 * with blocking reads into an anonymous pipe of our own, whose read end
 * takes over the descriptor and can be peeked. The thread owns its
 * handles and ends when the input ends or its pipe's reader has gone;
 * when the input never ends it stays blocked until the process exits.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/signals.h"
#include "lib/winapi.h"

#include <fcntl.h>
#include <io.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <windows.h>

static atomic_int count;
static atomic_int last_kind;
static HANDLE wake_event;
static atomic_llong first_ms, last_ms;

/* A stop request through the named event: counted like Ctrl-C. */
#define STOP_REQUEST 0x100

static void
count_signal(int kind)
{
  atomic_store(&last_kind, kind + 1);
  if (atomic_fetch_add(&count, 1) == 0)
    atomic_store(&first_ms, (long long)GetTickCount64());
  atomic_store(&last_ms, (long long)GetTickCount64());
  if (wake_event) SetEvent(wake_event);
}

static BOOL WINAPI
on_ctrl(DWORD kind)
{
  switch (kind) {
  case CTRL_C_EVENT:
  case CTRL_BREAK_EVENT:
  case CTRL_CLOSE_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    count_signal((int)kind);
    return TRUE;
  default:
    return FALSE;
  }
}

/* on_stop_event - a thread-pool callback, each time the stop event is
 * set (auto-reset, so once per request). */
static VOID CALLBACK
on_stop_event(PVOID ctx, BOOLEAN timed_out)
{
  (void)ctx;
  if (!timed_out) count_signal(STOP_REQUEST);
}

/* stop_listen - the named stop event (winapi.h) and a wait on it, once
 * per process. Without it a launcher without a console falls back to
 * console events, so a failure here is not fatal. */
static void
stop_listen(void)
{
  static HANDLE ev, wait;
  if (ev) return;
  ev = win_stop_event(GetCurrentProcessId());
  if (ev && !RegisterWaitForSingleObject(&wait, ev, on_stop_event, NULL,
                                         INFINITE, WT_EXECUTEDEFAULT)) {
    CloseHandle(ev);
    ev = NULL;
  }
}

int
sig_install(void)
{
  if (!wake_event) wake_event = CreateEventW(NULL, FALSE, FALSE, NULL);
  if (!wake_event) return -1;
  ResetEvent(wake_event);
  atomic_store(&count, 0);
  atomic_store(&last_kind, 0);
  stop_listen();
  return SetConsoleCtrlHandler(on_ctrl, TRUE) ? 0 : -1;
}

int
sig_count(void)
{
  return atomic_load(&count);
}

bool
sig_repeated(void)
{
  return atomic_load(&count) >= 2 &&
         atomic_load(&last_ms) - atomic_load(&first_ms) >= 500;
}

const char *
sig_last(void)
{
  switch (atomic_load(&last_kind) - 1) {
  case CTRL_C_EVENT:
    return "Ctrl-C";
  case CTRL_BREAK_EVENT:
    return "Ctrl-Break";
  case CTRL_CLOSE_EVENT:
    return "console close";
  case CTRL_SHUTDOWN_EVENT:
    return "shutdown";
  case STOP_REQUEST:
    return "stop request";
  default:
    return "";
  }
}

void
sig_raise_test(void)
{
  on_ctrl(CTRL_BREAK_EVENT);
}

void
sig_block_thread(void)
{
  /* Console control events never interrupt other threads. */
}

/* The relay in use: the caller's descriptor, and a duplicate of the
 * original one that sig_input_end puts back. */
static int relay_fd = -1, relay_saved = -1;

struct relay {
  HANDLE src; /* a duplicate of the original input handle */
  HANDLE dst; /* the write end of our pipe */
  char buf[65536];
};

static DWORD WINAPI
relay_main(void *arg)
{
  struct relay *r = arg;
  for (;;) {
    DWORD got = 0, put = 0;
    if (!ReadFile(r->src, r->buf, sizeof r->buf, &got, NULL) || got == 0)
      break; /* end of input (or a read error, which ends it too) */
    for (DWORD off = 0; off < got; off += put)
      if (!WriteFile(r->dst, r->buf + off, got - off, &put, NULL)) goto done;
  }
done:
  CloseHandle(r->dst); /* the reader drains the pipe, then sees EOF */
  CloseHandle(r->src);
  free(r);
  return 0;
}

void
sig_input_begin(int fd)
{
  HANDLE h = fd >= 0 ? (HANDLE)_get_osfhandle(fd) : INVALID_HANDLE_VALUE;
  DWORD avail;
  if (relay_fd >= 0 || h == INVALID_HANDLE_VALUE ||
      GetFileType(h) != FILE_TYPE_PIPE ||
      PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL) ||
      GetLastError() == ERROR_BROKEN_PIPE)
    return; /* a file, a peekable pipe, or a pipe already at its end */
  struct relay *r = calloc(1, sizeof *r);
  HANDLE self = GetCurrentProcess(), rd = NULL;
  int saved = -1, nfd = -1;
  if (!r ||
      !DuplicateHandle(self, h, self, &r->src, 0, FALSE,
                       DUPLICATE_SAME_ACCESS) ||
      !CreatePipe(&rd, &r->dst, NULL, 1u << 20))
    goto fail;
  nfd = _open_osfhandle((intptr_t)rd, _O_RDONLY | _O_BINARY);
  if (nfd < 0) goto fail;
  rd = NULL; /* nfd owns it */
  saved = _dup(fd);
  if (saved < 0 || _dup2(nfd, fd) != 0) goto fail;
  /* _dup makes an inheritable handle; children must not get it. */
  SetHandleInformation((HANDLE)_get_osfhandle(saved), HANDLE_FLAG_INHERIT, 0);
  HANDLE th = CreateThread(NULL, 0, relay_main, r, 0, NULL);
  if (!th) {
    (void)_dup2(saved, fd);
    goto fail;
  }
  CloseHandle(th);
  _close(nfd);
  relay_fd = fd;
  relay_saved = saved;
  return;
fail: /* no relay: reads block, as they would without one */
  if (saved >= 0) _close(saved);
  if (nfd >= 0) _close(nfd);
  if (rd) CloseHandle(rd);
  if (r && r->dst) CloseHandle(r->dst);
  if (r && r->src) CloseHandle(r->src);
  free(r);
}

void
sig_input_end(int fd)
{
  if (fd < 0 || fd != relay_fd) return;
  /* Closing our read end makes the relay's next write fail: it ends. */
  (void)_dup2(relay_saved, fd);
  _close(relay_saved);
  relay_fd = relay_saved = -1;
}

enum sig_wait
sig_wait_fd(int fd, int timeout_ms)
{
  HANDLE h = fd >= 0 ? (HANDLE)_get_osfhandle(fd) : INVALID_HANDLE_VALUE;
  DWORD type = h != INVALID_HANDLE_VALUE ? GetFileType(h) : FILE_TYPE_UNKNOWN;
  ULONGLONG start = GetTickCount64();
  for (;;) {
    if (fd >= 0 && type == FILE_TYPE_DISK) return SIG_WAIT_READY;
    if (fd >= 0 && type == FILE_TYPE_PIPE) {
      DWORD avail = 0;
      if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL) || avail > 0)
        return SIG_WAIT_READY; /* data, or a broken pipe read() reports */
    }
    DWORD step = 10;
    if (fd < 0 || type == FILE_TYPE_CHAR) {
      HANDLE hs[2] = {wake_event, h};
      DWORD left = INFINITE;
      if (timeout_ms >= 0) {
        ULONGLONG spent = GetTickCount64() - start;
        left = spent >= (ULONGLONG)timeout_ms
                   ? 0
                   : (DWORD)((ULONGLONG)timeout_ms - spent);
      }
      DWORD r = WaitForMultipleObjects(fd >= 0 ? 2 : 1, hs, FALSE, left);
      if (r == WAIT_OBJECT_0) return SIG_WAIT_SIGNAL;
      if (r == WAIT_OBJECT_0 + 1) return SIG_WAIT_READY;
      if (r == WAIT_TIMEOUT) return SIG_WAIT_TIMEOUT;
      return SIG_WAIT_ERROR;
    }
    if (WaitForSingleObject(wake_event, step) == WAIT_OBJECT_0)
      return SIG_WAIT_SIGNAL;
    if (timeout_ms >= 0 && GetTickCount64() - start >= (ULONGLONG)timeout_ms)
      return SIG_WAIT_TIMEOUT;
  }
}

bool
sig_sleep_ms(int ms)
{
  return sig_wait_fd(-1, ms) != SIG_WAIT_SIGNAL;
}
