/*
 * evt_registry.c - schema registry: an arena and one hash table.
 *
 * Every key (schema, provider name, map, TraceLogging metadata) is a byte
 * string starting with a kind byte and the provider GUID; one open-
 * addressing table maps key bytes to a value and a priority. Keys are
 * copied into the arena, values are arena memory owned by the registry.
 * See evt_registry.h for the lookup rules.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "etwcat/evt_registry.h"

#include <stdlib.h>
#include <string.h>

enum kind { K_SCHEMA = 1, K_PROVIDER = 2, K_MAP = 3, K_TL = 4 };

struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  max_align_t data[];
};

struct slot {
  uint64_t hash;
  const uint8_t *key; /* NULL: empty slot */
  size_t keylen;
  const void *val;
  int prio;
};

struct evt_registry {
  struct arena_block *blocks;
  struct slot *slots;
  size_t nslots, nused;
};

struct evt_registry *
evt_registry_new(void)
{
  struct evt_registry *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->nslots = 256;
  r->slots = calloc(r->nslots, sizeof *r->slots);
  if (!r->slots) {
    free(r);
    return NULL;
  }
  return r;
}

void
evt_registry_free(struct evt_registry *r)
{
  if (!r) return;
  struct arena_block *b = r->blocks;
  while (b) {
    struct arena_block *n = b->next;
    free(b);
    b = n;
  }
  free(r->slots);
  free(r);
}

