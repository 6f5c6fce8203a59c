/*
 * etlwriter_main.c - etlwriter: write a synthetic Kernel-Network .etl.
 *
 * Generates a deterministic mix of Microsoft-Windows-Kernel-Network
 * events (TCP and UDP over IPv4 and IPv6: send, receive, connect,
 * accept, disconnect, retransmit, reconnect, failures, TCP copy) from a
 * seeded splitmix64 generator, and lays them out through etl_writer.c:
 * the same options always give the same bytes. Options add the other
 * header kinds (--all-kinds, --wpp), damage for bad-input tests, and
 * --process-rundown: a kernel Process DCStart record per simulated
 * process at the start, as a trace recorded with the kernel logger
 * begins, so that a reader (kqlfilter's getprocessname) can name the
 * pids; it draws nothing from the generator, so the Kernel-Network
 * events stay the same. --describe writes what was produced (counts per
 * event id, per buffer, the rundown, what was damaged) so tests know
 * what a reader must find. The event schema is design/etw-schemas.md
 * section 2 (section 6: Process); the layout is etl-format.md.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "lib/log.h"
#include "tests/tools/etl_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKN 22     /* Kernel-Network events */
#define NPROC 12   /* simulated processes */
#define MAXCONN 48 /* open connections and UDP flows */
#define KW_IPV4 0x8000000000000010ull
#define KW_IPV6 0x8000000000000020ull

/* ---- options --------------------------------------------------------- */

enum opt_id {
  O_ALL_KINDS,
  O_BUFFER_SIZE,
  O_CLOCK,
  O_COMPRESS,
  O_CORRUPT_BUFFER_SIZE,
  O_CORRUPT_LZX,
  O_CORRUPT_RECORD,
  O_CPUS,
  O_DESCRIBE,
  O_EVENTS,
  O_HELP,
  O_PROCESS_RUNDOWN,
  O_PTR32,
  O_SEED,
  O_TRUNCATE,
  O_UNKNOWN_KIND,
  O_WIN7,
  O_WPP
};

enum opt_arg { ARG_NONE, ARG_REQ, ARG_OPT };

struct opt {
  const char *name;
  enum opt_arg arg;
  enum opt_id id;
  const char *help;
};

/* Sorted by name: looked up with bsearch(). */
static const struct opt opts[] = {
    {"all-kinds", ARG_NONE, O_ALL_KINDS,
     "also write SYSTEM, COMPACT, PERFINFO, FULL_HEADER, INSTANCE,\n"
     "    EVENT_HEADER32, TraceLogging and extended-item records"},
    {"buffer-size", ARG_REQ, O_BUFFER_SIZE,
     "B: bytes per buffer (K/M suffix; default 64K)"},
    {"clock", ARG_REQ, O_CLOCK, "qpc|system|cycles (default qpc)"},
    {"compress", ARG_NONE, O_COMPRESS,
     "compress every buffer after the first (MS-XCA LZ77)"},
    {"corrupt-buffer-size", ARG_REQ, O_CORRUPT_BUFFER_SIZE,
     "K[:big|zero|small]: buffer K's BufferSize lies"},
    {"corrupt-lzx", ARG_REQ, O_CORRUPT_LZX,
     "K: buffer K's compressed stream is damaged"},
    {"corrupt-record", ARG_REQ, O_CORRUPT_RECORD,
     "K: the last record of buffer K overruns the buffer"},
    {"cpus", ARG_REQ, O_CPUS, "N: processors, one buffer each (default 4)"},
    {"describe", ARG_OPT, O_DESCRIBE,
     "[=FILE]: write what was produced to FILE (default: the\n"
     "    output name + .txt; '-' = stderr)"},
    {"events", ARG_REQ, O_EVENTS, "N: Kernel-Network events (default 1000)"},
    {"help", ARG_NONE, O_HELP, "print this help and exit"},
    {"process-rundown", ARG_NONE, O_PROCESS_RUNDOWN,
     "start with a kernel Process DCStart record (FULL_HEADER)\n"
     "    per simulated process: pid -> image name"},
    {"ptr32", ARG_NONE, O_PTR32, "a 32-bit trace (PointerSize 4)"},
    {"seed", ARG_REQ, O_SEED, "S: generator seed (default 1)"},
    {"truncate", ARG_REQ, O_TRUNCATE, "BYTES: keep only the first BYTES"},
    {"unknown-kind", ARG_REQ, O_UNKNOWN_KIND,
     "K: the last record of buffer K gets header type 0x1F"},
    {"win7", ARG_NONE, O_WIN7,
     "Win7 layout: u8 CPU + alignment, 4 trailing payload bytes"},
    {"wpp", ARG_NONE, O_WPP, "also write WPP TraceMessage records"},
};

struct config {
  uint64_t events, seed;
  unsigned cpus;
  uint32_t buffer_size;
  unsigned clock;
  bool ptr32, compress, win7, all_kinds, wpp, process_rundown;
  struct etlw_damage damage;
  const char *describe; /* NULL: none */
  const char *out;
  char describe_path[4096];
};

static void
usage(FILE *f)
{
  fputs("usage: etlwriter [options] OUT.etl\n", f);
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    fprintf(f, "  --%-20s %s\n", opts[i].name, opts[i].help);
}

/* ---- the generator ----------------------------------------------------- */

enum tmpl { T_SEND, T_GENERIC, T_CONNACC, T_FAIL };

/* The 22 events of Microsoft-Windows-Kernel-Network (etw-schemas.md 2). */
static const struct kn_event {
  uint16_t id;
  uint8_t task, opcode;
  uint8_t fam; /* 4, 6, or 46 for both */
  uint8_t tmpl;
} kn[NKN] = {
    {10, 10, 10, 4, T_SEND},    {11, 10, 11, 4, T_GENERIC},
    {12, 10, 12, 4, T_CONNACC}, {13, 10, 13, 4, T_GENERIC},
    {14, 10, 14, 4, T_GENERIC}, {15, 10, 15, 4, T_CONNACC},
    {16, 10, 16, 4, T_GENERIC}, {17, 10, 17, 46, T_FAIL},
    {18, 10, 18, 4, T_GENERIC}, {26, 10, 10, 6, T_SEND},
    {27, 10, 11, 6, T_GENERIC}, {28, 10, 12, 6, T_CONNACC},
    {29, 10, 13, 6, T_GENERIC}, {30, 10, 14, 6, T_GENERIC},
    {31, 10, 15, 6, T_CONNACC}, {32, 10, 16, 6, T_GENERIC},
    {34, 10, 18, 6, T_GENERIC}, {42, 11, 42, 4, T_GENERIC},
    {43, 11, 43, 4, T_GENERIC}, {49, 11, 49, 46, T_FAIL},
    {58, 11, 42, 6, T_GENERIC}, {59, 11, 43, 6, T_GENERIC},
};

static const struct etlw_guid kn_provider = {
    0x7dd42a49,
    0x5329,
    0x4832,
    {0x8d, 0xfd, 0x43, 0xd9, 0x79, 0x15, 0x3a, 0x88}};

/* Actions, with their event for IPv4 and IPv6 (indexes into kn[]) and
 * their weight in the mix (they add up to 100). */
static const struct action {
  uint8_t v4, v6, weight;
} actions[] = {
    {2, 11, 5},   /* connect */
    {5, 14, 3},   /* accept */
    {0, 9, 26},   /* send */
    {1, 10, 30},  /* receive */
    {4, 13, 3},   /* retransmit */
    {8, 16, 5},   /* TCP copy */
    {6, 15, 1},   /* reconnect */
    {3, 12, 6},   /* disconnect */
    {7, 7, 1},    /* TCP failure */
    {17, 20, 9},  /* UDP send */
    {18, 21, 10}, /* UDP receive */
    {19, 19, 1},  /* UDP failure */
};

struct proc {
  uint32_t pid;
  uint32_t tid[3];
};

