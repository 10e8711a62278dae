/* libFuzzer target for chat templates: any bytes as a template are rejected with a message
 * or render (within the limits) against a fixed conversation; the same bytes as a JSON
 * context for a fixed template are rejected or render. */
#include "text/text.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char context[] =
        "{\"messages\": [{\"role\": \"system\", \"content\": \" sys \"}, {\"role\": \"user\", "
        "\"content\": \"\\u3053\\u3093\\u306b\\u3061\\u306f\"}, {\"role\": \"assistant\", "
        "\"content\": \"<think>x</think>ok\", \"tool_calls\": [{\"function\": {\"name\": \"f\", "
        "\"arguments\": {\"a\": [1, 2.5, null, true]}}}]}], \"tools\": [{\"type\": "
        "\"function\"}], \"add_generation_prompt\": true, \"bos_token\": \"<s>\"}";
    static const char fixed[] =
        "{% for m in messages %}{{ m.role | upper }}: {{ m.content | trim }}{{ m | tojson }}"
        "{% endfor %}{% if add_generation_prompt %}A:{% endif %}";
    tm_err err;
    tm_buf out;
    tm_template *t = NULL;
    tm_buf_init(&out, 1 << 20);
    if (tm_template_parse((const char *)data, size, &t, &err) == TM_OK) {
        if (tm_template_render(t, context, sizeof context - 1, NULL, &out, &err) != TM_OK &&
            !err.msg[0])
            abort();
        tm_template_free(t);
    } else if (!err.msg[0])
        abort();
    out.len = 0;
    if (tm_template_parse(fixed, sizeof fixed - 1, &t, &err) != TM_OK)
        abort();
    if (tm_template_render(t, (const char *)data, size, NULL, &out, &err) != TM_OK && !err.msg[0])
        abort();
    tm_template_free(t);
    tm_buf_fini(&out);
    return 0;
}
