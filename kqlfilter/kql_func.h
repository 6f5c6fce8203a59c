/*
 * kql_func.h - built-in scalar functions shared between kql_func*.c.
 *
 * Every function has the kql_fn_impl signature (kql_exec.h). The table
 * lives in kql_func.c; date/time functions in kql_func_time.c; dynamic,
 * network, hashing and encoding functions in kql_func_dyn.c. Families
 * with tables of their own: kql_func_series.c (series_*, range),
 * kql_func_text.c (more strings, compression, punycode),
 * kql_func_net.c (IPv6), kql_func_math.c (statistics, units),
 * kql_func_geo.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef KQL_FUNC_H
#define KQL_FUNC_H

#include "kqlfilter/kql_exec.h"

/* Helpers: argument as text (tostring), as a number (no strings, except
 * dynamic ones). */
struct kql_val kql_fn_str(struct kql_ctx *c, const struct kql_val *v);
bool kql_fn_long(const struct kql_val *v, int64_t *out);
bool kql_fn_real(const struct kql_val *v, double *out);
bool kql_fn_table_sorted(void);

#define KQL_FN(name)                                                           \
  void name(struct kql_ctx *c, struct kql_node *n, struct kql_val *a,          \
            uint32_t na, struct kql_val *out)

KQL_FN(kql_f_ago);
KQL_FN(kql_f_array_concat);
KQL_FN(kql_f_array_iff);
KQL_FN(kql_f_array_index_of);
KQL_FN(kql_f_array_length);
KQL_FN(kql_f_array_reverse);
KQL_FN(kql_f_array_rotate_left);
KQL_FN(kql_f_array_rotate_right);
KQL_FN(kql_f_array_shift_left);
KQL_FN(kql_f_array_shift_right);
KQL_FN(kql_f_array_slice);
KQL_FN(kql_f_array_sort_asc);
KQL_FN(kql_f_array_sort_desc);
KQL_FN(kql_f_array_split);
KQL_FN(kql_f_array_sum);
KQL_FN(kql_f_b64_decode);
KQL_FN(kql_f_b64_encode);
KQL_FN(kql_f_bag_has_key);
KQL_FN(kql_f_bag_keys);
KQL_FN(kql_f_bag_merge);
KQL_FN(kql_f_bag_remove_keys);
KQL_FN(kql_f_bag_set_key);
KQL_FN(kql_f_bin_at);
KQL_FN(kql_f_datetime_add);
KQL_FN(kql_f_datetime_diff);
KQL_FN(kql_f_datetime_part);
KQL_FN(kql_f_dayofmonth);
KQL_FN(kql_f_dayofweek);
KQL_FN(kql_f_dayofyear);
KQL_FN(kql_f_dynamic_to_json);
KQL_FN(kql_f_endofday);
KQL_FN(kql_f_endofmonth);
KQL_FN(kql_f_endofweek);
KQL_FN(kql_f_endofyear);
KQL_FN(kql_f_format_datetime);
KQL_FN(kql_f_format_timespan);
KQL_FN(kql_f_getyear);
KQL_FN(kql_f_hash);
KQL_FN(kql_f_hash_md5);
KQL_FN(kql_f_hash_sha1);
KQL_FN(kql_f_hash_sha256);
KQL_FN(kql_f_hourofday);
KQL_FN(kql_f_ipv4_compare);
KQL_FN(kql_f_ipv4_is_in_range);
KQL_FN(kql_f_ipv4_is_match);
KQL_FN(kql_f_ipv4_is_private);
KQL_FN(kql_f_make_datetime);
KQL_FN(kql_f_make_timespan);
KQL_FN(kql_f_monthofyear);
KQL_FN(kql_f_now);
KQL_FN(kql_f_pack);
KQL_FN(kql_f_pack_array);
KQL_FN(kql_f_parse_ipv4);
KQL_FN(kql_f_set_difference);
KQL_FN(kql_f_set_has_element);
KQL_FN(kql_f_set_intersect);
KQL_FN(kql_f_set_union);
KQL_FN(kql_f_startofday);
KQL_FN(kql_f_startofmonth);
KQL_FN(kql_f_startofweek);
KQL_FN(kql_f_startofyear);
KQL_FN(kql_f_strcat_array);
KQL_FN(kql_f_unix_ms);
KQL_FN(kql_f_unix_ns);
KQL_FN(kql_f_unix_s);
KQL_FN(kql_f_unix_us);
KQL_FN(kql_f_url_decode);
KQL_FN(kql_f_url_encode);
KQL_FN(kql_f_week_of_year);
KQL_FN(kql_f_zip);
KQL_FN(kql_f_has_ipv4);
KQL_FN(kql_f_has_ipv4_prefix);
KQL_FN(kql_f_ipv4_netmask_suffix);
KQL_FN(kql_f_format_ipv4);
KQL_FN(kql_f_format_ipv4_mask);
KQL_FN(kql_f_jaccard_index);
KQL_FN(kql_f_unicode_from);
KQL_FN(kql_f_unicode_to);

/* Function families in files of their own (kql_func_geo.c,
 * kql_func_series.c): each table sorted by name, n entries. */
extern const struct kql_fn kql_geo_fns[];
extern const size_t kql_geo_nfns;
extern const struct kql_fn kql_series_fns[];
extern const size_t kql_series_nfns;
extern const struct kql_fn kql_text_fns[]; /* kql_func_text.c */
extern const size_t kql_text_nfns;
extern const struct kql_fn kql_net_fns[]; /* kql_func_net.c */
extern const size_t kql_net_nfns;
extern const struct kql_fn kql_math_fns[]; /* kql_func_math.c */
extern const size_t kql_math_nfns;

/* IPv6 or IPv4 text (IPv4-mapped, prefix 96 + p) as 16 bytes and a
 * prefix length; kql_ip6_in: ip lies in net/prefix (kql_func_net.c). */
bool kql_ip6_parse(const char *s, size_t n, uint8_t bytes[16], int *prefix);
bool kql_ip6_in(const uint8_t ip[16], const uint8_t net[16], int prefix);

#endif
