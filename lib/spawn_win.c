/*
 * spawn_win.c - child processes on Windows (spawn.h).
 *
 * CreateProcessW with bInheritHandles, but only the three standard
 * handles are inherited: each is duplicated as an inheritable handle and
 * named in a PROC_THREAD_ATTRIBUTE_HANDLE_LIST, so a child never holds
 * another stage's pipe end open (windows.md 4.6). The command line comes
 * from spawn_win_cmdline() (MSVC quoting, lib/spawn_quote.c); the
 * program is named in lpApplicationName too, so no search path is ever
 * consulted. The environment block is ours with the caller's changes,
 * SYSTEMROOT added when missing (Winsock and the crypto providers fail
 * without it), sorted by name as CreateProcessW documents.
 *
 * Every child is started suspended, put in one job object that kills it
 * when the launcher's last handle to the job closes (the launcher dying
 * included), then resumed. A child in its own process group
 * (CREATE_NEW_PROCESS_GROUP) ignores the console's Ctrl-C; spawn_signal
 * sends it CTRL_BREAK_EVENT instead, which lib/signals_win.c treats like
 * Ctrl-C. Win32 error codes become errno values in win_errno() only.
 *
 * Checked by cross-compiling and under Wine (windows.md 7 lists what
 * only a real console shows: Ctrl-Break across process groups).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "lib/spawn.h"

#include "lib/signals.h"
#include "lib/winapi.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>
#include <windows.h>

static HANDLE job;
static bool job_tried;

static int
fail_win(void)
{
  errno = win_errno(GetLastError());
  return -1;
}

/* One job for every child: killed when we go, no crash dialogs. */
static void
job_setup(void)
{
  if (job_tried) return;
  job_tried = true;
  job = CreateJobObjectW(NULL, NULL);
  if (!job) return;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
  memset(&li, 0, sizeof li);
  li.BasicLimitInformation.LimitFlags =
      JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE |
      JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li,
                               sizeof li)) {
    CloseHandle(job);
    job = NULL;
  }
}

/* Length of the name part of an environment entry "NAME=value"; a
 * leading '=' belongs to the name (the hidden "=C:" entries). */
static size_t
name_len(const wchar_t *e)
{
  const wchar_t *eq = wcschr(e + (e[0] == L'='), L'=');
  return eq ? (size_t)(eq - e) : wcslen(e);
}

/* Case-insensitive comparison of two names, as Windows compares them. */
static int
name_cmp(const wchar_t *a, size_t na, const wchar_t *b, size_t nb)
{
  for (size_t i = 0; i < na && i < nb; i++) {
    wint_t x = towupper(a[i]), y = towupper(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return na < nb ? -1 : na > nb ? 1 : 0;
}

static int
entry_cmp(const void *pa, const void *pb)
{
  const wchar_t *a = *(const wchar_t *const *)pa;
  const wchar_t *b = *(const wchar_t *const *)pb;
  return name_cmp(a, name_len(a), b, name_len(b));
}

/* The child's environment block, or NULL with errno set. */
static wchar_t *
env_block(const char *const *add)
{
  size_t na = 0;
  while (add && add[na])
    na++;
  wchar_t **wadd = calloc(na + 2, sizeof *wadd);
  wchar_t *ours = GetEnvironmentStringsW();
  wchar_t **ent = NULL;
  wchar_t *block = NULL;
  if (!wadd || !ours) goto oom;
  for (size_t j = 0; j < na; j++)
    if (!(wadd[j] = win_wide(add[j]))) goto oom;
  size_t ne = 0;
  for (const wchar_t *p = ours; *p; p += wcslen(p) + 1)
    ne++;
  ent = malloc((ne + na + 2) * sizeof *ent);
  if (!ent) goto oom;
  size_t k = 0;
  bool have_root = false;
  for (wchar_t *p = ours; *p; p += wcslen(p) + 1) {
    bool drop = false;
    for (size_t j = 0; j < na && !drop; j++)
      drop = name_cmp(p, name_len(p), wadd[j], name_len(wadd[j])) == 0;
    if (drop) continue;
    if (name_cmp(p, name_len(p), L"SYSTEMROOT", 10) == 0) have_root = true;
    ent[k++] = p;
  }
  for (size_t j = 0; j < na; j++) {
    if (!wcschr(wadd[j], L'=')) continue; /* a removal */
    if (name_cmp(wadd[j], name_len(wadd[j]), L"SYSTEMROOT", 10) == 0)
      have_root = true;
    ent[k++] = wadd[j];
  }
  if (!have_root) {
    wchar_t root[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"SYSTEMROOT", root, MAX_PATH);
    if (n == 0 || n >= MAX_PATH) n = GetWindowsDirectoryW(root, MAX_PATH);
    if (n > 0 && n < MAX_PATH) {
      size_t len = 11 + n + 1;
      wadd[na] = malloc(len * sizeof(wchar_t));
      if (!wadd[na]) goto oom;
      memcpy(wadd[na], L"SYSTEMROOT=", 11 * sizeof(wchar_t));
      memcpy(wadd[na] + 11, root, (n + 1) * sizeof(wchar_t));
      ent[k++] = wadd[na];
    }
  }
  qsort(ent, k, sizeof *ent, entry_cmp);
  size_t total = 1;
  for (size_t i = 0; i < k; i++)
    total += wcslen(ent[i]) + 1;
  block = malloc((total + 1) * sizeof(wchar_t));
  if (!block) goto oom;
  wchar_t *o = block;
  for (size_t i = 0; i < k; i++) {
    size_t n = wcslen(ent[i]) + 1;
    memcpy(o, ent[i], n * sizeof(wchar_t));
    o += n;
  }
  *o++ = L'\0';
  *o = L'\0'; /* an empty block still ends in two NULs */
  goto done;
oom:
  errno = ENOMEM;
done:
  for (size_t j = 0; wadd && j < na + 1; j++)
    free(wadd[j]);
  free(wadd);
  free(ent);
  if (ours) FreeEnvironmentStringsW(ours);
  return block;
}

/* An inheritable copy of the handle for fd (or of our own standard
 * handle std when fd is -1); the null device when there is none. */
static HANDLE
inheritable(int fd, DWORD std)
{
  HANDLE h = fd >= 0 ? (HANDLE)_get_osfhandle(fd) : GetStdHandle(std);
  HANDLE dup = NULL;
  if (h && h != INVALID_HANDLE_VALUE &&
      DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0,
                      TRUE, DUPLICATE_SAME_ACCESS))
    return dup;
  if (fd >= 0) return NULL; /* a descriptor we were given must work */
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  dup = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0,
                    NULL);
  return dup == INVALID_HANDLE_VALUE ? NULL : dup;
}

