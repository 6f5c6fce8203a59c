/*
 * sink_fs.h - the few file-system calls the sinks need, per platform.
 *
 * Files opened, renamed, removed and listed by UTF-8 name (on Windows
 * through the wide API, so any name and long paths work, whatever the
 * ANSI code page), directories made with parents and owner-only
 * permissions, durable writes (fsync of the file and of its directory), a
 * lock so that only one process replays a spool directory at a time, and
 * the default spool location. POSIX: lib/sink_fs_posix.c; Windows:
 * lib/sink_fs_win.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RTK_SINK_FS_H
#define RTK_SINK_FS_H

#include "lib/platform.h"

/* sink_fs_open - open(2) by UTF-8 name. flags: O_RDONLY, O_RDWR, or
 * O_WRONLY with O_CREAT, O_TRUNC, O_APPEND; the descriptor reads and
 * writes bytes unchanged (binary) and is not inherited by child
 * processes; mode applies to a file it creates (Windows ignores it). The
 * descriptor, or -1 with errno. */
int sink_fs_open(const char *path, int flags, int mode);

/* sink_fs_rename - rename a file, replacing the target; 0 or -1 with
 * errno. */
int sink_fs_rename(const char *from, const char *to);

/* sink_fs_remove - delete a file; 0 or -1 with errno. */
int sink_fs_remove(const char *path);

/* sink_fs_list - call fn(ctx, name) for each entry of dir but "." and
 * "..", in no particular order; fn returns 0 to go on. 0; fn's non-zero
 * value when it stopped the walk; or -1 with errno (ENOENT: no such
 * directory). */
int sink_fs_list(const char *dir, int (*fn)(void *ctx, const char *name),
                 void *ctx);

/* sink_fs_basename - the part of path after its last directory
 * separator ('/', and '\\' on Windows); path itself when there is none. */
const char *sink_fs_basename(const char *path);

/* sink_fs_mkdirs - create dir and missing parents (owner-only); 0 or -1
 * with errno. An existing directory is fine. */
int sink_fs_mkdirs(const char *dir);

/* sink_fs_sync - flush fd's data to stable storage; 0 or -1. */
int sink_fs_sync(int fd);

/* sink_fs_syncdir - make a rename in dir durable (no-op where the OS has
 * no such thing); 0 or -1. */
int sink_fs_syncdir(const char *dir);

/* sink_fs_lock - take dir's lock file without waiting: a handle >= 0, or
 * -1 (errno EWOULDBLOCK when another process holds it). The lock goes
 * when the handle is released or the process ends. */
int sink_fs_lock(const char *dir);
void sink_fs_unlock(int handle);

/* sink_fs_default_base - the per-user spool base directory into out:
 * $RTK_SPOOL_DIR, else $XDG_STATE_HOME/realtimekql/spool, else
 * ~/.local/state/realtimekql/spool (%LOCALAPPDATA%\RealTimeKql\spool on
 * Windows). 0, or -1 when none can be found or it does not fit. */
int sink_fs_default_base(char *out, size_t n);

/* sink_fs_pid - this process's id, for unique file names. */
unsigned long sink_fs_pid(void);

#endif
