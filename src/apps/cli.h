/* Small helpers shared by the subcommands: strict flag values with clear errors. */
#ifndef TM_APPS_CLI_H
#define TM_APPS_CLI_H

#include "base/base.h"
#include "temoto.h"

#include <stdbool.h>
#include <stdint.h>

/* Is argv[*i] the flag (a short or long spelling; short may be NULL)? If it is and takes a
 * value, *value is set to the next argument and *i advanced; a missing value prints an
 * error and sets *bad. */
bool tm_cli_flag(int argc, char **argv, int *i, const char *short_name, const char *long_name,
                 const char **value, bool *bad);
/* Parses a flag value as an integer in [lo, hi] or a float in [lo, hi]; prints
 * "error: <flag>: ..." and returns false otherwise. */
bool tm_cli_int(const char *flag, const char *value, int64_t lo, int64_t hi, int64_t *out);
bool tm_cli_float(const char *flag, const char *value, double lo, double hi, double *out);
/* Prints "error: <msg>" to stderr and returns 1: `return tm_cli_error("...")`. */
int tm_cli_error(const char *fmt, ...) TM_PRINTF(1, 2);
/* The sampling flags shared by run and chat (--temp, --top-k, --top-p, --min-p,
 * --repeat-penalty, --repeat-last-n, --seed): true if argv[*i] was one (then *bad on a bad
 * value). TM_CLI_SAMPLING_HELP is their usage text. */
bool tm_cli_sampling_flag(int argc, char **argv, int *i, tm_sampler_params *sp, bool *bad);
#define TM_CLI_SAMPLING_HELP                                                           \
    "  --temp T                 temperature; 0 = greedy (default 0.8)\n"               \
    "  --top-k K                keep the K most likely tokens, 0 = off (default 40)\n" \
    "  --top-p P                nucleus sampling, 1 = off (default 0.95)\n"            \
    "  --min-p P                drop tokens below P x the best one's probability\n"    \
    "                           (default 0.05)\n"                                      \
    "  --repeat-penalty R       penalise recent tokens, 1 = off (default 1)\n"         \
    "  --repeat-last-n N        tokens the penalty looks back over (default 64)\n"     \
    "  --seed S                 random seed (default 0)\n"

/* The KV cache flags: --kv-type T (keys and values), --kv-type-k T, --kv-type-v T,
 * --kv-mem SIZE (a budget: 512M, 2G, 1.5GiB, or bytes) and --no-prefix-cache. */
typedef struct tm_cli_kv {
    tm_kv_type type_k, type_v; /* type_v TM_KV_SAME: as type_k */
    uint64_t mem_bytes;        /* 0: each session's context's worth */
    bool no_prefix_reuse;
} tm_cli_kv;

tm_cli_kv tm_cli_kv_default(void);
/* true if argv[*i] was one of the KV flags (then *bad on a bad value). */
bool tm_cli_kv_flag(int argc, char **argv, int *i, tm_cli_kv *kv, bool *bad);
/* Puts the types into sp; with --kv-mem or --no-prefix-cache, makes the cache sp's sessions
 * then share (*cache, freed by the caller after them), of the budget or of n_parallel
 * sessions of sp->n_ctx positions. */
tm_status tm_cli_kv_setup(const tm_cli_kv *kv, const tm_model *model, int32_t n_parallel,
                          tm_session_params *sp, tm_kv_cache **cache, tm_err *err);
/* Parses "512M", "2G", "1.5GiB", "64k", "1000": bytes (K/M/G/T are powers of 1024, a
 * trailing "B" or "iB" is allowed); prints "error: <flag>: ..." and returns false otherwise. */
bool tm_cli_size(const char *flag, const char *value, uint64_t *out);
#define TM_CLI_KV_HELP                                                                          \
    "  --kv-type T              KV cache type: f16 (default), q8_0 (about half of f16), q4_0\n" \
    "                           (about a quarter) or f32 (exact); keys and values\n"            \
    "  --kv-type-k T, --kv-type-v T  the keys' or the values' type alone\n"                     \
    "  --kv-mem SIZE            KV cache budget (512M, 2G): blocks of 32 positions as many\n"   \
    "                           as fit (default: the context's worth)\n"                        \
    "  --no-prefix-cache        do not keep or reuse the blocks of earlier prompts\n"

/* --overflow error|truncate-left|shift and --keep N (N >= 0; *n_keep stays -1, "BOS only",
 * when not given): true if argv[*i] was one of them (then *bad on a bad value). run and
 * chat apply them differently, so each has its own usage text. */
bool tm_cli_overflow_flag(int argc, char **argv, int *i, tm_overflow *overflow, int64_t *n_keep,
                          bool *bad);

/* Is argv[i] "--help" or "-h"? */
bool tm_cli_is_help(const char *arg);

#endif