int
spawn_start(const struct spawn_opts *o, struct spawn_child *c)
{
  memset(c, 0, sizeof *c);
  if (!o->argv || !o->argv[0]) {
    errno = EINVAL;
    return -1;
  }
  job_setup();
  /* Forward slashes in the program path become backslashes: the path
   * is also argv[0] of the child, which some programs take apart. */
  size_t na = 0;
  while (o->argv[na])
    na++;
  char *prog = strdup(o->argv[0]);
  const char **argv = malloc((na + 1) * sizeof *argv);
  if (!prog || !argv) {
    free(prog);
    free(argv);
    errno = ENOMEM;
    return -1;
  }
  for (char *p = prog; *p; p++)
    if (*p == '/') *p = '\\';
  argv[0] = prog;
  for (size_t i = 1; i <= na; i++)
    argv[i] = o->argv[i];
  int rc = -1, err = 0;
  char *line = spawn_win_cmdline(argv);
  wchar_t *wline = NULL, *wprog = NULL, *env = NULL;
  HANDLE hs[3] = {NULL, NULL, NULL};
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
  if (!line) {
    err = errno;
    goto out;
  }
  wline = win_wide(line);
  wprog = win_wide(prog);
  env = env_block(o->env_add);
  if (!wline || !wprog || !env) {
    err = errno ? errno : ENOMEM;
    goto out;
  }
  const int fds[3] = {o->fd_in, o->fd_out, o->fd_err};
  const DWORD stds[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
  for (int i = 0; i < 3; i++)
    if (!(hs[i] = inheritable(fds[i], stds[i]))) {
      err = fds[i] >= 0 ? EBADF : win_errno(GetLastError());
      goto out;
    }
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  attrs = malloc(size);
  if (!attrs || !InitializeProcThreadAttributeList(attrs, 1, 0, &size)) {
    err = attrs ? win_errno(GetLastError()) : ENOMEM;
    free(attrs);
    attrs = NULL;
    goto out;
  }
  if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                 hs, sizeof hs, NULL, NULL)) {
    err = win_errno(GetLastError());
    goto out;
  }
  STARTUPINFOEXW si;
  memset(&si, 0, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = hs[0];
  si.StartupInfo.hStdOutput = hs[1];
  si.StartupInfo.hStdError = hs[2];
  si.lpAttributeList = attrs;
  DWORD flags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT |
                CREATE_SUSPENDED;
  if (o->new_group) flags |= CREATE_NEW_PROCESS_GROUP;
  PROCESS_INFORMATION pi;
  if (!CreateProcessW(wprog, wline, NULL, NULL, TRUE, flags, env, NULL,
                      &si.StartupInfo, &pi)) {
    err = win_errno(GetLastError());
    goto out;
  }
  /* Outside a job, or in one that allows nesting (Windows 8 on): ours.
   * Where that fails the child simply is not killed with us. */
  if (job) (void)AssignProcessToJobObject(job, pi.hProcess);
  /* Before the child runs, so a stop request can never find no event. */
  c->stop = win_stop_event(pi.dwProcessId);
  /* The child has not run: a request already set is a stale one, left
   * for an earlier process with this id. */
  if (c->stop) ResetEvent((HANDLE)c->stop);
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  c->pid = (long)pi.dwProcessId;
  c->handle = pi.hProcess;
  c->group = o->new_group;
  rc = 0;
out:
  if (attrs) {
    DeleteProcThreadAttributeList(attrs);
    free(attrs);
  }
  for (int i = 0; i < 3; i++)
    if (hs[i]) CloseHandle(hs[i]);
  free(env);
  free(wprog);
  free(wline);
  free(line);
  free(argv);
  free(prog);
  if (rc != 0) errno = err ? err : EINVAL;
  return rc;
}