struct conn {
  bool udp, v6;
  uint8_t proc, thr;
  unsigned cpu;
  uint8_t laddr[16], raddr[16];
  uint16_t lport, rport, mss;
  uint32_t connid, seq;
};

/* What one buffer held, for --describe. */
struct bufrec {
  struct etlw_buf_info bi;
  struct etlw_buf_damage dmg[4];
  uint32_t ids[NKN];      /* Kernel-Network events by kn[] index */
  uint32_t kept_ids[NKN]; /* of those, in records inside the file */
  uint32_t kn_events, kept_events;
};

/* The records of one CPU's current buffer, in order: kn[] index or
 * NOT_KN. The writer reports how many of them survive a truncation. */
#define NOT_KN 0xFF
struct order {
  uint8_t *v;
  size_t n, cap;
};

enum extra {
  X_THREAD_SYSTEM,
  X_THREAD_SYSTEM_OTHER,
  X_THREAD_COMPACT,
  X_TCPIP_PERFINFO,
  X_UDPIP_PERFINFO,
  X_PROCESS_FULL,
  X_IMAGE_FULL32,
  X_INSTANCE,
  X_TRACELOGGING,
  X_TRACELOGGING_ACTIVITY,
  X_WPP,
  X_COUNT
};

static const char *const extra_names[X_COUNT] = {
    "thread-dcstart-system",
    "thread-dcstart-system32",
    "thread-end-compact",
    "tcpip-send-perfinfo",
    "udpip-recv6-perfinfo",
    "process-dcstart-full",
    "image-dcstart-full32",
    "instance",
    "tracelogging",
    "tracelogging-related-activity",
    "wpp"};

struct gen {
  const struct config *cf;
  struct etlw *w;
  uint64_t rng;
  uint64_t ticks; /* 100 ns since the start */
  struct proc procs[NPROC];
  struct conn conns[MAXCONN];
  unsigned nconn;
  uint8_t local4[4], local6[16];
  uint8_t remote4[24][4], remote6[12][16], lan4[8][4], lan6[4][16];
  uint64_t kn_count[NKN];
  uint64_t kn_total;
  unsigned unseen;
  uint64_t extra_count[X_COUNT];
  uint64_t rundown_count; /* --process-rundown records */
  unsigned extra_list[X_COUNT], nextra, extra_next;
  struct order *order; /* per CPU: records in the buffer being filled */
  struct bufrec *bufs; /* --describe only */
  size_t nbufs, capbufs;
  bool oom;
};

