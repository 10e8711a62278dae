/* Did a model answer with the JSON it was asked for? Finds the JSON value in a reply by one
 * fixed rule, parses it (jansson) and checks it against a JSON Schema of the subset the
 * bench suite's tasks use. Both the reply and the schema are outside input: every failure is
 * a reason string, never a crash (fuzz/fuzz_json_check.c).
 *
 * The rule that finds the value (docs/bench.md, "breakage"):
 *   1. if the reply contains ``` (a Markdown fence), only the text after the end of that
 *      line (which may name a language: ```json) up to the next ``` or the end is looked at;
 *   2. the value starts at the first '{' or '[' there;
 *   3. exactly one JSON value is read from there; text after it is ignored.
 *
 * The schema subset: type (a name or a list of names: object, array, string, integer,
 * number, boolean, null), enum, properties, required, additionalProperties (false, or a
 * schema), items (one schema), minItems, maxItems, minLength, maxLength (in code points),
 * minimum, maximum, format (date: YYYY-MM-DD of the Gregorian calendar, time: HH:MM or
 * HH:MM:SS of 24 hours, email: local@domain.tld), description and title (ignored). Any
 * other keyword makes the schema invalid: a checker that skipped it would pass documents
 * the schema's author meant to reject. */
#ifndef TM_APPS_JSON_CHECK_H
#define TM_APPS_JSON_CHECK_H

#include "base/base.h"

typedef struct tm_json_verdict {
    bool found;       /* a '{' or '[' was there */
    bool parsed;      /* and one JSON value parsed from it */
    bool valid;       /* and it matches the schema */
    size_t at, len;   /* the bytes of the reply the value took (when parsed) */
    char reason[256]; /* why not, one line: "$[1].due_date: \"来週\" is not a date" */
} tm_json_verdict;

/* Checks reply[0..n) against schema_json (NUL-terminated). A schema that is not JSON or
 * uses keywords outside the subset is TM_E_ARG; a build without jansson TM_E_UNSUPPORTED.
 * A reply that breaks is TM_OK with the verdict saying why. */
tm_status tm_json_check(const char *schema_json, const char *reply, size_t n, tm_json_verdict *out,
                        tm_err *err);

/* Is the schema valid for the subset? TM_E_ARG with the reason otherwise. */
tm_status tm_json_schema_validate(const char *schema_json, tm_err *err);

/* "YYYY-MM-DD" with a real month and day (leap years by the Gregorian rule). */
bool tm_json_is_date(const char *s, size_t n);

#endif
