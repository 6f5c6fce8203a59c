/*
 * etw_realtime_win.c - real-time ETW consumer and private sessions
 * (etw_realtime.h).
 *
 * Order of a run (every step's failure goes to the clean-up at "done"):
 *   1. parse the --provider specs, resolve names through TDH;
 *   2. install the stop hooks (console control handler, atexit, the
 *      unhandled-exception filter), then StartTraceW for a private
 *      session;
 *   3. OpenTraceW on the session; ProcessTrace on a consumer thread whose
 *      callback copies records into the queue (on_event); then
 *      EnableTraceEx2 for each provider of the private session;
 *   4. this thread writes events until the consumer thread ends; a stop
 *      request (Ctrl-C, output gone) stops the private session, or closes
 *      the trace when attached to someone else's session, and ProcessTrace
 *      then returns after delivering what was buffered;
 *   5. join the consumer thread, CloseTrace, stop the private session
 *      (once, whoever gets there first), report losses, free the queue.
 * Calls that are never made under Wine: TDH (it aborts the process there).
 * Not built or run on the Linux machines; reviewed against the Win32
 * documentation instead (windows.md section 7).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/etw_realtime.h"

#include "etwcat/etw_provider.h"
#include "etwcat/etw_record.h"
#include "etwcat/evt_tei.h"
#include "lib/log.h"
#include "lib/signals.h"
#include "lib/winapi.h"

#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <evntcons.h>
#include <evntrace.h>
#include <rpc.h>
#include <tdh.h>

#define QUEUE_DEFAULT 8192
#define QUEUE_BYTES_MAX (256u << 20) /* record copies held at most */
#define SLOT_MIN 4096
#define NAME_CHARS 1024 /* longest session name ETW accepts */
#define STOP_WAIT_MS 5000
#define TRIED_SLOTS 4096
#define TDH_MAX (16u << 20)

struct slot {
  struct etl_event ev;
  uint8_t *buf; /* record copy; owned, reused */
  size_t cap;
};

/* TDH lookups already made, successful or not. */
struct tried {
  uint8_t guid[16];
  uint16_t id;
  uint8_t version;
  uint8_t classic;
  bool used;
};

/*
 * Everything the callbacks reach. The console control handler, the
 * exception filter and atexit take no context argument, hence one run per
 * process. The queue fields are guarded by lock; held and the slot
 * buffers beyond the queue's tail belong to the consumer thread; the
 * Interlocked flags may be touched by any thread.
 */
static struct {
  SRWLOCK lock;
  CONDITION_VARIABLE cv;
  struct slot *slots;
  size_t nslots, head, count;
  uint64_t received, queue_lost;
  bool consumer_done;
  ULONG process_rc;
  size_t held;

  CRITICAL_SECTION ctl; /* StartTraceW against a concurrent stop */
  volatile LONG stop;
  volatile LONG ctrl_seen;
  volatile LONG trace_open;
  volatile LONG trace_closed;
  volatile LONG own_session;
  volatile LONG session_stopped;
  volatile LONG stop_done;
  ULONG stop_rc;
  TRACEHANDLE trace;
  TRACEHANDLE session;
  wchar_t *wname;
  char *name;
  ULONG props_size;
  EVENT_TRACE_PROPERTIES *props;      /* this thread: start, query */
  EVENT_TRACE_PROPERTIES *stop_props; /* stop_session only */
  LPTOP_LEVEL_EXCEPTION_FILTER prev_filter;
  bool no_tdh;
  struct tried *tried;
  size_t ntried;
} rt;

static const char *
errtext(DWORD e, char *buf, size_t n)
{
  return win_strerror(e, buf, n);
}

/* props_init - an empty EVENT_TRACE_PROPERTIES with room for the session
 * and log file names, as StartTraceW and ControlTraceW want it. */
static void
props_init(EVENT_TRACE_PROPERTIES *p)
{
  memset(p, 0, rt.props_size);
  p->Wnode.BufferSize = rt.props_size;
  p->LoggerNameOffset = sizeof *p;
  p->LogFileNameOffset = (ULONG)(sizeof *p + (NAME_CHARS + 1) * sizeof(WCHAR));
}

/* stop_session - stop the private session, once, from any thread. Used
 * by the crash and exit paths too, so it allocates nothing. */