static void
reap(struct spawn_child *c)
{
  DWORD code = 1;
  if (!GetExitCodeProcess((HANDLE)c->handle, &code)) code = 1;
  c->done = true;
  c->signo = 0;
  c->code = (int)code;
}

int
spawn_poll(struct spawn_child *c)
{
  if (c->done) return 1;
  if (!c->handle) {
    errno = ECHILD;
    return -1;
  }
  DWORD w = WaitForSingleObject((HANDLE)c->handle, 0);
  if (w == WAIT_TIMEOUT) return 0;
  if (w != WAIT_OBJECT_0) return fail_win();
  reap(c);
  return 1;
}

int
spawn_wait_any(struct spawn_child *const *cs, size_t n, int timeout_ms)
{
  ULONGLONG start = GetTickCount64();
  for (;;) {
    HANDLE hs[MAXIMUM_WAIT_OBJECTS];
    DWORD k = 0;
    int got = 0;
    for (size_t i = 0; i < n; i++) {
      if (cs[i]->done) continue;
      int r = spawn_poll(cs[i]);
      if (r < 0) return -1;
      if (r > 0)
        got++;
      else if (k < MAXIMUM_WAIT_OBJECTS)
        hs[k++] = (HANDLE)cs[i]->handle;
    }
    if (got || k == 0) return got;
    /* Process handles and the console handler's event cannot be waited
     * on together from here: take a pending signal first (as the POSIX
     * self-pipe does), then wait for the children in short steps. */
    if (sig_wait_fd(-1, 0) == SIG_WAIT_SIGNAL) return 0;
    DWORD step = 20;
    if (timeout_ms >= 0) {
      ULONGLONG spent = GetTickCount64() - start;
      if (spent >= (ULONGLONG)timeout_ms) return 0;
      if ((ULONGLONG)timeout_ms - spent < step)
        step = (DWORD)((ULONGLONG)timeout_ms - spent);
    }
    DWORD w = WaitForMultipleObjects(k, hs, FALSE, step);
    if (w == WAIT_FAILED) return fail_win();
  }
}

int
spawn_signal(struct spawn_child *c, enum spawn_sig sig)
{
  if (c->done || !c->handle) return 0;
  if (sig == SPAWN_SIG_KILL)
    return TerminateProcess((HANDLE)c->handle, 128 + 9) ? 0 : fail_win();
  /* The stop event works with or without a console; our programs all
   * listen on it (signals_win.c). */
  if (c->stop && SetEvent((HANDLE)c->stop)) return 0;
  /* Only a process-group leader can be sent a console event alone. */
  return GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, (DWORD)c->pid) ? 0
                                                                   : fail_win();
}

void
spawn_release(struct spawn_child *c)
{
  if (c->handle) CloseHandle((HANDLE)c->handle);
  if (c->stop) CloseHandle((HANDLE)c->stop);
  c->handle = NULL;
  c->stop = NULL;
}

int
spawn_pipe(int fd[2])
{
  return _pipe(fd, 1u << 20, _O_BINARY | _O_NOINHERIT);
}

void
spawn_std_open(void)
{
  /* The C runtime always has descriptors 0-2; a missing standard handle
   * is replaced by the null device in inheritable(). */
}

int
spawn_null_fd(void)
{
  return _open("NUL", _O_RDWR | _O_BINARY | _O_NOINHERIT);
}

int
spawn_self_dir(const char *argv0, char *buf, size_t n)
{
  (void)argv0;
  DWORD cap = MAX_PATH;
  wchar_t *w = NULL;
  for (;;) {
    wchar_t *nw = realloc(w, cap * sizeof(wchar_t));
    if (!nw) {
      free(w);
      errno = ENOMEM;
      return -1;
    }
    w = nw;
    DWORD got = GetModuleFileNameW(NULL, w, cap);
    if (got == 0) {
      free(w);
      return fail_win();
    }
    if (got < cap) break;
    if (cap >= 32768) {
      free(w);
      errno = ENAMETOOLONG;
      return -1;
    }
    cap *= 2;
  }
  char *path = win_utf8(w, -1);
  free(w);
  if (!path) return -1;
  char *cut = strrchr(path, '\\');
  char *cut2 = strrchr(path, '/');
  if (cut2 > cut) cut = cut2;
  if (!cut || (size_t)(cut - path) >= n) {
    free(path);
    errno = cut ? ENAMETOOLONG : ENOENT;
    return -1;
  }
  memcpy(buf, path, (size_t)(cut - path));
  buf[cut - path] = '\0';
  free(path);
  return 0;
}

uint64_t
spawn_clock_ms(void)
{
  return (uint64_t)GetTickCount64();
}

const char *
spawn_exe_suffix(void)
{
  return ".exe";
}
