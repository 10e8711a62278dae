/* The model's chat template: read and parsed once at load, rendered per request with the
 * model's BOS/EOS texts as defaults for bos_token and eos_token. */
#include "engine.h"

#include "../text/text.h"

#include <string.h>

#define MAX_PROMPT_BYTES ((size_t)256 << 20)

tm_status tm_model_chat_load(tm_model *model, tm_err *err)
{
    if (!tm_gguf_find_kv(model->gguf, "tokenizer.chat_template"))
        return TM_OK;
    tm_gguf_str s;
    tm_status st = tm_gguf_get_str(model->gguf, "tokenizer.chat_template", &s, err);
    if (st != TM_OK)
        return st;
    model->chat_template = tm_strndup(s.ptr, (size_t)s.len);
    if (!model->chat_template)
        return tm_fail(err, TM_E_NOMEM, "chat template");
    if (tm_template_parse(s.ptr, (size_t)s.len, &model->chat_parsed, &model->chat_err) != TM_OK)
        tm_err_context(&model->chat_err, "the model's chat template");
    return TM_OK;
}

void tm_model_chat_free(tm_model *model)
{
    tm_template_free(model->chat_parsed);
    tm_free(model->chat_template);
    model->chat_parsed = NULL;
    model->chat_template = NULL;
}

const char *tm_model_chat_template(const tm_model *model)
{
    return model->chat_template;
}

/* {"bos_token": "...", "eos_token": "..."} from the vocabulary. */
static tm_status defaults_json(const tm_model *model, tm_buf *b, tm_err *err)
{
    tm_status st = tm_buf_append(b, "{", 1, err);
    const char *names[2] = {"bos_token", "eos_token"};
    tm_token ids[2] = {tm_model_bos(model), tm_model_eos(model)};
    for (int i = 0; i < 2 && st == TM_OK; i++) {
        char text[256];
        int32_t n = ids[i] >= 0 ? tm_token_to_piece(model, ids[i], true, text, sizeof text) : -1;
        if (n < 0 || n > (int32_t)sizeof text)
            continue;
        st = tm_buf_printf(b, err, "%s\"%s\": ", b->len > 1 ? ", " : "", names[i]);
        if (st == TM_OK)
            st = tm_buf_append_json_string(b, text, (size_t)n, err);
    }
    return st == TM_OK ? tm_buf_append(b, "}", 1, err) : st;
}

tm_status tm_chat_render(const tm_model *model, const char *template_src, const char *context_json,
                         size_t len, char *buf, size_t cap, size_t *n_out, tm_err *err)
{
    *n_out = 0;
    tm_template *own = NULL;
    const tm_template *t = model->chat_parsed;
    if (template_src) {
        tm_status st = tm_template_parse(template_src, strlen(template_src), &own, err);
        if (st != TM_OK)
            return st;
        t = own;
    } else if (!model->chat_template) {
        return tm_fail(err, TM_E_ARG, "the model has no chat template (tokenizer.chat_template)");
    } else if (!t) {
        if (err)
            *err = model->chat_err;
        return model->chat_err.status;
    }
    tm_buf defaults, out;
    tm_buf_init(&defaults, 4096);
    tm_buf_init(&out, MAX_PROMPT_BYTES);
    tm_status st = defaults_json(model, &defaults, err);
    if (st == TM_OK)
        st = tm_template_render(t, context_json, len, defaults.data, &out, err);
    if (st == TM_OK) {
        *n_out = out.len;
        if (out.len)
            memcpy(buf, out.data, out.len < cap ? out.len : cap);
        if (out.len > cap)
            st = tm_fail(err, TM_E_LIMIT, "the prompt has %zu bytes, the buffer %zu", out.len, cap);
    }
    tm_buf_fini(&defaults);
    tm_buf_fini(&out);
    tm_template_free(own);
    return st;
}