static void
stop_session(void)
{
  EnterCriticalSection(&rt.ctl);
  if (rt.own_session && !InterlockedExchange(&rt.session_stopped, 1)) {
    props_init(rt.stop_props);
    rt.stop_rc =
        ControlTraceW(0, rt.wname, rt.stop_props, EVENT_TRACE_CONTROL_STOP);
    InterlockedExchange(&rt.stop_done, 1);
  }
  LeaveCriticalSection(&rt.ctl);
}

/* close_trace - CloseTrace once. While ProcessTrace runs this returns
 * ERROR_CTX_CLOSE_PENDING: ProcessTrace then returns after the events
 * already buffered; after it has returned, this frees the handle. */
static void
close_trace(void)
{
  if (InterlockedCompareExchange(&rt.trace_open, 0, 0) &&
      !InterlockedExchange(&rt.trace_closed, 1))
    (void)CloseTrace(rt.trace);
}

/* request_stop - any thread: make ProcessTrace return. */
static void
request_stop(void)
{
  InterlockedExchange(&rt.stop, 1);
  if (rt.own_session)
    stop_session();
  else
    close_trace();
  WakeConditionVariable(&rt.cv);
}

static BOOL WINAPI
on_ctrl(DWORD kind)
{
  switch (kind) {
  case CTRL_C_EVENT:
  case CTRL_BREAK_EVENT:
    /* A second press ends the process now, as the default handler
     * would; returning FALSE would only reach lib/signals' handler,
     * which counts it and returns TRUE. */
    if (InterlockedExchange(&rt.ctrl_seen, 1)) {
      stop_session();
      ExitProcess(STATUS_CONTROL_C_EXIT);
    }
    request_stop();
    return TRUE;
  case CTRL_CLOSE_EVENT:
  case CTRL_LOGOFF_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    /* The process ends when this returns: stop the session first. */
    request_stop();
    stop_session();
    return TRUE;
  default:
    return FALSE;
  }
}

static LONG WINAPI
on_crash(EXCEPTION_POINTERS *e)
{
  stop_session();
  return rt.prev_filter ? rt.prev_filter(e) : EXCEPTION_CONTINUE_SEARCH;
}

static void
on_exit_hook(void)
{
  stop_session();
}

/* grow - make s hold need bytes within the queue's byte budget. Consumer
 * thread only. */
static bool
grow(struct slot *s, size_t need)
{
  size_t ncap = need < SLOT_MIN ? SLOT_MIN : need;
  if (rt.held - s->cap + ncap > QUEUE_BYTES_MAX) return false;
  uint8_t *nb = realloc(s->buf, ncap);
  if (!nb) return false;
  rt.held = rt.held - s->cap + ncap;
  s->buf = nb;
  s->cap = ncap;
  return true;
}

/*
 * on_event - the EventRecordCallback, on the consumer thread. The record
 * and everything it points to belong to ETW and are valid only during
 * this call, so the record is copied into the slot at the queue's tail
 * (which the writer does not look at until count includes it). It never
 * waits for the writer: when the queue is full, or its byte budget or
 * memory runs out, the event is dropped and counted.
 */
