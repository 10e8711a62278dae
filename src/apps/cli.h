/* Small helpers shared by the subcommands: strict flag values with clear errors. */
#ifndef TM_APPS_CLI_H
#define TM_APPS_CLI_H

#include "base/base.h"

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
/* Is argv[i] "--help" or "-h"? */
bool tm_cli_is_help(const char *arg);

#endif