static uint64_t
rnd(struct gen *g)
{
  uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A number in [0, n). */
static uint32_t
below(struct gen *g, uint32_t n)
{
  return (uint32_t)(((rnd(g) >> 32) * n) >> 32);
}

static void
le16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
le32(uint8_t *p, uint32_t v)
{
  le16(p, (uint16_t)v);
  le16(p + 2, (uint16_t)(v >> 16));
}

static void
le64(uint8_t *p, uint64_t v)
{
  le32(p, (uint32_t)v);
  le32(p + 4, (uint32_t)(v >> 32));
}

/* win:Port: network byte order. */
static void
be16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void on_buffer_done(struct gen *g, const struct etlw_buf_info *bi,
                           const uint8_t *order, size_t n);

static void
on_buffer(void *ctx, const struct etlw_buf_info *bi)
{
  struct gen *g = ctx;
  struct order *o = &g->order[bi->cpu];
  if (bi->index == 0) { /* the logfile header record: in no order */
    on_buffer_done(g, bi, NULL, 0);
    return;
  }
  on_buffer_done(g, bi, o->v, o->n);
  o->n = 0;
}

static void
on_buffer_done(struct gen *g, const struct etlw_buf_info *bi,
               const uint8_t *order, size_t n)
{
  if (!g->cf->describe) return;
  if (g->nbufs == g->capbufs) {
    size_t cap = g->capbufs ? 2 * g->capbufs : 256;
    struct bufrec *b = realloc(g->bufs, cap * sizeof *b);
    if (!b) {
      g->oom = true;
      return;
    }
    g->bufs = b;
    g->capbufs = cap;
  }
  struct bufrec *r = &g->bufs[g->nbufs++];
  r->bi = *bi;
  for (size_t i = 0; i < bi->ndamage && i < 4; i++)
    r->dmg[i] = bi->damage[i];
  r->bi.damage = NULL;
  memset(r->ids, 0, sizeof r->ids);
  memset(r->kept_ids, 0, sizeof r->kept_ids);
  r->kn_events = r->kept_events = 0;
  for (size_t i = 0; i < n; i++) {
    if (order[i] == NOT_KN) continue;
    r->ids[order[i]]++;
    r->kn_events++;
    if (i < bi->kept) {
      r->kept_ids[order[i]]++;
      r->kept_events++;
    }
  }
}

/* Remember that CPU cpu's buffer got one more record. */
static void
note(struct gen *g, unsigned cpu, uint8_t what)
{
  struct order *o = &g->order[cpu];
  if (o->n == o->cap) {
    size_t cap = o->cap ? 2 * o->cap : 1024;
    uint8_t *v = realloc(o->v, cap);
    if (!v) log_die(1, "out of memory");
    o->v = v;
    o->cap = cap;
  }
  o->v[o->n++] = what;
}

static void
check(struct gen *g, int rc)
{
  if (rc != 0) log_die(1, "%s: %s", g->cf->out, etlw_error(g->w));
}

static void
init_world(struct gen *g)
{
  static const uint8_t first4[] = {13,  20,  23,  40,  52,  104,
                                   140, 151, 157, 172, 185, 199};
  static const uint16_t pre6[][2] = {{0x2001, 0x4860},
                                     {0x2606, 0x4700},
                                     {0x2620, 0x01ec},
                                     {0x2a00, 0x1450},
                                     {0x2603, 0x1061}};
  g->procs[0].pid = 4; /* System: SMB, accepted connections */
  for (unsigned i = 0; i < NPROC; i++) {
    if (i) g->procs[i].pid = 4 * (100 + below(g, 4000));
    for (unsigned t = 0; t < 3; t++)
      g->procs[i].tid[t] = 4 * (200 + below(g, 6000));
  }
  g->local4[0] = 10;
  g->local4[1] = (uint8_t)below(g, 256);
  g->local4[2] = (uint8_t)below(g, 256);
  g->local4[3] = (uint8_t)(2 + below(g, 250));
  be16(g->local6, 0x2001);
  be16(g->local6 + 2, 0x0db8);
  for (unsigned i = 4; i < 16; i++)
    g->local6[i] = (uint8_t)below(g, 256);
  for (unsigned i = 0; i < 24; i++) {
    g->remote4[i][0] = first4[below(g, sizeof first4)];
    for (unsigned k = 1; k < 3; k++)
      g->remote4[i][k] = (uint8_t)below(g, 256);
    g->remote4[i][3] = (uint8_t)(1 + below(g, 254));
  }
  for (unsigned i = 0; i < 12; i++) {
    const uint16_t *p = pre6[below(g, 5)];
    be16(g->remote6[i], p[0]);
    be16(g->remote6[i] + 2, p[1]);
    for (unsigned k = 4; k < 16; k++)
      g->remote6[i][k] = k < 12 && below(g, 2) ? 0 : (uint8_t)below(g, 256);
  }
  for (unsigned i = 0; i < 8; i++) {
    memcpy(g->lan4[i], g->local4, 3);
    g->lan4[i][3] = (uint8_t)(2 + below(g, 250));
  }
  for (unsigned i = 0; i < 4; i++) {
    memcpy(g->lan6[i], g->local6, 8);
    for (unsigned k = 8; k < 16; k++)
      g->lan6[i][k] = (uint8_t)below(g, 256);
  }
}

static uint16_t
ephemeral(struct gen *g)
{
  return (uint16_t)(49152 + below(g, 16384));
}

/* A new connection or UDP flow; `inbound` makes it an accepted one. */
static struct conn *
open_conn(struct gen *g, bool udp, bool v6, bool inbound)
{
  static const uint16_t tcp_out[] = {443, 443, 443, 443,  443,  443,
                                     80,  80,  445, 5985, 8080, 22};
  static const uint16_t tcp_in[] = {445, 3389, 5985, 80, 443, 135};
  static const uint16_t udp_out[] = {53,   53,   53,  53,  123,
                                     5353, 1900, 443, 443, 3478};
  if (g->nconn == MAXCONN) /* the oldest ones closed unseen */
    g->conns[below(g, MAXCONN)] = g->conns[--g->nconn];
  struct conn *c = &g->conns[g->nconn++];
  memset(c, 0, sizeof *c);
  c->udp = udp;
  c->v6 = v6;
  c->proc = (uint8_t)(inbound ? (below(g, 2) ? 0 : below(g, NPROC))
                              : 1 + below(g, NPROC - 1));
  c->thr = (uint8_t)below(g, 3);
  c->cpu = below(g, g->cf->cpus);
  size_t alen = v6 ? 16 : 4;
  memcpy(c->laddr, v6 ? g->local6 : g->local4, alen);
  if (inbound) {
    memcpy(c->raddr, v6 ? g->lan6[below(g, 4)] : g->lan4[below(g, 8)], alen);
    c->lport = tcp_in[below(g, sizeof tcp_in / sizeof tcp_in[0])];
    c->rport = ephemeral(g);
  } else {
    memcpy(c->raddr, v6 ? g->remote6[below(g, 12)] : g->remote4[below(g, 24)],
           alen);
    c->lport = ephemeral(g);
    c->rport = udp ? udp_out[below(g, sizeof udp_out / sizeof udp_out[0])]
                   : tcp_out[below(g, sizeof tcp_out / sizeof tcp_out[0])];
  }
  c->mss = v6 ? 1440 : 1460;
  c->connid = 0x0C000000u + 0x10u * below(g, 0x3FFFFF);
  c->seq = (uint32_t)rnd(g);
  return c;
}

static struct conn *
find_conn(struct gen *g, bool udp, bool v6)
{
  unsigned n = 0;
  for (unsigned i = 0; i < g->nconn; i++)
    n += g->conns[i].udp == udp && g->conns[i].v6 == v6;
  if (n == 0) /* opened before the trace started */
    return open_conn(g, udp, v6, false);
  unsigned k = below(g, n);
  for (unsigned i = 0; i < g->nconn; i++)
    if (g->conns[i].udp == udp && g->conns[i].v6 == v6 && k-- == 0)
      return &g->conns[i];
  return NULL; /* not reached */
}

static void
close_conn(struct gen *g, struct conn *c)
{
  *c = g->conns[--g->nconn];
}

static uint32_t
traffic_size(struct gen *g, unsigned big_pct)
{
  if (below(g, 100) < big_pct) return 1460u * (1 + below(g, 44));
  return 40 + below(g, 1460);
}

/* Write Kernel-Network event kn[k] for connection c (NULL for failures). */
static void
emit_kn(struct gen *g, unsigned k, const struct conn *c, uint32_t size,
        bool kernel_ctx)
{
  const struct kn_event *e = &kn[k];
  uint8_t pl[96];
  size_t n = 0;
  const struct proc *p = &g->procs[c ? c->proc : 1 + below(g, NPROC - 1)];
  unsigned cpu = c && below(g, 4) ? c->cpu : below(g, g->cf->cpus);

  if (e->tmpl == T_FAIL) {
    le16(pl, below(g, 2) ? 2 : 23); /* Proto: AF_INET or AF_INET6 */
    static const uint16_t codes[] = {1, 2, 3, 5, 10, 11};
    le16(pl + 2, codes[below(g, 6)]);
    n = 4;
  } else {
    size_t alen = c->v6 ? 16 : 4;
    le32(pl, p->pid);
    le32(pl + 4, size);
    memcpy(pl + 8, c->raddr, alen);
    memcpy(pl + 8 + alen, c->laddr, alen);
    n = 8 + 2 * alen;
    be16(pl + n, c->rport);
    be16(pl + n + 2, c->lport);
    n += 4;
    if (e->tmpl == T_SEND) {
      uint32_t ms = (uint32_t)(259200000u + g->ticks / 10000);
      le32(pl + n, ms);
      le32(pl + n + 4, ms + below(g, 3));
      n += 8;
    } else if (e->tmpl == T_CONNACC) {
      le16(pl + n, c->mss);
      le16(pl + n + 2, 1);                            /* sackopt */
      le16(pl + n + 4, (uint16_t)below(g, 2));        /* tsopt */
      le16(pl + n + 6, 1);                            /* wsopt */
      le32(pl + n + 8, below(g, 2) ? 65535 : 64240);  /* rcvwin */
      le16(pl + n + 12, 8);                           /* rcvwinscale */
      le16(pl + n + 14, (uint16_t)(2 + below(g, 7))); /* sndwinscale */
      n += 16;
    }
    le32(pl + n, c->seq);
    le32(pl + n + 4, c->connid);
    n += 8;
  }
  if (g->cf->win7) { /* the Win7 kernel logs 4 more (zero) bytes */
    le32(pl + n, 0);
    n += 4;
  }

  struct etlw_event ev = {0};
  ev.provider = kn_provider;
  ev.id = e->id;
  ev.channel = 16;
  ev.level = 4;
  ev.opcode = e->opcode;
  ev.task = e->task;
  ev.keyword = e->fam == 4   ? KW_IPV4
               : e->fam == 6 ? KW_IPV6
                             : KW_IPV4 | KW_IPV6;
  uint32_t t100 = (uint32_t)(g->ticks / 156250); /* clock ticks */
  if (kernel_ctx) {
    ev.kernel_time = 0x011F0000u + t100;
  } else {
    unsigned pi = (unsigned)(p - g->procs);
    ev.pid = p->pid;
    ev.tid = p->tid[c ? c->thr : 0];
    ev.kernel_time = 40 + pi * 7 + t100 / 8;
    ev.user_time = 10 + pi * 3 + t100 / 16;
  }
  ev.timestamp = etlw_raw_at(g->w, g->ticks);
  ev.data = pl;
  ev.len = n;
  ev.header32 = g->cf->ptr32;

  /* --all-kinds: some events come from WOW64 processes (EVENT_HEADER32)
   * and some carry a stack trace item. */
  uint8_t stack[8 + 4 * 8];
  struct etlw_ext x;
  uint64_t nth = g->kn_total;
  if (g->cf->all_kinds && !g->cf->ptr32 && nth % 16 == 7) ev.header32 = true;
  if (g->cf->all_kinds && nth % 50 == 13) {
    bool s32 = g->cf->ptr32;
    le64(stack, nth); /* MatchId */
    size_t np = 4, ps = s32 ? 4 : 8;
    for (size_t i = 0; i < np; i++) {
      uint64_t a = (s32 ? 0x80000000ull : 0xFFFFF80000000000ull) +
                   0x1000u * below(g, 0x4000) + below(g, 0x1000);
      if (s32)
        le32(stack + 8 + 4 * i, (uint32_t)a);
      else
        le64(stack + 8 + 8 * i, a);
    }
    x.type = s32 ? 5 : ETLW_EXT_STACK_TRACE64;
    x.len = (uint16_t)(8 + np * ps);
    x.data = stack;
    ev.ext = &x;
    ev.next = 1;
  }
  check(g, etlw_add_event(g->w, cpu, &ev));
  if (g->kn_count[k]++ == 0) g->unseen--;
  g->kn_total++;
  note(g, cpu, (uint8_t)k);
}

static void
advance(struct gen *g)
{
  g->ticks += 1 + below(g, 2000);
  if (below(g, 64) == 0) g->ticks += below(g, 500000);
}

/* One Kernel-Network event: kn[k], or a random one when k < 0. */
static void
kn_step(struct gen *g, int k)
{
  if (k < 0) {
    uint32_t r = below(g, 100);
    size_t a = 0;
    while (r >= actions[a].weight)
      r -= actions[a++].weight;
    bool v6 = below(g, 10) < 3;
    k = v6 ? actions[a].v6 : actions[a].v4;
  }
  const struct kn_event *e = &kn[k];
  bool v6 = e->fam == 6;
  struct conn *c;
  advance(g);
  switch (e->opcode) {
  case 12: /* connect */
  case 15: /* accept */
    c = open_conn(g, false, v6, e->opcode == 15);
    emit_kn(g, (unsigned)k, c, 0, false);
    break;
  case 10: /* send */
    c = find_conn(g, false, v6);
    emit_kn(g, (unsigned)k, c, traffic_size(g, 30), below(g, 4) != 0);
    c->seq += 1460;
    break;
  case 11: /* receive */
    c = find_conn(g, false, v6);
    emit_kn(g, (unsigned)k, c, traffic_size(g, 40), below(g, 4) != 0);
    break;
  case 14: /* retransmit */
    c = find_conn(g, false, v6);
    emit_kn(g, (unsigned)k, c, below(g, 2) ? 1460 : 536 + below(g, 924), true);
    break;
  case 18: /* TCP copy */
    c = find_conn(g, false, v6);
    emit_kn(g, (unsigned)k, c, 1 + below(g, 65535), false);
    break;
  case 16: /* reconnect */
    c = find_conn(g, false, v6);
    emit_kn(g, (unsigned)k, c, 0, false);
    break;
  case 13: /* disconnect */
    c = find_conn(g, false, v6);
    emit_kn(g, (unsigned)k, c, 0, false);
    close_conn(g, c);
    break;
  case 17: /* TCP failure */
  case 49: /* UDP failure */
    emit_kn(g, (unsigned)k, NULL, 0, false);
    break;
  default: /* 42 / 43: UDP send / receive */
    c = find_conn(g, true, v6);
    emit_kn(g, (unsigned)k, c,
            c->rport == 53 ? 30 + below(g, 60) : 40 + below(g, 1400),
            e->opcode == 43 && below(g, 4) != 0);
    if (below(g, 6) == 0) close_conn(g, c);
    break;
  }
}

/* ---- the other header kinds (--all-kinds, --wpp) ------------------------ */

static size_t
put_ptr(uint8_t *p, uint64_t v, bool p32)
{
  if (p32) {
    le32(p, (uint32_t)v);
    return 4;
  }
  le64(p, v);
  return 8;
}

static uint64_t
kaddr(struct gen *g, bool p32)
{
  return (p32 ? 0x80000000ull : 0xFFFFF80000000000ull) +
         0x1000u * (uint64_t)below(g, 0x40000);
}

static size_t
put_wstr(uint8_t *p, const char *s)
{
  size_t n = 0;
  for (; s[n]; n++)
    le16(p + 2 * n, (uint8_t)s[n]);
  le16(p + 2 * n, 0);
  return 2 * (n + 1);
}

/* Thread V3 (DCStart or End): etw-schemas.md section 6. */
static size_t
thread_v3(struct gen *g, uint8_t *p, bool p32, const struct proc *pr,
          unsigned t)
{
  size_t n = 0;
  le32(p, pr->pid);
  le32(p + 4, pr->tid[t]);
  n = 8;
  uint64_t stack = kaddr(g, p32);
  n += put_ptr(p + n, stack, p32);          /* StackBase */
  n += put_ptr(p + n, stack - 0x6000, p32); /* StackLimit */
  uint64_t user = p32 ? 0x00300000ull : 0x000000E5A8F00000ull;
  uint64_t start = p32 ? 0x77A01230ull : 0x7FF812340000ull;
  n += put_ptr(p + n, user, p32);             /* UserStackBase */
  n += put_ptr(p + n, user - 0x10000, p32);   /* UserStackLimit */
  n += put_ptr(p + n, 0xF, p32);              /* Affinity */
  n += put_ptr(p + n, start + 0x10 * t, p32); /* Win32Start */
  n += put_ptr(p + n, 0x7FFDF000ull, p32);    /* TebBase */
  le32(p + n, 0);                             /* SubProcessTag */
  p[n + 4] = 8;                               /* BasePriority */
  p[n + 5] = 5;                               /* PagePriority */
  p[n + 6] = 2;                               /* IoPriority */
  p[n + 7] = 0;                               /* ThreadFlags */
  return n + 8;
}

/* ---- the processes (--process-rundown) ---------------------------------- */

/* The kernel's Process event class (MSNT_SystemTrace). */
static const struct etlw_guid process_class = {
    0x3d6fa8d0,
    0xfe05,
    0x11d0,
    {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}};

/* Who each slot of g->procs is, slot 0 being System (pid 4). Image
 * names are as the kernel logs them: at most 15 characters
 * (EPROCESS.ImageFileName). */
enum sid_id { SID_SYSTEM, SID_NETWORK_SERVICE, SID_USER };
#define PARENT_NONE (-2)     /* ParentId 0 */
#define PARENT_LAUNCHER (-1) /* services.exe (session 0), explorer.exe */
static const struct proc_ident {
  const char *image, *cmdline;
  uint8_t session, sid;
  int8_t parent; /* a slot, PARENT_NONE or PARENT_LAUNCHER */
} idents[NPROC] = {
    {"System", "", 0, SID_SYSTEM, PARENT_NONE},
    {"chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\"", 1,
     SID_USER, PARENT_LAUNCHER},
    {"msedge.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\""
     " --no-startup-window",
     1, SID_USER, PARENT_LAUNCHER},
    {"svchost.exe",
     "C:\\Windows\\system32\\svchost.exe -k NetworkService -p -s Dnscache", 0,
     SID_NETWORK_SERVICE, PARENT_LAUNCHER},
    {"OneDrive.exe",
     "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background", 1,
     SID_USER, PARENT_LAUNCHER},
    {"Teams.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\Teams\\current\\Teams.exe\"", 1,
     SID_USER, PARENT_LAUNCHER},
    {"OUTLOOK.EXE",
     "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\"", 1,
     SID_USER, PARENT_LAUNCHER},
    {"Code.exe", "\"C:\\Program Files\\Microsoft VS Code\\Code.exe\"", 1,
     SID_USER, PARENT_LAUNCHER},
    {"powershell.exe",
     "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", 1,
     SID_USER, 7 /* Code.exe's terminal */},
    {"svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s BITS",
     0, SID_SYSTEM, PARENT_LAUNCHER},
    {"firefox.exe", "\"C:\\Program Files\\Mozilla Firefox\\firefox.exe\"", 1,
     SID_USER, PARENT_LAUNCHER},
    {"ssh.exe", "\"C:\\Windows\\System32\\OpenSSH\\ssh.exe\" admin@build01", 1,
     SID_USER, 8 /* from powershell.exe */},
};

/* A value fixed by a pid alone: --process-rundown draws nothing from
 * the generator, so the Kernel-Network events stay the same. */
static uint64_t
pid_mix(uint32_t pid, uint32_t salt)
{
  uint64_t z = ((uint64_t)salt << 32 | pid) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The first multiple of 4 from `from` that no simulated process has:
 * the pid of a parent outside the table (services.exe, explorer.exe). */
static uint32_t
outside_pid(const struct gen *g, uint32_t from)
{
  for (uint32_t pid = from;; pid += 4) {
    unsigned i = 0;
    while (i < NPROC && g->procs[i].pid != pid)
      i++;
    if (i == NPROC) return pid;
  }
}

static uint32_t
parent_pid(const struct gen *g, unsigned slot)
{
  const struct proc_ident *id = &idents[slot];
  if (id->parent == PARENT_NONE) return 0;
  if (id->parent >= 0) return g->procs[id->parent].pid;
  uint32_t services = outside_pid(g, 868);
  if (id->session == 0) return services;
  uint32_t explorer = outside_pid(g, 6392);
  return explorer != services ? explorer : outside_pid(g, explorer + 4);
}

/* Process V4 (TypeGroup1) payload for slot `slot`: etw-schemas.md
 * section 6, MSNT_SystemTrace-Process.man. */
static size_t
process_v4(const struct gen *g, uint8_t *p, unsigned slot, bool p32)
{
  const struct proc_ident *id = &idents[slot];
  uint32_t pid = g->procs[slot].pid;
  uint64_t h = pid_mix(pid, 1);
  uint64_t key = p32 ? 0x84000000ull + ((h >> 20) & 0xFFFFF) * 0x40
                     : 0xFFFF800000000000ull + ((h >> 20) & 0x7FFFFFFF) * 0x40;
  size_t n = put_ptr(p, key, p32); /* UniqueProcessKey */
  le32(p + n, pid);
  le32(p + n + 4, parent_pid(g, slot));
  le32(p + n + 8, id->session);
  le32(p + n + 12, 0x103); /* ExitStatus: STATUS_PENDING, running */
  n += 16;
  n += put_ptr(p + n, 0x1AA000ull + 0x1000u * (h % 4096), p32); /* DTB */
  le32(p + n, 0);                                               /* Flags */
  n += 4;
  /* UserSID: TOKEN_USER (two pointers) + the SID */
  n += put_ptr(p + n, key + 0x5A0, p32);
  n += put_ptr(p + n, 0, p32);
  static const uint8_t nt_authority[8] = {1, 1, 0, 0, 0, 0, 0, 5};
  memcpy(p + n, nt_authority, 8);
  if (id->sid == SID_USER) { /* S-1-5-21-...-1001 */
    p[n + 1] = 5;
    le32(p + n + 8, 21);
    le32(p + n + 12, 1004336348u);
    le32(p + n + 16, 1177238915u);
    le32(p + n + 20, 682003330u);
    le32(p + n + 24, 1001);
    n += 28;
  } else { /* S-1-5-18 LocalSystem, S-1-5-20 NetworkService */
    le32(p + n + 8, id->sid == SID_SYSTEM ? 18 : 20);
    n += 12;
  }
  size_t len = strlen(id->image) + 1;
  memcpy(p + n, id->image, len);
  n += len;
  n += put_wstr(p + n, id->cmdline);
  n += put_wstr(p + n, ""); /* PackageFullName */
  n += put_wstr(p + n, ""); /* ApplicationId */
  return n;
}

/* --process-rundown: one Process DCStart per simulated process (a pid
 * drawn twice is one process), on CPU 0 at the start of the trace, as
 * the kernel logger's rundown begins a trace. */
static void
process_rundown(struct gen *g)
{
  bool p32 = g->cf->ptr32;
  uint8_t pl[512];
  for (unsigned i = 0; i < NPROC; i++) {
    const struct proc *pr = &g->procs[i];
    unsigned j = 0;
    while (g->procs[j].pid != pr->pid)
      j++;
    if (j < i) continue;
    struct etlw_classic c = {0};
    c.kind = p32 ? ETLW_FULL32 : ETLW_FULL64;
    c.guid = process_class;
    c.type = 3; /* DCStart */
    c.version = 4;
    c.pid = pr->pid;
    c.tid = pr->tid[0];
    c.timestamp = etlw_raw_at(g->w, 0);
    c.data = pl;
    c.len = process_v4(g, pl, i, p32);
    check(g, etlw_add_classic(g->w, 0, &c));
    note(g, 0, NOT_KN);
    g->rundown_count++;
  }
}

static void
emit_extra(struct gen *g, unsigned x)
{
  const struct config *cf = g->cf;
  bool p32 = cf->ptr32;
  unsigned cpu = below(g, cf->cpus);
  const struct proc *pr = &g->procs[1 + below(g, NPROC - 1)];
  unsigned t = below(g, 3);
  uint8_t pl[512];
  size_t n = 0;
  struct etlw_classic c = {0};
  c.pid = pr->pid;
  c.tid = pr->tid[t];
  c.kernel_time = 12;
  c.user_time = 3;
  advance(g);
  c.timestamp = etlw_raw_at(g->w, g->ticks);
  c.data = pl;

  switch (x) {
  case X_THREAD_SYSTEM:
  case X_THREAD_SYSTEM_OTHER: {
    bool s32 = x == X_THREAD_SYSTEM ? p32 : true;
    c.kind = s32 ? ETLW_SYSTEM32 : ETLW_SYSTEM64;
    c.version = 3;
    c.hook_id = 0x0503; /* Thread DCStart */
    c.len = thread_v3(g, pl, s32, pr, t);
    break;
  }
  case X_THREAD_COMPACT:
    c.kind = p32 ? ETLW_COMPACT32 : ETLW_COMPACT64;
    c.version = 3;
    c.hook_id = 0x0502; /* Thread End */
    c.len = thread_v3(g, pl, p32, pr, t);
    break;
  case X_TCPIP_PERFINFO:
  case X_UDPIP_PERFINFO: {
    bool tcp = x == X_TCPIP_PERFINFO;
    struct conn *cn = find_conn(g, !tcp, !tcp);
    size_t alen = tcp ? 4 : 16;
    c.kind = p32 ? ETLW_PERFINFO32 : ETLW_PERFINFO64;
    c.version = 2;
    c.hook_id = tcp ? 0x060A : 0x081B; /* TcpIp Send v4, UdpIp Recv v6 */
    le32(pl, g->procs[cn->proc].pid);
    le32(pl + 4, 40 + below(g, 1400));
    memcpy(pl + 8, cn->raddr, alen);
    memcpy(pl + 8 + alen, cn->laddr, alen);
    n = 8 + 2 * alen;
    be16(pl + n, cn->rport);
    be16(pl + n + 2, cn->lport);
    n += 4;
    if (tcp) {
      uint32_t ms = (uint32_t)(259200000u + g->ticks / 10000);
      le32(pl + n, ms);
      le32(pl + n + 4, ms + 1);
      n += 8;
    }
    le32(pl + n, cn->seq);
    n += 4;
    n += put_ptr(pl + n, kaddr(g, p32), p32); /* connid */
    c.len = n;
    break;
  }
  case X_PROCESS_FULL: {
    c.kind = p32 ? ETLW_FULL32 : ETLW_FULL64;
    c.guid = process_class;
    c.type = 3; /* DCStart */
    c.version = 4;
    uint64_t key = kaddr(g, p32);
    uint32_t ppid = 4 * (100 + below(g, 200));
    uint64_t dtb = 0x1AB000ull + 0x1000u * below(g, 4096);
    uint64_t tok = kaddr(g, p32);
    if (cf->process_rundown) { /* the rundown's: names stay consistent */
      c.len = process_v4(g, pl, (unsigned)(pr - g->procs), p32);
      break;
    }
    n = put_ptr(pl, key, p32); /* UniqueProcessKey */
    le32(pl + n, pr->pid);
    le32(pl + n + 4, ppid);   /* ParentId */
    le32(pl + n + 8, 1);      /* SessionId */
    le32(pl + n + 12, 0x103); /* ExitStatus: pending */
    n += 16;
    n += put_ptr(pl + n, dtb, p32);
    le32(pl + n, 0); /* Flags */
    n += 4;
    /* UserSID: TOKEN_USER (two pointers) + S-1-5-18 */
    n += put_ptr(pl + n, tok, p32);
    n += put_ptr(pl + n, 0, p32);
    static const uint8_t sid[12] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
    memcpy(pl + n, sid, sizeof sid);
    n += sizeof sid;
    memcpy(pl + n, "svchost.exe", 12);
    n += 12;
    n += put_wstr(pl + n, "C:\\Windows\\system32\\svchost.exe -k netsvcs");
    n += put_wstr(pl + n, "");
    n += put_wstr(pl + n, "");
    c.len = n;
    break;
  }
  case X_IMAGE_FULL32: {
    static const struct etlw_guid image = {
        0x2cb15d1d,
        0x5fc1,
        0x11d2,
        {0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18}};
    c.kind = ETLW_FULL32;
    c.guid = image;
    c.type = 3; /* DCStart, V0 layout */
    c.version = 0;
    le32(pl, 0x75A00000u + 0x10000u * below(g, 64)); /* BaseAddress */
    le32(pl + 4, 0x4D000);                           /* ModuleSize */
    n = 8 + put_wstr(pl + 8, "C:\\Windows\\SysWOW64\\ws2_32.dll");
    c.len = n;
    break;
  }
  case X_INSTANCE: {
    static const struct etlw_guid cls = {
        0x5b0c9a7e,
        0x3f1d,
        0x4e2a,
        {0x9c, 0x41, 0x6d, 0x2e, 0x8b, 0x17, 0xa0, 0x53}};
    c.kind = p32 ? ETLW_INSTANCE32 : ETLW_INSTANCE64;
    c.guid = cls;
    c.parent_guid = cls;
    c.type = 1;
    c.level = 4;
    c.instance_id = 1 + below(g, 1000);
    c.parent_instance_id = 0;
    memcpy(pl, "instance payload", 16);
    c.len = 16;
    break;
  }
  case X_TRACELOGGING:
  case X_TRACELOGGING_ACTIVITY: {
    /* Provider "EtlWriter-Test"; its GUID is the one the name hashes to
     * (etw-schemas.md section 5). */
    static const struct etlw_guid tl = {
        0xd77c55f0,
        0xd9b5,
        0x51cc,
        {0xbd, 0x18, 0x4c, 0x6c, 0x7f, 0xa5, 0x36, 0x34}};
    /* u16 size (17, the name's NUL included: the literal's own). */
    static const uint8_t traits[] = "\x11\x00"
                                    "EtlWriter-Test";
    static const uint8_t meta[] = "\x00\x00" /* size, set below */
                                  "\x00"     /* no tags */
                                  "ConnectionSummary\0"
                                  "Pid\0\x88\x05"    /* UINT32, out PID */
                                  "Bytes\0\x0a"      /* UINT64 */
                                  "Remote\0\x82\x23" /* ANSISTRING, out UTF8 */
                                  "Port\0\x86\x07"   /* UINT16, out PORT */
                                  "Ok\0\x0d"         /* BOOL32 */
                                  "Ratio\0\x0c"      /* DOUBLE */
                                  "Samples\0\x46"    /* UINT16, vcount */
                                  "Note\0\x01";      /* UNICODESTRING */
    uint8_t m[sizeof meta - 1];
    memcpy(m, meta, sizeof m);
    le16(m, (uint16_t)sizeof m);
    struct conn *cn = find_conn(g, false, false);
    le32(pl, g->procs[cn->proc].pid);
    le64(pl + 4, 1000 + rnd(g) % 5000000);
    n = 12;
    n += (size_t)snprintf((char *)pl + n, 32, "%u.%u.%u.%u",
                          (unsigned)cn->raddr[0], (unsigned)cn->raddr[1],
                          (unsigned)cn->raddr[2], (unsigned)cn->raddr[3]) +
         1;
    be16(pl + n, cn->rport);
    le32(pl + n + 2, below(g, 8) != 0);
    double ratio = below(g, 1000) / 1000.0;
    uint64_t bits;
    memcpy(&bits, &ratio, 8); /* IEEE 754 binary64 */
    le64(pl + n + 6, bits);
    n += 14;
    le16(pl + n, 3);
    for (unsigned i = 0; i < 3; i++)
      le16(pl + n + 2 + 2 * i, (uint16_t)below(g, 1000));
    n += 8;
    n += put_wstr(pl + n, "summary");
    struct etlw_ext ext[3];
    size_t ne = 0;
    uint8_t rel[16];
    struct etlw_event ev = {0};
    ev.header32 = p32;
    ev.provider = tl;
    ev.channel = 11;
    ev.level = 5;
    ev.keyword = 0x0000400000000000ull;
    ev.pid = c.pid;
    ev.tid = c.tid;
    ev.timestamp = c.timestamp;
    if (x == X_TRACELOGGING_ACTIVITY) {
      ev.opcode = 1; /* Start */
      ev.activity.d1 = (uint32_t)rnd(g);
      ev.activity.d2 = 0x1234;
      ev.activity.d3 = 0x4abc;
      for (unsigned i = 0; i < 8; i++)
        ev.activity.d4[i] = (uint8_t)below(g, 256);
      for (unsigned i = 0; i < 16; i++)
        rel[i] = (uint8_t)below(g, 256);
      ext[ne++] = (struct etlw_ext){ETLW_EXT_RELATED_ACTIVITYID, 16, rel};
    }
    ext[ne++] = (struct etlw_ext){ETLW_EXT_PROV_TRAITS, sizeof traits, traits};
    ext[ne++] = (struct etlw_ext){ETLW_EXT_EVENT_SCHEMA_TL, sizeof m, m};
    ev.ext = ext;
    ev.next = ne;
    ev.data = pl;
    ev.len = n;
    check(g, etlw_add_event(g->w, cpu, &ev));
    note(g, cpu, NOT_KN);
    g->extra_count[x]++;
    return;
  }
  case X_WPP: {
    static const struct etlw_guid msg = {
        0x8e2f4c61,
        0x0b7d,
        0x4a93,
        {0xb5, 0x2c, 0x1e, 0x9f, 0x40, 0x6a, 0xd3, 0x77}};
    struct etlw_wpp m = {0};
    m.message_number = 10;
    m.option_flags = ETLW_WPP_SEQUENCE | ETLW_WPP_GUID | ETLW_WPP_TIMESTAMP |
                     ETLW_WPP_SYSTEMINFO;
    m.sequence = (uint32_t)g->extra_count[x] + 1;
    m.guid = msg;
    m.pid = c.pid;
    m.tid = c.tid;
    m.timestamp = c.timestamp;
    le32(pl, below(g, 100000));
    memcpy(pl + 4, "wpp-arg", 8);
    m.data = pl;
    m.len = 12;
    check(g, etlw_add_wpp(g->w, cpu, &m));
    note(g, cpu, NOT_KN);
    g->extra_count[x]++;
    return;
  }
  default:
    return;
  }
  check(g, etlw_add_classic(g->w, cpu, &c));
  note(g, cpu, NOT_KN);
  g->extra_count[x]++;
}

/* ---- --describe ---------------------------------------------------------- */

/*
 * describe - the --describe report: one "key values..." line each.
 *
 *   etlwriter-describe 1            format version
 *   option NAME VALUE               the options used
 *   bytes N / bytes_full N          file size after / before --truncate
 *   buffers N                       buffers written (header included)
 *   records N                       all records, the header record too
 *   events N                        Kernel-Network events
 *   kind NAME N                     records per header kind
 *   event ID N                      Kernel-Network events per id (all 22)
 *   extra NAME N                    --all-kinds / --wpp records
 *   rundown process-dcstart N       --process-rundown records (kernel
 *                                   Process DCStart, FULL_HEADER)
 *   buffer I offset 0xO size 0xS filled 0xF cpu C seq Q flags 0xB
 *     records R events E            every buffer, in file order
 *   damage WHAT buffer I offset 0xO [record 0xR kind K event ID]
 *     [old 0xV new 0xV]             WHAT: buffer-size, record,
 *                                   unknown-kind, lzx (absolute offsets)
 *   truncate 0xN buffer I into 0xM kept K events E
 *                                   the buffer the cut falls in, and its
 *                                   records wholly before the cut
 *   buffer-events I ID:N ...        events per id of a damaged or cut
 *                                   buffer
 *   intact records N events M       what a reader can still decode: all
 *                                   records except those of buffers past
 *                                   the cut, with a lying BufferSize or a
 *                                   broken stream, records after the cut
 *                                   and damaged records
 *   intact-event ID N               the same per event id
 */
static void
describe(struct gen *g, const struct etlw_stats *st)
{
  const struct config *cf = g->cf;
  FILE *f = stderr;
  if (strcmp(cf->describe, "-") != 0) {
    f = fopen(cf->describe, "w");
    if (!f) log_die(1, "%s: %s", cf->describe, strerror(errno));
  }
  static const char *const clocks[] = {"", "qpc", "system", "cycles"};
  fprintf(f, "etlwriter-describe 1\n");
  fprintf(f, "option events %llu\noption seed %llu\noption cpus %u\n",
          (unsigned long long)cf->events, (unsigned long long)cf->seed,
          cf->cpus);
  fprintf(f, "option buffer_size %u\noption pointer_size %u\n",
          (unsigned)cf->buffer_size, cf->ptr32 ? 4u : 8u);
  fprintf(f, "option clock %s\noption compress %d\noption win7 %d\n",
          clocks[cf->clock], cf->compress, cf->win7);
  fprintf(f, "option all_kinds %d\noption wpp %d\n", cf->all_kinds, cf->wpp);
  fprintf(f, "option process_rundown %d\n", cf->process_rundown);
  fprintf(f, "bytes %llu\nbytes_full %llu\nbuffers %u\n",
          (unsigned long long)st->bytes_written, (unsigned long long)st->bytes,
          (unsigned)st->buffers);
  fprintf(f, "records %llu\nevents %llu\n", (unsigned long long)st->records,
          (unsigned long long)g->kn_total);
  for (int k = 0; k < ETLW_NKINDS; k++)
    if (st->kinds[k])
      fprintf(f, "kind %s %llu\n", etlw_kind_name(k),
              (unsigned long long)st->kinds[k]);
  for (unsigned k = 0; k < NKN; k++)
    fprintf(f, "event %u %llu\n", (unsigned)kn[k].id,
            (unsigned long long)g->kn_count[k]);
  for (unsigned x = 0; x < X_COUNT; x++)
    if (g->extra_count[x])
      fprintf(f, "extra %s %llu\n", extra_names[x],
              (unsigned long long)g->extra_count[x]);
  if (g->rundown_count)
    fprintf(f, "rundown process-dcstart %llu\n",
            (unsigned long long)g->rundown_count);

  uint64_t ok_records = 0, ok_events = 0, ok_ids[NKN] = {0};
  for (size_t i = 0; i < g->nbufs; i++) {
    const struct bufrec *b = &g->bufs[i];
    fprintf(f,
            "buffer %u offset 0x%llx size 0x%x filled 0x%x cpu %u seq %llu "
            "flags 0x%x records %u events %u\n",
            (unsigned)b->bi.index, (unsigned long long)b->bi.offset,
            (unsigned)b->bi.size, (unsigned)b->bi.filled, b->bi.cpu,
            (unsigned long long)b->bi.sequence, (unsigned)b->bi.flags,
            (unsigned)b->bi.records, (unsigned)b->kn_events);
    bool lost = false; /* the whole buffer */
    int lost_id = -2;  /* a damaged record: its event id, -1 if not KN */
    for (size_t d = 0; d < b->bi.ndamage; d++) {
      const struct etlw_buf_damage *m = &b->dmg[d];
      fprintf(f, "damage %s buffer %u offset 0x%llx", m->what,
              (unsigned)b->bi.index, (unsigned long long)b->bi.offset);
      if (!strcmp(m->what, "record") || !strcmp(m->what, "unknown-kind")) {
        fprintf(f, " record 0x%llx kind %s event %d",
                (unsigned long long)(b->bi.offset + m->rec_off),
                etlw_kind_name(m->rec_kind), m->event_id);
        lost_id = m->event_id;
      } else {
        lost = true;
      }
      if (strcmp(m->what, "lzx") != 0)
        fprintf(f, " old 0x%x new 0x%x", (unsigned)m->old_value,
                (unsigned)m->new_value);
      fputc('\n', f);
    }
    uint64_t end = b->bi.offset + b->bi.size;
    bool cut = b->bi.offset < st->bytes_written && end > st->bytes_written;
    if (cut)
      fprintf(f, "truncate 0x%llx buffer %u into 0x%llx kept %u events %u\n",
              (unsigned long long)st->bytes_written, (unsigned)b->bi.index,
              (unsigned long long)(st->bytes_written - b->bi.offset),
              (unsigned)b->bi.kept, (unsigned)b->kept_events);
    if (b->bi.ndamage || cut) {
      fprintf(f, "buffer-events %u", (unsigned)b->bi.index);
      for (unsigned k = 0; k < NKN; k++)
        if (b->ids[k])
          fprintf(f, " %u:%u", (unsigned)kn[k].id, (unsigned)b->ids[k]);
      fputc('\n', f);
    }
    if (lost || b->bi.offset >= st->bytes_written) continue;
    /* Damaged records are always a buffer's last, so a cut keeps them
     * only when it keeps the whole buffer. */
    bool all = b->bi.kept == b->bi.records;
    ok_records += b->bi.kept - (all && lost_id != -2);
    ok_events += b->kept_events;
    for (unsigned k = 0; k < NKN; k++) {
      ok_ids[k] += b->kept_ids[k];
      if (all && lost_id == kn[k].id) {
        ok_ids[k]--;
        ok_events--;
      }
    }
  }
  fprintf(f, "intact records %llu events %llu\n",
          (unsigned long long)ok_records, (unsigned long long)ok_events);
  for (unsigned k = 0; k < NKN; k++)
    fprintf(f, "intact-event %u %llu\n", (unsigned)kn[k].id,
            (unsigned long long)ok_ids[k]);
  if (f != stderr && fclose(f) != 0)
    log_die(1, "%s: write error", cf->describe);
}

/* ---- option parsing ----------------------------------------------------- */

static int
opt_cmp(const void *key, const void *elem)
{
  return strcmp(key, ((const struct opt *)elem)->name);
}

/* An unsigned number with an optional K, M or G suffix (powers of 2). */
static uint64_t
parse_num(const char *name, const char *s, uint64_t min, uint64_t max)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (end == s || *s == '-' || errno)
    log_die(2, "--%s: not a number: %s", name, s);
  unsigned shift = 0;
  if (*end == 'k' || *end == 'K')
    shift = 10;
  else if (*end == 'm' || *end == 'M')
    shift = 20;
  else if (*end == 'g' || *end == 'G')
    shift = 30;
  if (shift) end++;
  if (*end) log_die(2, "--%s: not a number: %s", name, s);
  if (shift && v > (UINT64_MAX >> shift))
    log_die(2, "--%s: too large: %s", name, s);
  v <<= shift;
  if (v < min || v > max)
    log_die(2, "--%s: %s is out of range (%llu..%llu)", name, s,
            (unsigned long long)min, (unsigned long long)max);
  return v;
}

static void
parse_args(int argc, char **argv, struct config *cf)
{
  memset(cf, 0, sizeof *cf);
  cf->events = 1000;
  cf->seed = 1;
  cf->cpus = 4;
  cf->buffer_size = 65536;
  cf->clock = ETLW_CLOCK_QPC;
  cf->damage = (struct etlw_damage){-1, -1, ETLW_LIE_BIG, -1, -1, -1};
  bool describe = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] != '-' || !a[2]) {
      if (cf->out || (a[0] == '-' && a[1]))
        log_die(2, "unexpected argument: %s (see --help)", a);
      cf->out = a;
      continue;
    }
    char name[32];
    const char *eq = strchr(a + 2, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (len >= sizeof name) log_die(2, "unknown option: %s (see --help)", a);
    memcpy(name, a + 2, len);
    name[len] = 0;
    const struct opt *o = bsearch(name, opts, sizeof opts / sizeof opts[0],
                                  sizeof opts[0], opt_cmp);
    if (!o) log_die(2, "unknown option: %s (see --help)", a);
    const char *v = eq ? eq + 1 : NULL;
    if (o->arg == ARG_NONE && v) log_die(2, "--%s takes no value", name);
    if (o->arg == ARG_REQ && !v) {
      if (i + 1 >= argc) log_die(2, "--%s needs a value", name);
      v = argv[++i];
    }
    switch (o->id) {
    case O_ALL_KINDS:
      cf->all_kinds = true;
      break;
    case O_BUFFER_SIZE:
      cf->buffer_size =
          (uint32_t)parse_num(name, v, ETLW_MIN_BUFFER, ETLW_MAX_BUFFER);
      if (cf->buffer_size % 8)
        log_die(2, "--buffer-size must be a multiple of 8");
      break;
    case O_CLOCK:
      if (!strcmp(v, "qpc"))
        cf->clock = ETLW_CLOCK_QPC;
      else if (!strcmp(v, "system"))
        cf->clock = ETLW_CLOCK_SYSTEM;
      else if (!strcmp(v, "cycles"))
        cf->clock = ETLW_CLOCK_CYCLES;
      else
        log_die(2, "--clock: qpc, system or cycles, not %s", v);
      break;
    case O_COMPRESS:
      cf->compress = true;
      break;
    case O_CORRUPT_BUFFER_SIZE: {
      char num[32];
      const char *colon = strchr(v, ':');
      size_t nl = colon ? (size_t)(colon - v) : strlen(v);
      if (nl >= sizeof num) log_die(2, "--%s: bad value %s", name, v);
      memcpy(num, v, nl);
      num[nl] = 0;
      cf->damage.bad_size_buf = (int64_t)parse_num(name, num, 0, 1u << 30);
      if (!colon || !strcmp(colon + 1, "big"))
        cf->damage.lie = ETLW_LIE_BIG;
      else if (!strcmp(colon + 1, "zero"))
        cf->damage.lie = ETLW_LIE_ZERO;
      else if (!strcmp(colon + 1, "small"))
        cf->damage.lie = ETLW_LIE_SMALL;
      else
        log_die(2, "--%s: big, zero or small, not %s", name, colon + 1);
      break;
    }
    case O_CORRUPT_LZX:
      cf->damage.bad_lzx_buf = (int64_t)parse_num(name, v, 1, 1u << 30);
      break;
    case O_CORRUPT_RECORD:
      cf->damage.bad_record_buf = (int64_t)parse_num(name, v, 0, 1u << 30);
      break;
    case O_CPUS:
      cf->cpus = (unsigned)parse_num(name, v, 1, ETLW_MAX_CPUS);
      break;
    case O_DESCRIBE:
      describe = true;
      cf->describe = v;
      break;
    case O_EVENTS:
      cf->events = parse_num(name, v, 0, 1ull << 40);
      break;
    case O_HELP:
      usage(stdout);
      exit(0);
    case O_PROCESS_RUNDOWN:
      cf->process_rundown = true;
      break;
    case O_PTR32:
      cf->ptr32 = true;
      break;
    case O_SEED:
      cf->seed = parse_num(name, v, 0, UINT64_MAX);
      break;
    case O_TRUNCATE:
      cf->damage.truncate = (int64_t)parse_num(name, v, 0, INT64_MAX);
      break;
    case O_UNKNOWN_KIND:
      cf->damage.unknown_buf = (int64_t)parse_num(name, v, 0, 1u << 30);
      break;
    case O_WIN7:
      cf->win7 = true;
      break;
    case O_WPP:
      cf->wpp = true;
      break;
    }
  }
  if (!cf->out) log_die(2, "no output file given (see --help)");
  if (cf->damage.bad_lzx_buf >= 0 && !cf->compress)
    log_die(2, "--corrupt-lzx needs --compress");
  if (describe && !cf->describe) {
    snprintf(cf->describe_path, sizeof cf->describe_path, "%s.txt", cf->out);
    cf->describe = cf->describe_path;
  }
}