static VOID WINAPI
on_event(PEVENT_RECORD r)
{
  struct etw_rec_ext ext[ETW_REC_MAX_EXT];
  struct etw_rec x;
  const EVENT_HEADER *h = &r->EventHeader;
  memset(&x, 0, sizeof x);
  x.flags = h->Flags;
  x.property = h->EventProperty;
  x.tid = h->ThreadId;
  x.pid = h->ProcessId;
  x.timestamp = h->TimeStamp.QuadPart;
  memcpy(x.provider, &h->ProviderId, 16);
  x.id = h->EventDescriptor.Id;
  x.version = h->EventDescriptor.Version;
  x.channel = h->EventDescriptor.Channel;
  x.level = h->EventDescriptor.Level;
  x.opcode = h->EventDescriptor.Opcode;
  x.task = h->EventDescriptor.Task;
  x.keyword = h->EventDescriptor.Keyword;
  memcpy(x.activity, &h->ActivityId, 16);
  x.processor = r->BufferContext.ProcessorIndex;
  x.logger_id = r->BufferContext.LoggerId;
  size_t next = r->ExtendedData ? r->ExtendedDataCount : 0;
  if (next > ETW_REC_MAX_EXT) next = ETW_REC_MAX_EXT;
  for (size_t i = 0; i < next; i++) {
    ext[i].type = r->ExtendedData[i].ExtType;
    ext[i].size = r->ExtendedData[i].DataSize;
    ext[i].data = (const uint8_t *)(uintptr_t)r->ExtendedData[i].DataPtr;
  }
  x.ext_count = (uint16_t)next;
  x.ext = ext;
  x.user_len = r->UserData ? r->UserDataLength : 0;
  x.user = r->UserData;

  AcquireSRWLockExclusive(&rt.lock);
  rt.received++;
  struct slot *s = NULL;
  if (rt.count < rt.nslots)
    s = &rt.slots[(rt.head + rt.count) % rt.nslots];
  else
    rt.queue_lost++;
  ReleaseSRWLockExclusive(&rt.lock);
  if (!s) return;
  size_t need = etw_record_size(&x);
  bool ok = s->cap >= need || grow(s, need);
  if (ok) ok = etw_record_copy(&x, &s->ev, s->buf, s->cap, rt.name);
  AcquireSRWLockExclusive(&rt.lock);
  if (ok)
    rt.count++;
  else
    rt.queue_lost++;
  ReleaseSRWLockExclusive(&rt.lock);
  if (ok) WakeConditionVariable(&rt.cv);
}

/* The thread function; clang-format would join the calling convention
 * and the name on one line. */
/* clang-format off */
static unsigned __stdcall
consume(void *arg)
/* clang-format on */
{
  (void)arg;
  ULONG rc = ProcessTrace(&rt.trace, 1, NULL, NULL);
  AcquireSRWLockExclusive(&rt.lock);
  rt.process_rc = rc;
  rt.consumer_done = true;
  ReleaseSRWLockExclusive(&rt.lock);
  WakeConditionVariable(&rt.cv);
  return 0;
}

/* tried_before - true if (provider, id, version) was already looked up
 * through TDH (or the table is full); otherwise remember it. */
static bool
tried_before(const uint8_t guid[16], bool classic, uint16_t id, uint8_t version)
{
  if (!rt.tried) {
    rt.tried = calloc(TRIED_SLOTS, sizeof *rt.tried);
    if (!rt.tried) return true;
  }
  uint32_t hash = 2166136261u;
  for (int i = 0; i < 16; i++)
    hash = (hash ^ guid[i]) * 16777619u;
  hash = (hash ^ id) * 16777619u;
  hash = (hash ^ (uint32_t)(version << 1 | classic)) * 16777619u;
  for (size_t i = 0; i < TRIED_SLOTS; i++) {
    struct tried *t = &rt.tried[(hash + i) % TRIED_SLOTS];
    if (!t->used) {
      if (rt.ntried >= TRIED_SLOTS / 4 * 3) return true;
      memcpy(t->guid, guid, 16);
      t->id = id;
      t->version = version;
      t->classic = classic;
      t->used = true;
      rt.ntried++;
      return false;
    }
    if (memcmp(t->guid, guid, 16) == 0 && t->id == id &&
        t->version == version && t->classic == classic)
      return true;
  }
  return true;
}

