/*
 * fuzz_etl.c - libFuzzer target: the whole .etl container reader.
 *
 * The input is a trace file: it goes through the same path as
 * `etwcat --file` (header, buffer index, decompression, record walk,
 * merge, schema lookup, payload decoding and JSON output), from memory.
 * Messages about bad input are expected; crashes and leaks are not.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"

#include "etwcat/etl_reader.h"
#include "etwcat/evt_builtin.h"
#include "etwcat/evt_manifest.h"
#include "etwcat/evt_output.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/rfile.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static bool quiet;
  if (!quiet) {
    log_init("fuzz_etl");
    quiet = true;
    if (!getenv("FUZZ_VERBOSE")) log_set_verbosity(-1);
  }
  struct rfile *rf = rfile_from_memory(data, size);
  if (!rf) return 0;
  struct etl_file *f = etl_file_open_rfile("fuzz.etl", rf, 0);
  if (!f) return 0;
  struct evt_writer wr = {0};
  wr.reg = evt_registry_new();
  if (wr.reg && evt_builtin_load(wr.reg) == 0) {
    struct etl_merge *m = etl_merge_new(&f, 1, size & 1);
    struct jsonw w;
    jw_init(&w);
    struct etl_event ev;
    struct etl_file *src;
    while (m && etl_merge_next(m, &ev, &src)) {
      evt_write_event(&wr, &ev, src, &w);
      jw_reset(&w);
    }
    jw_free(&w);
    etl_merge_free(m);
  }
  evt_writer_free(&wr);
  evt_manifest_chunks_drop(wr.reg);
  evt_registry_free(wr.reg);
  etl_file_close(f);
  return 0;
}
