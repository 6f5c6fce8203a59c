/*
 * evt_output.c - write one event in the NDJSON event contract.
 *
 * Key order and value formats: ARCHITECTURE.md "The event contract".
 * Names of levels, opcodes and channels fall back to the winmeta.xml
 * built-ins (etw-schemas.md section 3) when the schema gives none; tasks
 * without a schema keep their number. Kernel (NT Kernel Logger) events
 * are reported under the provider name MSNT_SystemTrace with the class
 * name as task, as TDH does. With --message (evt_writer.messages) the
 * schema's message follows EventData as "Message", its inserts filled
 * in from the values just written (write_message).
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_output.h"

#include "etwcat/evt_manifest.h"
#include "etwcat/evt_tei.h"
#include "etwcat/evt_tlg.h"
#include "lib/bytes.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {
    "Log Always", "Critical", "Error", "Warning", "Information", "Verbose"};

static const char *
opcode_name(uint8_t op)
{
  static const char *const names[] = {
      "Info",      "Start", "Stop",   "DCStart", "DCStop",
      "Extension", "Reply", "Resume", "Suspend", "Send"};
  if (op < sizeof names / sizeof names[0]) return names[op];
  if (op == 240) return "Receive";
  return NULL;
}

static const char *
channel_name(uint8_t ch)
{
  switch (ch) {
  case 0:
    return "TraceClassic";
  case 8:
    return "System";
  case 9:
    return "Application";
  case 10:
    return "Security";
  case 11:
    return "TraceLogging";
  case 12:
    return "ProviderMetadata";
  default:
    return NULL;
  }
}

static const char *const kernel_groups[] = {
    "EventTrace", "DiskIo",     "PageFault",  "Process",
    "FileIo",     "Thread",     "TcpIp",      "Job",
    "UdpIp",      "Registry",   "DbgPrint",   "EventTraceConfig",
    "Spare1",     "Wnf",        "Pool",       "PerfInfo",
    "Heap",       "Object",     "Power",      "ModBound",
    "Image",      "Dpc",        "Cc",         "CritSec",
    "StackWalk",  "Ums",        "ALPC",       "SplitIo",
    "ThreadPool", "Hypervisor", "HypervisorX"};

/* The class name of a kernel event: from its hook id, or for classic
 * events logged with a kernel class GUID, from that GUID. */
static const char *
kernel_task(const struct etl_event *ev)
{
  int g = ev->origin == ETL_ORIGIN_KERNEL
              ? (ev->hook_id == 0x030A ? 0x14 : ev->hook_id >> 8)
              : etl_kernel_group(ev->provider);
  if (g >= 0 && (size_t)g < sizeof kernel_groups / sizeof kernel_groups[0])
    return kernel_groups[g];
  return NULL;
}

static void
name_or_number(struct jsonw *w, const char *key, const char *name, unsigned v)
{
  jw_key(w, key);
  if (name)
    jw_str(w, name);
  else
    jw_u64(w, v);
}

static bool
is_header_record(const struct etl_event *ev)
{
  return ev->origin == ETL_ORIGIN_KERNEL && ev->hook_id == 0x0000;
}

static bool
is_manifest_chunk(const struct etl_event *ev)
{
  return ev->origin == ETL_ORIGIN_MANIFEST && ev->id == 0xFFFE &&
         ev->data_len >= 8 && ev->data[0] == 1 && ev->data[3] == 0x5B;
}

/* Compile a schema record (EventMetadata or EventSource manifest chunk)
 * into the registry; reports malformed ones. */
static void
load_schema_record(struct evt_writer *wr, const struct etl_event *ev)
{
  char err[256] = "";
  int rc = 0;
  if (evt_tei_is_metadata(ev))
    rc = evt_tei_load(wr->reg, ev, err, sizeof err);
  else if (is_manifest_chunk(ev))
    rc = evt_manifest_chunk(wr->reg, ev->provider, ev->data, ev->data_len, err,
                            sizeof err);
  if (rc < 0)
    log_warn("%s: offset 0x%08" PRIx64 ": schema record not usable: %s",
             ev->src_name ? ev->src_name : "<session>", ev->src_offset, err);
}