/* tdh_maps - load the value maps the TDH schema names. */
static void
tdh_maps(struct evt_registry *reg, EVENT_RECORD *r, const TRACE_EVENT_INFO *tei,
         ULONG size, const uint8_t guid[16])
{
  size_t arr = offsetof(TRACE_EVENT_INFO, EventPropertyInfoArray);
  if (size < arr ||
      tei->PropertyCount > (size - arr) / sizeof(EVENT_PROPERTY_INFO))
    return;
  for (ULONG i = 0; i < tei->PropertyCount; i++) {
    const EVENT_PROPERTY_INFO *pi = &tei->EventPropertyInfoArray[i];
    ULONG off = pi->nonStructType.MapNameOffset;
    if ((pi->Flags & PropertyStruct) || off == 0 || off >= size) continue;
    const wchar_t *wmap = (const wchar_t *)((const BYTE *)tei + off);
    size_t room = (size - off) / sizeof(wchar_t);
    if (wcsnlen(wmap, room) == room) continue;
    char *name = win_utf8(wmap, -1);
    if (!name || evt_registry_find_map(reg, guid, name)) {
      free(name);
      continue;
    }
    free(name);
    ULONG msize = 0;
    if (TdhGetEventMapInformation(r, (PWSTR)wmap, NULL, &msize) !=
            ERROR_INSUFFICIENT_BUFFER ||
        msize == 0 || msize > TDH_MAX)
      continue;
    /* The EventMetadata opcode-33 layout: provider GUID, EVENT_MAP_INFO
     * (16 bytes in, so the structure stays aligned). */
    uint8_t *blob = malloc(16 + (size_t)msize);
    if (!blob) continue;
    memcpy(blob, guid, 16);
    char err[256] = "";
    if (TdhGetEventMapInformation(r, (PWSTR)wmap, (PEVENT_MAP_INFO)(blob + 16),
                                  &msize) == ERROR_SUCCESS &&
        evt_tei_load_map_info(reg, blob, 16 + (size_t)msize, err, sizeof err) !=
            0)
      log_warn("TDH value map not usable: %s", err);
    free(blob);
  }
}

/*
 * tdh_schema - the last schema source: when the registry has nothing for
 * ev, ask TDH once for its TRACE_EVENT_INFO (the layout EventMetadata
 * records carry, so evt_tei compiles it) and its value maps. TDH reads
 * only the record's header for this, so the record is rebuilt from the
 * copied event on this thread instead of blocking the consumer callback.
 */
static void
tdh_schema(struct evt_registry *reg, const struct etl_event *ev)
{
  if (rt.no_tdh || ev->tl_meta || ev->origin == ETL_ORIGIN_WPP) return;
  bool classic = ev->origin != ETL_ORIGIN_MANIFEST;
  uint16_t key = classic ? ev->opcode : ev->id;
  if (evt_registry_find(reg, ev->provider, classic, key, ev->version) ||
      tried_before(ev->provider, classic, key, ev->version))
    return;
  EVENT_RECORD r;
  memset(&r, 0, sizeof r);
  r.EventHeader.Size = sizeof r.EventHeader;
  r.EventHeader.Flags = (USHORT)(ev->flags & ~ETL_EF_EXTENDED_INFO);
  r.EventHeader.ThreadId = ev->tid;
  r.EventHeader.ProcessId = ev->pid;
  r.EventHeader.TimeStamp.QuadPart = ev->time;
  memcpy(&r.EventHeader.ProviderId, ev->provider, 16);
  r.EventHeader.EventDescriptor.Id = ev->id;
  r.EventHeader.EventDescriptor.Version = ev->version;
  r.EventHeader.EventDescriptor.Channel = ev->channel;
  r.EventHeader.EventDescriptor.Level = ev->level;
  r.EventHeader.EventDescriptor.Opcode = ev->opcode;
  r.EventHeader.EventDescriptor.Task = ev->task;
  r.EventHeader.EventDescriptor.Keyword = ev->keywords;
  r.BufferContext.ProcessorIndex = ev->cpu;
  r.UserData = (PVOID)ev->data;
  r.UserDataLength = (USHORT)ev->data_len;
  ULONG size = 0;
  ULONG rc = TdhGetEventInformation(&r, 0, NULL, NULL, &size);
  if (rc != ERROR_INSUFFICIENT_BUFFER || size == 0 || size > TDH_MAX)
    return; /* not known to TDH either: the writer reports DecodeError */
  TRACE_EVENT_INFO *tei = malloc(size);
  if (!tei) return;
  char err[256] = "";
  if (TdhGetEventInformation(&r, 0, NULL, tei, &size) == ERROR_SUCCESS) {
    if (evt_tei_load_event_info(reg, (const uint8_t *)tei, size, err,
                                sizeof err) == 0)
      tdh_maps(reg, &r, tei, size, ev->provider);
    else
      log_warn("TDH schema not usable: %s", err);
  }
  free(tei);
}

/* resolve_name - the GUID of a registered provider, by name (any case).
 */
