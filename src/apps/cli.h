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

/* --kv-type f16|f32: true if argv[*i] was it (then *bad on a bad value). */
bool tm_cli_kv_type(int argc, char **argv, int *i, tm_kv_type *out, bool *bad);
#define TM_CLI_KV_HELP                                                                          \
    "  --kv-type T              KV cache type: f16 (default), q8_0 (about half of f16), q4_0\n" \
    "                           (about a quarter) or f32 (exact)\n"

/* --overflow error|truncate-left|shift and --keep N (N >= 0; *n_keep stays -1, "BOS only",
 * when not given): true if argv[*i] was one of them (then *bad on a bad value). run and
 * chat apply them differently, so each has its own usage text. */
bool tm_cli_overflow_flag(int argc, char **argv, int *i, tm_overflow *overflow, int64_t *n_keep,
                          bool *bad);

/* Is argv[i] "--help" or "-h"? */
bool tm_cli_is_help(const char *arg);

#endif