void
evt_prescan(struct evt_writer *wr, struct etl_file *f)
{
  if (f->prescanned) return;
  f->prescanned = true;
  for (size_t i = 0; i < f->nbufs; i++) {
    uint8_t *data;
    /* Problems are reported by the main pass; stay quiet here. */
    unsigned problems = f->problems;
    if (etl_file_load(f, &f->bufs[i], &data) != 0) {
      f->problems = problems;
      continue;
    }
    struct etl_walk walk = {
        f, &f->bufs[i], data, ETL_BUF_HDR, f->bufs[i].filled, 0, false};
    struct etl_event ev;
    enum etl_next nx;
    while ((nx = etl_walk_next(&walk, &ev)) != ETL_END)
      if (nx == ETL_EVENT &&
          (evt_tei_is_metadata(&ev) || is_manifest_chunk(&ev)))
        load_schema_record(wr, &ev);
    f->problems = problems;
    free(data);
  }
}

static const struct evt_schema *
find_schema(struct evt_writer *wr, const struct etl_event *ev, char *err,
            size_t errlen)
{
  if (ev->tl_meta) return evt_tlg_schema(wr->reg, ev, err, errlen);
  switch (ev->origin) {
  case ETL_ORIGIN_MANIFEST:
    return evt_registry_find(wr->reg, ev->provider, false, ev->id, ev->version);
  case ETL_ORIGIN_CLASSIC:
  case ETL_ORIGIN_KERNEL:
    return evt_registry_find(wr->reg, ev->provider, true, ev->opcode,
                             ev->version);
  default:
    return NULL;
  }
}

/* The header keys from Provider to Keywords depend only on the schema and
 * the event descriptor, which repeat from event to event: they are
 * rendered once into a small direct-mapped cache of JSON fragments. */
struct hdr_key {
  const struct evt_schema *s;
  uint8_t provider[16];
  uint64_t keywords;
  uint16_t id, task, hook;
  uint8_t version, level, opcode, channel, origin;
};

struct hdr_entry {
  struct hdr_key k;
  bool used;
  char *text; /* starts with ',"Provider":' */
  size_t len;
};

#define HDR_CACHE 256

struct evt_hdr_cache {
  struct hdr_entry e[HDR_CACHE];
  struct jsonw scratch;
  char *msg; /* --message: the text being built */
  size_t msg_len, msg_cap;
  bool msg_oom;
};

static void
hdr_key_of(const struct etl_event *ev, const struct evt_schema *s,
           struct hdr_key *k)
{
  memset(k, 0, sizeof *k); /* padding too: keys are compared bytewise */
  k->s = s;
  memcpy(k->provider, ev->provider, 16);
  k->keywords = ev->keywords;
  k->id = ev->id;
  k->task = ev->task;
  k->hook = ev->hook_id;
  k->version = ev->version;
  k->level = ev->level;
  k->opcode = ev->opcode;
  k->channel = ev->channel;
  k->origin = ev->origin;
}

static size_t
hdr_slot(const struct hdr_key *k)
{
  uint64_t h = (uint64_t)(uintptr_t)k->s ^ k->keywords * 0x9E3779B97F4A7C15u;
  h ^= le32(k->provider) * 31u + k->id * 131u + k->opcode * 7u + k->task;
  h ^= (uint64_t)k->level << 40 ^ (uint64_t)k->version << 48 ^ k->channel;
  h *= 0xff51afd7ed558ccdu;
  return (size_t)(h >> 56) % HDR_CACHE;
}