static int
resolve_name(struct etw_provider *p)
{
  wchar_t *want = win_wide(p->name);
  if (!want) return -1;
  PROVIDER_ENUMERATION_INFO *info = NULL;
  ULONG size = 0, rc = ERROR_INSUFFICIENT_BUFFER;
  /* Providers may register between the two calls: retry a few times. */
  for (int i = 0; i < 4 && rc == ERROR_INSUFFICIENT_BUFFER; i++) {
    rc = TdhEnumerateProviders(info, &size);
    if (rc == ERROR_INSUFFICIENT_BUFFER) {
      free(info);
      info = size <= TDH_MAX ? malloc(size) : NULL;
      if (!info) rc = ERROR_OUTOFMEMORY;
    }
  }
  bool found = false;
  size_t arr = offsetof(PROVIDER_ENUMERATION_INFO, TraceProviderInfoArray);
  if (rc == ERROR_SUCCESS && info && size >= arr &&
      info->NumberOfProviders <= (size - arr) / sizeof(TRACE_PROVIDER_INFO)) {
    for (ULONG i = 0; i < info->NumberOfProviders && !found; i++) {
      const TRACE_PROVIDER_INFO *t = &info->TraceProviderInfoArray[i];
      ULONG off = t->ProviderNameOffset;
      if (off == 0 || off >= size) continue;
      const wchar_t *n = (const wchar_t *)((const BYTE *)info + off);
      size_t room = (size - off) / sizeof(wchar_t);
      if (wcsnlen(n, room) < room && _wcsicmp(n, want) == 0) {
        memcpy(p->guid, &t->ProviderGuid, 16);
        found = true;
      }
    }
  }
  free(info);
  free(want);
  if (rc != ERROR_SUCCESS) {
    char e[256];
    log_err("--provider=%s: cannot list the registered providers: %s", p->name,
            errtext(rc, e, sizeof e));
    return -1;
  }
  if (!found) {
    log_err("--provider=%s: no registered provider has this name (list "
            "them with: logman query providers), or give its GUID",
            p->name);
    return -1;
  }
  p->has_guid = true;
  return 0;
}

static void
privilege_hint(DWORD rc)
{
  if (rc == ERROR_ACCESS_DENIED)
    log_err("ETW sessions need an elevated prompt (Run as "
            "administrator) or membership in the Performance Log Users "
            "group");
}

/* start_session - StartTraceW for the private real-time session. */
static int
start_session(void)
{
  char e[256];
  ULONG rc;
  EnterCriticalSection(&rt.ctl);
  for (int attempt = 0;; attempt++) {
    EVENT_TRACE_PROPERTIES *p = rt.props;
    props_init(p);
    p->LogFileNameOffset = 0; /* real-time only: no log file */
    p->Wnode.Flags = WNODE_FLAG_TRACED_GUID;
    p->Wnode.ClientContext = 1; /* QPC clock; consumers get FILETIME */
    if (UuidCreate(&p->Wnode.Guid) != RPC_S_OK)
      memset(&p->Wnode.Guid, 0, sizeof p->Wnode.Guid);
    p->LogFileMode = EVENT_TRACE_REAL_TIME_MODE;
    p->FlushTimer = 1;  /* deliver part-filled buffers every second */
    p->BufferSize = 64; /* KB */
    rc = StartTraceW(&rt.session, rt.wname, p);
    if (rc != ERROR_ALREADY_EXISTS || attempt > 0) break;
    /* The name holds our process id: a session left by an earlier
     * process with the same id (killed by force). Stop it, once. */
    log_warn("stopping the ETW session %s left behind by an earlier run",
             rt.name);
    props_init(p);
    (void)ControlTraceW(0, rt.wname, p, EVENT_TRACE_CONTROL_STOP);
  }
  if (rc == ERROR_SUCCESS) InterlockedExchange(&rt.own_session, 1);
  LeaveCriticalSection(&rt.ctl);
  if (rc != ERROR_SUCCESS) {
    log_err("cannot start the ETW session %s: %s", rt.name,
            errtext(rc, e, sizeof e));
    privilege_hint(rc);
    if (rc == ERROR_ALREADY_EXISTS)
      log_err("stop it with: logman stop %s -ets", rt.name);
    if (rc == ERROR_NO_SYSTEM_RESOURCES)
      log_err("too many ETW sessions are running; list them with: logman "
              "query -ets");
    return -1;
  }
  log_note("started the ETW session %s (if etwcat is killed, remove it "
           "with: logman stop %s -ets)",
           rt.name, rt.name);
  return 0;
}