void *
evt_alloc(struct evt_registry *r, size_t n)
{
  const size_t al = sizeof(max_align_t);
  if (n > SIZE_MAX / 2) return NULL;
  n = (n + al - 1) / al * al;
  struct arena_block *b = r->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 60000 ? n : 60000;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = r->blocks;
    r->blocks = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

char *
evt_strdup(struct evt_registry *r, const char *s, size_t n)
{
  char *p = evt_alloc(r, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

/* FNV-1a, 64-bit: keys are short and mostly distinct in their GUID. */
static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h ? h : 1;
}

static struct slot *
lookup(struct evt_registry *r, const uint8_t *key, size_t n, uint64_t h)
{
  size_t mask = r->nslots - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    struct slot *s = &r->slots[i];
    if (!s->key) return s;
    if (s->hash == h && s->keylen == n && memcmp(s->key, key, n) == 0) return s;
  }
}

static int
grow(struct evt_registry *r)
{
  size_t nn = r->nslots * 2;
  struct slot *ns = calloc(nn, sizeof *ns);
  if (!ns) return -1;
  for (size_t i = 0; i < r->nslots; i++) {
    struct slot *s = &r->slots[i];
    if (!s->key) continue;
    size_t j = s->hash & (nn - 1);
    while (ns[j].key)
      j = (j + 1) & (nn - 1);
    ns[j] = *s;
  }
  free(r->slots);
  r->slots = ns;
  r->nslots = nn;
  return 0;
}

/* put - store val under key unless a stronger (lower) priority holds it. */
static int
put(struct evt_registry *r, const uint8_t *key, size_t n, const void *val,
    int prio)
{
  if ((r->nused + 1) * 4 > r->nslots * 3 && grow(r) != 0) return -1;
  uint64_t h = hash_bytes(key, n);
  struct slot *s = lookup(r, key, n, h);
  if (s->key) {
    if (prio <= s->prio) {
      s->val = val;
      s->prio = prio;
    }
    return 0;
  }
  uint8_t *k = evt_alloc(r, n);
  if (!k) return -1;
  memcpy(k, key, n);
  s->hash = h;
  s->key = k;
  s->keylen = n;
  s->val = val;
  s->prio = prio;
  r->nused++;
  return 0;
}

static const void *
get(struct evt_registry *r, const uint8_t *key, size_t n)
{
  struct slot *s = lookup(r, key, n, hash_bytes(key, n));
  return s->key ? s->val : NULL;
}

/* Schema key: kind, GUID, classic flag, id-or-opcode (LE), version. */
static size_t
schema_key(uint8_t k[21], const uint8_t g[16], bool classic, uint16_t id,
           uint8_t version)
{
  k[0] = K_SCHEMA;
  memcpy(k + 1, g, 16);
  k[17] = classic;
  k[18] = (uint8_t)id;
  k[19] = (uint8_t)(id >> 8);
  k[20] = version;
  return 21;
}

int
evt_registry_add(struct evt_registry *r, const struct evt_schema *s,
                 enum evt_prio prio)
{
  uint8_t k[21];
  size_t n = schema_key(k, s->provider, s->classic,
                        s->classic ? s->opcode : s->id, s->version);
  return put(r, k, n, s, (int)prio);
}

const struct evt_schema *
evt_registry_find(struct evt_registry *r, const uint8_t provider[16],
                  bool classic, uint16_t id_or_opcode, uint8_t version)
{
  uint8_t k[21];
  size_t n = schema_key(k, provider, classic, id_or_opcode, version);
  return get(r, k, n);
}

const struct evt_schema *
evt_registry_find_lower(struct evt_registry *r, const uint8_t provider[16],
                        bool classic, uint16_t id_or_opcode, uint8_t version)
{
  for (int v = (int)version - 1; v >= 0; v--) {
    const struct evt_schema *s =
        evt_registry_find(r, provider, classic, id_or_opcode, (uint8_t)v);
    if (s) return s;
  }
  return NULL;
}

int
evt_registry_set_provider_name(struct evt_registry *r, const uint8_t guid[16],
                               const char *name, enum evt_prio prio)
{
  uint8_t k[17];
  k[0] = K_PROVIDER;
  memcpy(k + 1, guid, 16);
  struct slot *s = lookup(r, k, sizeof k, hash_bytes(k, sizeof k));
  if (s->key && s->prio <= (int)prio)
    return 0; /* the first name at the strongest priority wins */
  char *copy = evt_strdup(r, name, strlen(name));
  if (!copy) return -1;
  return put(r, k, sizeof k, copy, (int)prio);
}

const char *
evt_registry_provider_name(struct evt_registry *r, const uint8_t guid[16])
{
  uint8_t k[17];
  k[0] = K_PROVIDER;
  memcpy(k + 1, guid, 16);
  return get(r, k, sizeof k);
}

static uint8_t *
named_key(uint8_t *buf, size_t cap, enum kind kind, const uint8_t g[16],
          const uint8_t *rest, size_t n, size_t *len)
{
  uint8_t *k = cap >= 17 + n ? buf : malloc(17 + n);
  if (!k) return NULL;
  k[0] = (uint8_t)kind;
  memcpy(k + 1, g, 16);
  if (n) memcpy(k + 17, rest, n);
  *len = 17 + n;
  return k;
}

int
evt_registry_add_map(struct evt_registry *r, const uint8_t provider[16],
                     const struct evt_map *m)
{
  uint8_t buf[256];
  size_t len;
  uint8_t *k = named_key(buf, sizeof buf, K_MAP, provider,
                         (const uint8_t *)m->name, strlen(m->name), &len);
  if (!k) return -1;
  int rc = put(r, k, len, m, EVT_PRIO_TRACE);
  if (k != buf) free(k);
  return rc;
}

const struct evt_map *
evt_registry_find_map(struct evt_registry *r, const uint8_t provider[16],
                      const char *name)
{
  uint8_t buf[256];
  size_t len;
  uint8_t *k = named_key(buf, sizeof buf, K_MAP, provider,
                         (const uint8_t *)name, strlen(name), &len);
  if (!k) return NULL;
  const struct evt_map *m = get(r, k, len);
  if (k != buf) free(k);
  return m;
}

const struct evt_schema *
evt_registry_find_tl(struct evt_registry *r, const uint8_t provider[16],
                     const uint8_t *meta, size_t n)
{
  uint8_t buf[512];
  size_t len;
  uint8_t *k = named_key(buf, sizeof buf, K_TL, provider, meta, n, &len);
  if (!k) return NULL;
  const struct evt_schema *s = get(r, k, len);
  if (k != buf) free(k);
  return s;
}

int
evt_registry_add_tl(struct evt_registry *r, const uint8_t provider[16],
                    const uint8_t *meta, size_t n, const struct evt_schema *s)
{
  uint8_t buf[512];
  size_t len;
  uint8_t *k = named_key(buf, sizeof buf, K_TL, provider, meta, n, &len);
  if (!k) return -1;
  int rc = put(r, k, len, s, EVT_PRIO_TRACE);
  if (k != buf) free(k);
  return rc;
}