static void
render_descriptor(struct evt_writer *wr, const struct etl_event *ev,
                  const struct evt_schema *s, struct jsonw *w)
{
  const char *prov = s ? s->provider_name : NULL;
  if (!prov) prov = evt_registry_provider_name(wr->reg, ev->provider);
  const char *ktask =
      ev->origin == ETL_ORIGIN_KERNEL || ev->origin == ETL_ORIGIN_CLASSIC
          ? kernel_task(ev)
          : NULL;
  if (!prov && ktask) prov = "MSNT_SystemTrace";
  jw_key(w, "Provider");
  if (prov)
    jw_str(w, prov);
  else
    jw_guid(w, ev->provider);
  jw_key(w, "ProviderId");
  jw_guid(w, ev->provider);
  jw_key(w, "EventId");
  jw_u64(w, ev->id);
  jw_key(w, "Version");
  jw_u64(w, ev->version);

  const char *lvl = s ? s->level_name : NULL;
  if (!lvl && ev->level < 6) lvl = level_names[ev->level];
  const char *task = s ? s->task_name : NULL;
  if (!task) task = ktask;
  const char *op = s ? s->opcode_name : NULL;
  if (!op && ev->origin == ETL_ORIGIN_MANIFEST) op = opcode_name(ev->opcode);
  if (!op && is_header_record(ev)) op = "Header";
  const char *ch = s ? s->channel_name : NULL;
  if (!ch) ch = channel_name(ev->channel);
  name_or_number(w, "Level", lvl, ev->level);
  name_or_number(w, "Task", task, ev->task);
  name_or_number(w, "Opcode", op, ev->opcode);
  name_or_number(w, "Channel", ch, ev->channel);
  jw_key(w, "LevelValue");
  jw_u64(w, ev->level);
  jw_key(w, "TaskValue");
  jw_u64(w, ev->task);
  jw_key(w, "OpcodeValue");
  jw_u64(w, ev->opcode);

  char kw[24] = "0x";
  static const char hex[] = "0123456789ABCDEF";
  for (int i = 0; i < 16; i++)
    kw[2 + i] = hex[(ev->keywords >> (60 - 4 * i)) & 15];
  jw_key(w, "Keywords");
  jw_strn(w, kw, 18);
}

/* Append the cached descriptor fragment for ev (rendering it on a miss). */
static void
descriptor_keys(struct evt_writer *wr, const struct etl_event *ev,
                const struct evt_schema *s, struct jsonw *w)
{
  struct evt_hdr_cache *c = wr->hdr_cache;
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) {
      render_descriptor(wr, ev, s, w);
      return;
    }
    jw_init(&c->scratch);
    wr->hdr_cache = c;
  }
  struct hdr_key k;
  hdr_key_of(ev, s, &k);
  struct hdr_entry *e = &c->e[hdr_slot(&k)];
  if (!e->used || memcmp(&e->k, &k, sizeof k) != 0) {
    jw_reset(&c->scratch);
    jw_obj_begin(&c->scratch);
    jw_key(&c->scratch, "TimeCreated"); /* so Provider gets its comma */
    jw_null(&c->scratch);
    size_t from = c->scratch.len;
    render_descriptor(wr, ev, s, &c->scratch);
    char *text = malloc(c->scratch.len - from);
    if (!text || c->scratch.oom) {
      free(text);
      render_descriptor(wr, ev, s, w);
      return;
    }
    free(e->text);
    e->len = c->scratch.len - from;
    memcpy(text, c->scratch.buf + from, e->len);
    e->text = text;
    e->k = k;
    e->used = true;
  }
  /* The fragment holds complete members; the object already has one. */
  jw_raw_members(w, e->text, e->len);
}

void
evt_writer_free(struct evt_writer *wr)
{
  struct evt_hdr_cache *c = wr->hdr_cache;
  if (!c) return;
  for (size_t i = 0; i < HDR_CACHE; i++)
    free(c->e[i].text);
  jw_free(&c->scratch);
  free(c->msg);
  free(c);
  wr->hdr_cache = NULL;
}

static void
header_keys(struct evt_writer *wr, const struct etl_event *ev,
            const struct evt_schema *s, struct jsonw *w)
{
  char t[48];
  size_t n = filetime_fmt(ev->time, 7, true, t);
  jw_key(w, "TimeCreated");
  jw_strn(w, t, n);
  descriptor_keys(wr, ev, s, w);
  jw_key(w, "ProcessId");
  if (ev->has_pid)
    jw_u64(w, ev->pid);
  else
    jw_i64(w, -1);
  jw_key(w, "ThreadId");
  if (ev->has_pid)
    jw_u64(w, ev->tid);
  else
    jw_i64(w, -1);
  jw_key(w, "ProcessorNumber");
  jw_u64(w, ev->cpu);
  static const uint8_t zero[16];
  jw_key(w, "ActivityId");
  jw_guid(w, ev->has_activity ? ev->activity : zero);
  if (ev->has_related) {
    jw_key(w, "RelatedActivityId");
    jw_guid(w, ev->related);
  }
}

