/*
 * winapi.h - helpers for code that calls the Windows API.
 *
 * Text is UTF-8 everywhere inside the programs (STYLE.md B4); these
 * functions convert to UTF-16 right before a Windows API call and back
 * right after it, turn a UTF-8 path into the form CreateFileW accepts at
 * any length (the \\?\ prefix past MAX_PATH), and map Win32 error codes
 * onto errno values and readable text. Only *_win.c files call them; the
 * implementation is lib/winapi_win.c and nothing is built on POSIX. The
 * declarations use plain C types (DWORD is unsigned long on Windows) so
 * that this header needs no OS test.
 *
 * Ownership: every returned string is malloc'd and owned by the caller.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_WINAPI_H
#define RTK_WINAPI_H

#include "lib/platform.h"

/* win_wide - UTF-8 (NUL-terminated) to UTF-16; invalid bytes become
 * U+FFFD. NULL with errno ENOMEM on out of memory. */
wchar_t *win_wide(const char *s);

/* win_utf8 - n UTF-16 units (n < 0: up to the NUL) to UTF-8; unpaired
 * surrogates become U+FFFD. NULL with errno ENOMEM on out of memory. */
char *win_utf8(const wchar_t *w, long n);

/* win_path - a UTF-8 path as UTF-16 for CreateFileW and FindFirstFileW:
 * relative paths stay relative while short; a path whose full form does
 * not fit MAX_PATH becomes \\?\C:\... or \\?\UNC\server\share\... with
 * '/' turned into '\'. NULL with errno set on failure. */
wchar_t *win_path(const char *path);

/* win_errno - the errno value closest to a Win32 error code (EPIPE for
 * the three ways a pipe reports a reader that has gone). */
int win_errno(unsigned long err);

/* win_strerror - the system's text for a Win32 error code, as UTF-8,
 * without the trailing period and line break, into buf (always
 * NUL-terminated); returns buf. Unknown codes read "error N". */
const char *win_strerror(unsigned long err, char *buf, size_t n);

/* win_stop_event - the named event through which a process started by
 * RealTimeKql is asked to stop ("Local\\RealTimeKql-stop-<pid>"), as
 * Ctrl-C would: console control events need a console the two share,
 * which a launcher started by a service, a scheduled task or Wine does
 * not have. Made if missing, else opened (both sides call this, whoever
 * comes first makes it). Auto-reset. NULL on failure. */
void *win_stop_event(unsigned long pid);

/* win_under_wine - true when running under Wine, whose ETW and TDH
 * functions are stubs (some abort the process when called). */
bool win_under_wine(void);

#endif
