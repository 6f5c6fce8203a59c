/*
 * signals_win.c - shutdown signals and input waits on Windows (signals.h).
 *
 * Ctrl-C, Ctrl-Break and console close arrive on a thread the system
 * creates; the handler counts them and sets an event that sig_wait_fd()
 * waits on. Anonymous pipes cannot be waited on, so a pipe is polled with
 * PeekNamedPipe in short steps; files are always ready. Not built or run
 * on the Linux machines; keep it small.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/signals.h"

#include <io.h>
#include <stdatomic.h>
#include <windows.h>

static atomic_int count;
static atomic_int last_kind;
static HANDLE wake_event;
static atomic_llong first_ms, last_ms;

static BOOL WINAPI
on_ctrl(DWORD kind)
{
  switch (kind) {
  case CTRL_C_EVENT:
  case CTRL_BREAK_EVENT:
  case CTRL_CLOSE_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    atomic_store(&last_kind, (int)kind + 1);
    if (atomic_fetch_add(&count, 1) == 0)
      atomic_store(&first_ms, (long long)GetTickCount64());
    atomic_store(&last_ms, (long long)GetTickCount64());
    if (wake_event) SetEvent(wake_event);
    return TRUE;
  default:
    return FALSE;
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

void
sig_input_begin(int fd)
{
  (void)fd;
}

void
sig_input_end(int fd)
{
  (void)fd;
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