/* EventData of the trace header record: TRACE_LOGFILE_HEADER (MOF class
 * EventTrace_Header names), etl-format.md section 5. */
static bool
write_logfile_header(const struct etl_event *ev, struct jsonw *w)
{
  bool p64 = ev->ptr_size == 8;
  struct br r = br_make(ev->data, ev->data_len);
  uint32_t v[12];
  for (int i = 0; i < 4; i++)
    v[i] = br_u32le(&r);
  int64_t end_time = (int64_t)br_u64le(&r);
  for (int i = 4; i < 12; i++)
    v[i] = br_u32le(&r);
  uint64_t logger_ptr = p64 ? br_u64le(&r) : br_u32le(&r);
  uint64_t logfile_ptr = p64 ? br_u64le(&r) : br_u32le(&r);
  int32_t bias = (int32_t)br_u32le(&r);
  const uint8_t *std_name = br_bytes(&r, 64);
  br_skip(&r, 16 + 4);
  const uint8_t *dl_name = br_bytes(&r, 64);
  br_skip(&r, 16 + 4 + 4); /* DaylightDate, DaylightBias, padding */
  int64_t boot = (int64_t)br_u64le(&r);
  int64_t freq = (int64_t)br_u64le(&r);
  int64_t start = (int64_t)br_u64le(&r);
  uint32_t clock = br_u32le(&r);
  uint32_t lost = br_u32le(&r);
  if (r.bad) return false;
  static const char *const names[] = {
      "BufferSize",      "Version",     "ProviderVersion", "NumberOfProcessors",
      "TimerResolution", "MaxFileSize", "LogFileMode",     "BuffersWritten",
      "StartBuffers",    "PointerSize", "EventsLost",      "CPUSpeed"};
  char t[48];
  jw_obj_begin(w);
  for (int i = 0; i < 4; i++) {
    jw_key(w, names[i]);
    jw_u64(w, v[i]);
  }
  jw_key(w, "EndTime");
  jw_strn(w, t, filetime_fmt(end_time, 7, true, t));
  for (int i = 4; i < 12; i++) {
    jw_key(w, names[i]);
    if (i == 6)
      jw_hex_str(w, v[i]);
    else
      jw_u64(w, v[i]);
  }
  jw_key(w, "LoggerName");
  jw_u64(w, logger_ptr);
  jw_key(w, "LogFileName");
  jw_u64(w, logfile_ptr);
  jw_key(w, "TimeZoneBias");
  jw_i64(w, bias);
  jw_key(w, "TimeZoneStandardName");
  jw_str_utf16le(w, std_name, 64);
  jw_key(w, "TimeZoneDaylightName");
  jw_str_utf16le(w, dl_name, 64);
  jw_key(w, "BootTime");
  jw_strn(w, t, filetime_fmt(boot, 7, true, t));
  jw_key(w, "PerfFreq");
  jw_i64(w, freq);
  jw_key(w, "StartTime");
  jw_strn(w, t, filetime_fmt(start, 7, true, t));
  jw_key(w, "ReservedFlags");
  jw_u64(w, clock);
  jw_key(w, "BuffersLost");
  jw_u64(w, lost);
  /* Session and log file names follow the fixed part. */
  const uint8_t *s = ev->data + r.off;
  size_t left = br_left(&r);
  size_t i = 0;
  while (i + 1 < left && (s[i] | s[i + 1]))
    i += 2;
  jw_key(w, "SessionNameString");
  jw_str_utf16le(w, s, i);
  size_t j = i + 2 < left ? i + 2 : left;
  jw_key(w, "LogFileNameString");
  jw_str_utf16le(w, s + j, left - j);
  jw_obj_end(w);
  return true;
}

static void
write_manifest_chunk(const struct etl_event *ev, struct jsonw *w)
{
  const uint8_t *d = ev->data;
  static const char *const names[] = {"Format", "MajorVersion", "MinorVersion",
                                      "Magic"};
  jw_obj_begin(w);
  for (int i = 0; i < 4; i++) {
    jw_key(w, names[i]);
    jw_u64(w, d[i]);
  }
  jw_key(w, "TotalChunks");
  jw_u64(w, le16(d + 4));
  jw_key(w, "ChunkNumber");
  jw_u64(w, le16(d + 6));
  jw_key(w, "PayloadLength"); /* TraceEvent's name for the event's size */
  jw_u64(w, ev->data_len);
  jw_key(w, "ChunkData");
  jw_str_8bit(w, d + 8, ev->data_len - 8);
  jw_obj_end(w);
}

