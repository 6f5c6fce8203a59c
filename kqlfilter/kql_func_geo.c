/*
 * kql_func_geo.c - geospatial functions (geo_*).
 *
 * The family's functions and its table, kept sorted by name; kql_func.c
 * searches it after the core table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lib/platform.h"
#include "kqlfilter/kql_func.h"

/* A placeholder entry keeps the array non-empty (C forbids empty ones);
 * its name cannot be written in a query. */
const struct kql_fn kql_geo_fns[] = {
    {" ", 0, 0, KQL_T_ANY, 0, NULL},
};
const size_t kql_geo_nfns = 0;