/* enable_providers - EnableTraceEx2 for every provider, once the consumer
 * runs, so that the first events are not left waiting in buffers. On
 * failure the caller stops the session. */
static int
enable_providers(const struct etw_provider *prov, size_t n)
{
  char e[256];
  for (size_t i = 0; i < n; i++) {
    GUID g;
    memcpy(&g, prov[i].guid, sizeof g);
    ULONG rc =
        EnableTraceEx2(rt.session, &g, EVENT_CONTROL_CODE_ENABLE_PROVIDER,
                       prov[i].level, prov[i].keywords, 0, 0, NULL);
    if (rc != ERROR_SUCCESS) {
      log_err("cannot enable the provider %s in the session %s: %s",
              prov[i].name, rt.name, errtext(rc, e, sizeof e));
      privilege_hint(rc);
      return -1;
    }
  }
  return 0;
}

static void
no_session_hint(DWORD rc)
{
  if (rc == ERROR_WMI_INSTANCE_NOT_FOUND || rc == ERROR_NOT_FOUND)
    log_err("no real-time session named %s is running (list them with: "
            "logman query -ets); start one, e.g.: logman create trace %s "
            "-rt -nb 2 2 -bs 1024 -p "
            "{7dd42a49-5329-4832-8dfd-43d979153a88} 0xffffffffffffffff "
            "-ets; or let etwcat start one with --provider",
            rt.name, rt.name);
  privilege_hint(rc);
}

static int
open_trace(void)
{
  EVENT_TRACE_LOGFILEW lf;
  memset(&lf, 0, sizeof lf);
  lf.LoggerName = rt.wname;
  lf.ProcessTraceMode =
      PROCESS_TRACE_MODE_REAL_TIME | PROCESS_TRACE_MODE_EVENT_RECORD;
  lf.EventRecordCallback = on_event;
  TRACEHANDLE h = OpenTraceW(&lf);
  if (h == INVALID_PROCESSTRACE_HANDLE) {
    DWORD rc = GetLastError();
    char e[256];
    log_err("cannot open the real-time session %s: %s", rt.name,
            errtext(rc, e, sizeof e));
    no_session_hint(rc);
    return -1;
  }
  rt.trace = h;
  InterlockedExchange(&rt.trace_open, 1);
  return 0;
}

/* query_losses - the session's loss counters (since it started). */
static bool
query_losses(uint64_t *events, uint64_t *buffers)
{
  props_init(rt.props);
  if (ControlTraceW(0, rt.wname, rt.props, EVENT_TRACE_CONTROL_QUERY) !=
      ERROR_SUCCESS)
    return false;
  *events = rt.props->EventsLost;
  *buffers = rt.props->RealTimeBuffersLost;
  return true;
}

/*
 * writer - this thread's loop: hand queued events to the sink until the
 * consumer thread has ended and the queue is empty. After a stop request
 * it waits STOP_WAIT_MS for ProcessTrace to return, then closes the trace
 * and waits as long again; returns false if the consumer thread is still
 * running then (its queue must not be freed).
 */