/* ---- main --------------------------------------------------------------- */

static void
run(const struct config *cf, FILE *out)
{
  struct gen *g = calloc(1, sizeof *g);
  if (!g) log_die(1, "out of memory");
  g->cf = cf;
  g->rng = cf->seed;
  g->unseen = NKN;
  g->order = calloc(cf->cpus, sizeof *g->order);
  if (!g->order) log_die(1, "out of memory");
  init_world(g);

  struct etlw_opts o;
  etlw_opts_default(&o);
  o.buffer_size = cf->buffer_size;
  o.ptr_size = cf->ptr32 ? 4 : 8;
  o.clock = cf->clock;
  o.ncpus = cf->cpus;
  o.compress = cf->compress;
  o.win7 = cf->win7;
  if (cf->win7) { /* as on the Win7 machine of Tx__KernelNetwork.etl */
    o.perf_freq = 2994853;
    o.cpu_mhz = 3066;
    o.start_raw = 886892083256ull;
  }
  o.out = out;
  o.damage = &cf->damage;
  o.on_buffer = on_buffer;
  o.ctx = g;
  char err[256];
  g->w = etlw_new(&o, err, sizeof err);
  if (!g->w) log_die(1, "%s: %s", cf->out, err);

  if (cf->process_rundown) process_rundown(g);
  if (cf->all_kinds || cf->wpp) {
    for (unsigned x = 0; x < X_COUNT; x++) {
      bool want = x == X_WPP ? cf->wpp : cf->all_kinds;
      if (cf->ptr32 && x == X_THREAD_SYSTEM_OTHER)
        want = false; /* a 32-bit machine logs no 64-bit records */
      if (want) g->extra_list[g->nextra++] = x;
    }
    for (unsigned i = 0; i < g->nextra; i++)
      emit_extra(g, g->extra_list[i]);
  }
  for (uint64_t i = 0; i < cf->events; i++) {
    int k = -1;
    if (cf->events - i <= g->unseen) /* make sure every id occurs */
      for (unsigned j = 0; j < NKN && k < 0; j++)
        if (!g->kn_count[j]) k = (int)j;
    kn_step(g, k);
    if (g->nextra && i % 97 == 96) {
      emit_extra(g, g->extra_list[g->extra_next]);
      g->extra_next = (g->extra_next + 1) % g->nextra;
    }
  }
  struct etlw_stats st;
  check(g, etlw_finish(g->w, &st));
  if (g->oom) log_die(1, "out of memory");

  /* Damage aimed at a buffer that does not exist is a usage error. */
  static const char *const dopt[4] = {"--corrupt-buffer-size",
                                      "--corrupt-record", "--unknown-kind",
                                      "--corrupt-lzx"};
  int64_t asked[4] = {cf->damage.bad_size_buf, cf->damage.bad_record_buf,
                      cf->damage.unknown_buf, cf->damage.bad_lzx_buf};
  for (unsigned i = 0; i < 4; i++)
    if (asked[i] >= 0 && !(st.damage_done & 1u << i)) {
      fclose(out);
      remove(cf->out);
      log_die(2, "%s %lld: the file has only %u buffers", dopt[i],
              (long long)asked[i], (unsigned)st.buffers);
    }
  if (cf->describe) describe(g, &st);
  etlw_free(g->w);
  free(g->bufs);
  for (unsigned i = 0; i < cf->cpus; i++)
    free(g->order[i].v);
  free(g->order);
  free(g);
}

int
main(int argc, char **argv)
{
  struct config cf;
  plat_init(&argc, &argv);
  log_init("etlwriter");
  parse_args(argc, argv, &cf);
  FILE *out = fopen(cf.out, "wb");
  if (!out) log_die(1, "%s: %s", cf.out, strerror(errno));
  setvbuf(out, NULL, _IOFBF, 1 << 20);
  run(&cf, out);
  if (fclose(out) != 0) log_die(1, "%s: write error", cf.out);
  return 0;
}