/* ------------------------------------------------------------------ */
/* --message: the schema's message with its inserts filled in.          */

/* Inserts %1..%MSG_MAX_ARGS name top-level fields; higher numbers stay
 * as written. */
#define MSG_MAX_ARGS 99

static void
msg_put(struct evt_hdr_cache *c, const char *s, size_t n)
{
  if (c->msg_oom) return;
  if (c->msg_cap - c->msg_len < n) {
    size_t cap = c->msg_cap ? c->msg_cap : 256;
    while (cap - c->msg_len < n) {
      if (cap > SIZE_MAX / 2) {
        c->msg_oom = true;
        return;
      }
      cap *= 2;
    }
    char *b = realloc(c->msg, cap);
    if (!b) {
      c->msg_oom = true;
      return;
    }
    c->msg = b;
    c->msg_cap = cap;
  }
  memcpy(c->msg + c->msg_len, s, n);
  c->msg_len += n;
}

/* Append n bytes of text as the inside of a JSON string. */
static void
msg_text(struct evt_hdr_cache *c, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7F) continue;
    msg_put(c, s + run, i - run);
    run = i + 1;
    char e[6] = {'\\', 0, 0, 0, 0, 0};
    size_t k = 2;
    switch (ch) {
    case '"':
    case '\\':
      e[1] = (char)ch;
      break;
    case '\n':
      e[1] = 'n';
      break;
    case '\r':
      e[1] = 'r';
      break;
    case '\t':
      e[1] = 't';
      break;
    default:
      memcpy(e + 1, "u00", 3);
      e[4] = hex[ch >> 4];
      e[5] = hex[ch & 15];
      k = 6;
    }
    msg_put(c, e, k);
  }
  msg_put(c, s + run, n - run);
}

/* A FormatMessage-style conversion of an integer: flags '-' and '0', a
 * width, then d/i/u (decimal), x/X (hex), o (octal); length prefixes
 * (l, h, I64, ll...) are accepted and ignored. Returns false for any
 * other spec, which leaves the value as formatted. */
static bool
msg_int(struct evt_hdr_cache *c, const char *spec, size_t sl, bool neg,
        uint64_t mag)
{
  bool left = false, zero = false;
  size_t i = 0, width = 0;
  for (; i < sl && (spec[i] == '-' || spec[i] == '0' || spec[i] == '#'); i++) {
    left |= spec[i] == '-';
    zero |= spec[i] == '0';
  }
  for (; i < sl && spec[i] >= '0' && spec[i] <= '9' && width < 64; i++)
    width = width * 10 + (size_t)(spec[i] - '0');
  while (i < sl &&
         (spec[i] == 'l' || spec[i] == 'h' || spec[i] == 'I' ||
          spec[i] == '6' || spec[i] == '4' || spec[i] == '3' || spec[i] == '2'))
    i++;
  if (i + 1 != sl) return false;
  unsigned base;
  const char *digits = "0123456789abcdef";
  switch (spec[i]) {
  case 'd':
  case 'i':
  case 'u':
    base = 10;
    break;
  case 'x':
    base = 16;
    break;
  case 'X':
    base = 16;
    digits = "0123456789ABCDEF";
    break;
  case 'o':
    base = 8;
    break;
  default:
    return false;
  }
  uint64_t v = mag;
  if (neg && base != 10) /* two's complement, 32 bits when it fits */
    v = mag <= 0x80000000u ? (uint32_t)(0u - (uint32_t)mag) : 0 - mag;
  bool sign = neg && base == 10;
  char b[96];
  size_t n = 0;
  do {
    b[sizeof b - 1 - n++] = digits[v % base];
    v /= base;
  } while (v);
  size_t len = n + sign;
  char pad = zero && !left ? '0' : ' ';
  if (sign && pad == '0') msg_put(c, "-", 1);
  for (size_t k = len; !left && k < width; k++)
    msg_put(c, &pad, 1);
  if (sign && pad != '0') msg_put(c, "-", 1);
  msg_put(c, b + sizeof b - n, n);
  for (size_t k = len; left && k < width; k++)
    msg_put(c, " ", 1);
  return true;
}