static bool
writer(struct evt_registry *reg, const struct etw_rt_sink *sink)
{
  bool out_ok = true;
  ULONGLONG stop_at = 0;
  int waits = 0;
  AcquireSRWLockExclusive(&rt.lock);
  for (;;) {
    if (!rt.stop && sig_count() > 0) {
      /* A launcher's stop request (signals_win.c), or a console event
       * that reached the handler of lib/signals first. */
      ReleaseSRWLockExclusive(&rt.lock);
      request_stop();
      AcquireSRWLockExclusive(&rt.lock);
    }
    if (rt.count > 0) {
      struct slot *s = &rt.slots[rt.head];
      ReleaseSRWLockExclusive(&rt.lock);
      if (out_ok) {
        tdh_schema(reg, &s->ev);
        out_ok = sink->event(sink->ctx, &s->ev);
      }
      AcquireSRWLockExclusive(&rt.lock);
      rt.head = (rt.head + 1) % rt.nslots;
      rt.count--;
      if (rt.count == 0 && out_ok) {
        ReleaseSRWLockExclusive(&rt.lock);
        out_ok = sink->idle(sink->ctx);
        AcquireSRWLockExclusive(&rt.lock);
      }
      if (!out_ok && !rt.stop) {
        ReleaseSRWLockExclusive(&rt.lock);
        request_stop(); /* keep draining (and dropping) until the end */
        AcquireSRWLockExclusive(&rt.lock);
      }
      continue;
    }
    if (rt.consumer_done) break;
    if (rt.stop) {
      ULONGLONG now = GetTickCount64();
      if (!stop_at) {
        /* Again from here: a request that came while the trace was being
         * opened found nothing to close. */
        stop_at = now;
        ReleaseSRWLockExclusive(&rt.lock);
        request_stop();
        AcquireSRWLockExclusive(&rt.lock);
      } else if (now - stop_at > STOP_WAIT_MS) {
        if (++waits == 2) break;
        ReleaseSRWLockExclusive(&rt.lock);
        close_trace();
        AcquireSRWLockExclusive(&rt.lock);
        stop_at = now;
      }
    }
    SleepConditionVariableSRW(&rt.cv, &rt.lock, 250, 0);
  }
  bool done = rt.consumer_done;
  ReleaseSRWLockExclusive(&rt.lock);
  if (!done)
    log_warn("the ETW consumer thread did not end within %d s",
             2 * STOP_WAIT_MS / 1000);
  return done;
}

static int
setup(const struct etw_rt_opts *o)
{
  char buf[32];
  const char *name = o->session;
  if (!name) {
    snprintf(buf, sizeof buf, "etwcat-%lu",
             (unsigned long)GetCurrentProcessId());
    name = buf;
  }
  rt.name = malloc(strlen(name) + 1);
  rt.wname = win_wide(name);
  rt.nslots = o->queue_events ? o->queue_events : QUEUE_DEFAULT;
  rt.slots = calloc(rt.nslots, sizeof *rt.slots);
  rt.props_size =
      (ULONG)(sizeof(EVENT_TRACE_PROPERTIES) + 2 * (NAME_CHARS + 1) * 2);
  rt.props = calloc(1, rt.props_size);
  rt.stop_props = calloc(1, rt.props_size);
  if (!rt.name || !rt.wname || !rt.slots || !rt.props || !rt.stop_props)
    return -1;
  memcpy(rt.name, name, strlen(name) + 1);
  return 0;
}

static void
teardown(bool joined)
{
  if (joined && rt.slots)
    for (size_t i = 0; i < rt.nslots; i++)
      free(rt.slots[i].buf);
  if (joined) free(rt.slots);
  free(rt.tried);
  free(rt.props);
  rt.props = NULL;
  rt.tried = NULL;
  rt.slots = NULL;
  /* rt.name, rt.wname and rt.stop_props stay: the exit and crash hooks
   * may still read them (they do nothing once the session is stopped). */
}

