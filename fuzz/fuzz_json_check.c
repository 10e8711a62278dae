/* libFuzzer target for the bench suite's JSON rule and schema checker
 * (src/apps/json_check.c). Input: a schema, a NUL byte, a reply; without a NUL, the whole
 * input is a reply checked against a fixed schema that uses every keyword. A bad schema is
 * TM_E_ARG with a message; a reply gives a verdict whose flags and span agree (valid implies
 * parsed implies found, the span lies inside the reply, a broken reply has a reason). */
#include "apps/json_check.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char g_schema[] =
    "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 8, \"items\": {\"type\": \"object\", "
    "\"additionalProperties\": false, \"required\": [\"title\", \"due_date\"], \"properties\": "
    "{\"title\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 40}, \"due_date\": "
    "{\"type\": [\"string\", \"null\"], \"format\": \"date\"}, \"at\": {\"type\": \"string\", "
    "\"format\": \"time\"}, \"mail\": {\"type\": \"string\", \"format\": \"email\"}, \"n\": "
    "{\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9}, \"x\": {\"type\": \"number\"}, "
    "\"ok\": {\"type\": \"boolean\"}, \"p\": {\"enum\": [\"high\", \"low\", null]}, \"tags\": "
    "{\"type\": \"array\", \"items\": {\"type\": \"string\"}}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    const char *schema = g_schema, *reply = (const char *)data;
    size_t n = size;
    char *own = NULL;
    if (nul) {
        own = malloc((size_t)(nul - (const char *)data) + 1);
        if (!own)
            return 0;
        memcpy(own, data, (size_t)(nul - (const char *)data));
        own[nul - (const char *)data] = '\0';
        schema = own;
        reply = nul + 1;
        n = size - (size_t)(nul + 1 - (const char *)data);
    }
    tm_err err;
    memset(&err, 0, sizeof err);
    tm_json_verdict v;
    tm_status st = tm_json_check(schema, reply, n, &v, &err);
    if (st != TM_OK && (st != TM_E_ARG || err.msg[0] == '\0'))
        abort();
    if (st == TM_OK && ((v.valid && !v.parsed) || (v.parsed && !v.found) ||
                        (v.parsed && v.at + v.len > n) || (!v.valid && v.reason[0] == '\0')))
        abort();
    free(own);
    return 0;
}