/* An integer in JSON text v (a number, or a string "0x..."), for a
 * printf-style insert. */
static bool
parse_int(const char *v, size_t n, bool *neg, uint64_t *mag)
{
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
    v++;
    n -= 2;
    if (n < 3 || v[0] != '0' || (v[1] != 'x' && v[1] != 'X')) return false;
    uint64_t x = 0;
    for (size_t i = 2; i < n; i++) {
      char ch = v[i];
      unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                   : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                   : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                            : 16;
      if (d > 15 || x >> 60) return false;
      x = x << 4 | d;
    }
    *neg = false;
    *mag = x;
    return true;
  }
  size_t i = 0;
  *neg = n && v[0] == '-';
  i = *neg;
  if (i == n) return false;
  uint64_t x = 0;
  for (; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return false;
    unsigned d = (unsigned)(v[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *mag = x;
  return true;
}

/* Insert the JSON text v of a field: a string's content as is (already
 * escaped), other values as text; spec (may be empty) is its !fmt!. */
static void
msg_insert(struct evt_hdr_cache *c, const char *v, size_t n, const char *spec,
           size_t sl)
{
  bool neg;
  uint64_t mag;
  if (sl && parse_int(v, n, &neg, &mag) && msg_int(c, spec, sl, neg, mag))
    return;
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
    msg_put(c, v + 1, n - 2);
  else
    msg_text(c, v, n);
}

/*
 * write_message - the "Message" key: s->message with FormatMessage's
 * inserts as TDH consumers use them (etw-schemas.md section 3): %N (and
 * %N!fmt!) is the text of top-level field N, 1-based, as it was written
 * into EventData (spans, offsets into w->buf); %n is a newline, %t a
 * tab, %r a carriage return, %% %. %! and "% " the character itself, %0
 * ends the message. Anything else is kept as written.
 */
static void
write_message(struct evt_writer *wr, const struct evt_schema *s,
              struct jsonw *w, const struct evt_span *spans, size_t nspans)
{
  struct evt_hdr_cache *c = wr->hdr_cache;
  if (!c) return;
  c->msg_len = 0;
  c->msg_oom = false;
  msg_put(c, "\"", 1);
  const char *m = s->message;
  size_t nargs = s->ntop < nspans ? s->ntop : nspans;
  size_t run = 0, i = 0;
  for (; m[i]; i++) {
    if (m[i] != '%') continue;
    msg_text(c, m + run, i - run);
    char nx = m[i + 1];
    size_t used = 2;
    if (nx >= '1' && nx <= '9') {
      size_t num = (size_t)(nx - '0');
      if (m[i + 2] >= '0' && m[i + 2] <= '9') {
        num = num * 10 + (size_t)(m[i + 2] - '0');
        used = 3;
      }
      const char *spec = "";
      size_t sl = 0;
      if (m[i + used] == '!') {
        const char *e = strchr(m + i + used + 1, '!');
        if (e && e - (m + i + used + 1) <= 16) {
          spec = m + i + used + 1;
          sl = (size_t)(e - spec);
          used = (size_t)(e + 1 - (m + i));
        }
      }
      if (num <= nargs) {
        const struct evt_span *sp = &spans[num - 1];
        msg_insert(c, w->buf + sp->start, sp->end - sp->start, spec, sl);
      } else {
        msg_text(c, m + i, used);
      }
    } else if (nx == 'n') {
      msg_put(c, "\\n", 2);
    } else if (nx == 't') {
      msg_put(c, "\\t", 2);
    } else if (nx == 'r') {
      msg_put(c, "\\r", 2);
    } else if (nx == '%' || nx == '.' || nx == '!' || nx == ' ') {
      msg_text(c, &m[i + 1], 1);
    } else if (nx == '0') {
      run = i = strlen(m);
      break;
    } else {
      used = 1; /* a lone '%' */
      msg_text(c, "%", 1);
    }
    i += used - 1;
    run = i + 1;
  }
  msg_text(c, m + run, i - run);
  msg_put(c, "\"", 1);
  if (c->msg_oom) return;
  jw_key(w, "Message");
  jw_raw(w, c->msg, c->msg_len);
}

static void
no_schema_reason(const struct etl_event *ev, char *err, size_t n)
{
  char g[37];
  guid_fmt(ev->provider, g);
  switch (ev->origin) {
  case ETL_ORIGIN_MANIFEST:
    snprintf(err, n, "no schema for provider %s event %u version %u", g, ev->id,
             ev->version);
    break;
  case ETL_ORIGIN_WPP:
    snprintf(err, n,
             "WPP message %u of %s: decoding needs the TMF "
             "data of the provider's private symbols",
             ev->id, g);
    break;
  default:
    snprintf(err, n, "no schema for class %s opcode %u version %u", g,
             ev->opcode, ev->version);
  }
}

static void
decode_error(struct evt_writer *wr, const struct etl_event *ev,
             const char *reason, struct jsonw *w)
{
  wr->decode_errors++;
  jw_key(w, "EventData");
  jw_obj_begin(w);
  jw_obj_end(w);
  jw_key(w, "DecodeError");
  jw_str(w, reason);
  jw_key(w, "RawData");
  jw_bytes_hex(w, ev->data, ev->data_len);
}

void
evt_write_event(struct evt_writer *wr, const struct etl_event *ev,
                struct etl_file *f, struct jsonw *w)
{
  char err[256] = "";
  wr->events++;
  bool schema_record = evt_tei_is_metadata(ev) || is_manifest_chunk(ev);
  if (schema_record && !(f && f->prescanned)) load_schema_record(wr, ev);
  const struct evt_schema *s = find_schema(wr, ev, err, sizeof err);
  if (!s && !ev->tl_meta && f && !f->prescanned && !schema_record &&
      !is_header_record(ev) && ev->origin != ETL_ORIGIN_WPP) {
    /* Merged traces may carry a schema after the events that use it. */
    evt_prescan(wr, f);
    s = find_schema(wr, ev, err, sizeof err);
  }
  jw_obj_begin(w);
  header_keys(wr, ev, s, w);
  if (is_header_record(ev)) {
    struct jw_mark m = jw_mark(w);
    jw_key(w, "EventData");
    if (!write_logfile_header(ev, w)) {
      jw_rollback(w, m);
      decode_error(wr, ev,
                   "trace header record shorter than "
                   "TRACE_LOGFILE_HEADER",
                   w);
    }
  } else if (is_manifest_chunk(ev)) {
    jw_key(w, "EventData");
    write_manifest_chunk(ev, w);
  } else if (schema_record) {
    decode_error(wr, ev,
                 "EventMetadata schema record: compiled into the "
                 "schema registry, not decoded as an event",
                 w);
  } else if (s && wr->messages && s->message) {
    struct jw_mark m = jw_mark(w);
    struct evt_span spans[MSG_MAX_ARGS];
    jw_key(w, "EventData");
    if (evt_decode_payload_spans(wr->reg, s, ev, &wr->opts, w, spans,
                                 MSG_MAX_ARGS, err, sizeof err) != 0) {
      jw_rollback(w, m);
      decode_error(wr, ev, err, w);
    } else {
      write_message(wr, s, w, spans, MSG_MAX_ARGS);
    }
  } else if (s) {
    struct jw_mark m = jw_mark(w);
    jw_key(w, "EventData");
    if (evt_decode_payload(wr->reg, s, ev, &wr->opts, w, err, sizeof err) !=
        0) {
      jw_rollback(w, m);
      decode_error(wr, ev, err, w);
    }
  } else if (ev->flags & ETL_EF_STRING_ONLY) {
    jw_key(w, "EventData");
    jw_obj_begin(w);
    jw_key(w, "String");
    evt_decode_string_only(ev, w);
    jw_obj_end(w);
  } else if (ev->data_len == 0 && ev->origin != ETL_ORIGIN_WPP) {
    jw_key(w, "EventData");
    jw_obj_begin(w);
    jw_obj_end(w);
  } else {
    wr->no_schema++;
    if (!err[0]) no_schema_reason(ev, err, sizeof err);
    decode_error(wr, ev, err, w);
  }
  jw_obj_end(w);
  jw_newline(w);
}