int
etw_rt_run(const struct etw_rt_opts *o, struct evt_registry *reg,
           const struct etw_rt_sink *sink)
{
  if (o->session && o->nproviders) {
    log_err("give --session (attach to a session) or --provider (start "
            "one), not both");
    return 2;
  }
  if (o->session && (!*o->session || strlen(o->session) > NAME_CHARS)) {
    log_err("--session: a session name has 1 to %d characters", NAME_CHARS);
    return 2;
  }
  struct etw_provider *prov = calloc(o->nproviders + 1, sizeof *prov);
  if (!prov) log_die(1, "out of memory");
  for (size_t i = 0; i < o->nproviders; i++) {
    char err[300];
    if (etw_provider_parse(o->providers[i], &prov[i], err, sizeof err) != 0) {
      log_err("%s", err);
      free(prov);
      return 2;
    }
  }
  /* Wine imitates the ETW API without events (windows.md section 6);
   * RTK_WINE_ETW=1 runs the code anyway, to test its error paths. */
  rt.no_tdh = win_under_wine();
  if (rt.no_tdh && !getenv("RTK_WINE_ETW")) {
    log_err("real-time ETW (--session, --provider) needs Windows, and Wine "
            "only imitates it; read recorded traces with --file=PATTERN");
    free(prov);
    return 2;
  }
  for (size_t i = 0; i < o->nproviders; i++) {
    if (prov[i].has_guid) continue;
    if (rt.no_tdh) {
      log_err("--provider=%s: names are resolved through TDH, which Wine "
              "lacks; give the provider's GUID",
              prov[i].name);
      free(prov);
      return 2;
    }
    if (resolve_name(&prov[i]) != 0) {
      free(prov);
      return 2;
    }
  }

  InitializeSRWLock(&rt.lock);
  InitializeConditionVariable(&rt.cv);
  InitializeCriticalSection(&rt.ctl);
  if (setup(o) != 0) log_die(1, "out of memory");
  /* lib/signals first, so that on_ctrl, added later, sees console
   * events before it; lib/signals also takes the launcher's requests. */
  (void)sig_install();
  SetConsoleCtrlHandler(on_ctrl, TRUE);
  rt.prev_filter = SetUnhandledExceptionFilter(on_crash);
  atexit(on_exit_hook);

  int status = 1;
  bool joined = true;
  uint64_t ev0 = 0, buf0 = 0, ev1 = 0, buf1 = 0;
  bool have0 = false, have1 = false;
  HANDLE thread = NULL;
  if (o->nproviders && start_session() != 0) goto done;
  if (rt.stop || open_trace() != 0) goto done;
  have0 = query_losses(&ev0, &buf0);
  thread = (HANDLE)_beginthreadex(NULL, 0, consume, NULL, 0, NULL);
  if (!thread) {
    log_err("cannot start the ETW consumer thread");
    goto done;
  }
  bool enabled = !o->nproviders || enable_providers(prov, o->nproviders) == 0;
  if (!enabled)
    request_stop();
  else
    log_note("reading the real-time session %s; Ctrl-C stops", rt.name);
  joined = writer(reg, sink);
  if (joined)
    WaitForSingleObject(thread, STOP_WAIT_MS); /* it has left ProcessTrace */
  CloseHandle(thread);
  if (!rt.own_session) have1 = query_losses(&ev1, &buf1);
  status = enabled ? 0 : 1;
  ULONG prc = rt.process_rc;
  if (joined && prc != ERROR_SUCCESS && prc != ERROR_CANCELLED && !rt.stop) {
    char e[256];
    log_err("reading the session %s failed: %s", rt.name,
            errtext(prc, e, sizeof e));
    no_session_hint(prc);
    status = 1;
  } else if (!rt.stop) {
    log_note("the session %s has ended", rt.name);
  }

done:
  close_trace();
  stop_session();
  if (rt.own_session && rt.stop_done) {
    if (rt.stop_rc == ERROR_SUCCESS) {
      ev1 = rt.stop_props->EventsLost;
      buf1 = rt.stop_props->RealTimeBuffersLost;
      have1 = true;
      have0 = true; /* a private session starts at zero */
      ev0 = buf0 = 0;
    } else if (rt.stop_rc != ERROR_WMI_INSTANCE_NOT_FOUND) {
      char e[256];
      log_warn("cannot stop the ETW session %s (%s); remove it with: "
               "logman stop %s -ets",
               rt.name, errtext(rt.stop_rc, e, sizeof e), rt.name);
    }
  }
  SetConsoleCtrlHandler(on_ctrl, FALSE);
  if (rt.trace_open)
    log_note("%" PRIu64 " events received from %s", rt.received, rt.name);
  if (rt.queue_lost) {
    log_warn("%" PRIu64 " events dropped: the output did not keep up with "
             "the session (%zu events queued at most)",
             rt.queue_lost, rt.nslots);
    status = 1;
  }
  uint64_t dev = have0 && have1 && ev1 > ev0 ? ev1 - ev0 : 0;
  uint64_t dbuf = have0 && have1 && buf1 > buf0 ? buf1 - buf0 : 0;
  if (dev || dbuf) {
    log_warn("the session %s lost %" PRIu64 " events and %" PRIu64
             " real-time buffers while etwcat read it (consumer too slow "
             "or buffers too small: logman -nb/-bs)",
             rt.name, dev, dbuf);
    status = 1;
  }
  teardown(joined);
  free(prov);
  return status;
}
