/* temoto template: renders a model's chat template (or a template file) with a context
 * given as JSON, and prints the prompt exactly as the model would see it. */
#include "apps.h"
#include "cli.h"

#include "gguf/gguf.h"
#include "text/text.h"

#include <stdio.h>
#include <string.h>

#define MAX_INPUT_BYTES ((size_t)64 << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto template (-m MODEL.gguf | --template FILE) [--context FILE.json]\n"
            "\n"
            "Renders the chat template (tokenizer.chat_template of the model, or a Jinja\n"
            "file) and prints the result as it is. The context is a JSON object whose members\n"
            "are the template's variables: messages, tools, add_generation_prompt, ...\n"
            "(standard input when --context is absent). With -m, bos_token and eos_token\n"
            "default to the model's.\n");
}

/* The model's template and its BOS/EOS texts as a JSON object of defaults. */
static tm_status model_template(const char *path, char **tmpl, size_t *n, tm_buf *members,
                                tm_err *err)
{
    tm_gguf *g = NULL;
    tm_vocab *v = NULL;
    tm_status st = tm_gguf_open(path, &g, err);
    tm_gguf_str s = {NULL, 0};
    if (st == TM_OK && !tm_gguf_find_kv(g, "tokenizer.chat_template"))
        st = tm_fail(err, TM_E_FORMAT, "%s has no chat template (tokenizer.chat_template)", path);
    if (st == TM_OK)
        st = tm_gguf_get_str(g, "tokenizer.chat_template", &s, err);
    if (st == TM_OK) {
        *tmpl = tm_strndup(s.ptr, (size_t)s.len);
        *n = (size_t)s.len;
        if (!*tmpl)
            st = tm_fail(err, TM_E_NOMEM, "chat template");
    }
    /* a file whose tokenizer we cannot read still renders, without BOS/EOS defaults */
    if (st == TM_OK)
        st = tm_buf_append(members, "{", 1, err);
    if (st == TM_OK && tm_vocab_from_gguf(g, &v, NULL) == TM_OK) {
        const tm_vocab_special *sp = tm_vocab_special_ids(v);
        const char *names[2] = {"bos_token", "eos_token"};
        int32_t ids[2] = {sp->bos, sp->eos};
        for (int i = 0; i < 2 && st == TM_OK; i++) {
            if (ids[i] < 0)
                continue;
            size_t len;
            const char *text = tm_vocab_text(v, ids[i], &len);
            st = tm_buf_printf(members, err, "%s\"%s\": ", members->len > 1 ? ", " : "", names[i]);
            if (st == TM_OK)
                st = tm_buf_append_json_string(members, text, len, err);
        }
    }
    if (st == TM_OK)
        st = tm_buf_append(members, "}", 1, err);
    tm_vocab_free(v);
    tm_gguf_close(g);
    return st;
}

static tm_status read_input(const char *path, char **out, size_t *n, tm_err *err)
{
    if (path)
        return tm_file_read_all(path, MAX_INPUT_BYTES, out, n, err);
    tm_buf b;
    tm_buf_init(&b, MAX_INPUT_BYTES);
    char chunk[65536];
    size_t got;
    tm_status st = TM_OK;
    while (st == TM_OK && (got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        st = tm_buf_append(&b, chunk, got, err);
    if (st == TM_OK && !b.data)
        st = tm_buf_append(&b, "", 0, err);
    if (st != TM_OK) {
        tm_buf_fini(&b);
        return st;
    }
    *out = b.data;
    *n = b.len;
    return TM_OK;
}

int tm_app_template_main(int argc, char **argv)
{
    const char *model = NULL, *tmpl_path = NULL, *ctx_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, "-m", "--model", &v, &bad))
            model = v;
        else if (tm_cli_flag(argc, argv, &i, NULL, "--template", &v, &bad))
            tmpl_path = v;
        else if (tm_cli_flag(argc, argv, &i, NULL, "--context", &v, &bad))
            ctx_path = v;
        else {
            usage(stderr);
            return tm_cli_error("unknown option %s", argv[i]) + 1;
        }
        if (bad)
            return 2;
    }
    if (!model == !tmpl_path) {
        usage(stderr);
        return tm_cli_error("give one of -m MODEL or --template FILE") + 1;
    }
    tm_err err = {0};
    char *tmpl = NULL, *ctx = NULL;
    size_t n_tmpl = 0, n_ctx = 0;
    tm_buf defaults, out;
    tm_buf_init(&defaults, MAX_INPUT_BYTES);
    tm_buf_init(&out, (size_t)256 << 20);
    tm_template *t = NULL;
    tm_status st = model ? model_template(model, &tmpl, &n_tmpl, &defaults, &err)
                         : tm_file_read_all(tmpl_path, MAX_INPUT_BYTES, &tmpl, &n_tmpl, &err);
    if (st == TM_OK)
        st = read_input(ctx_path, &ctx, &n_ctx, &err);
    if (st == TM_OK)
        st = tm_template_parse(tmpl, n_tmpl, &t, &err);
    if (st == TM_OK)
        st = tm_template_render(t, ctx, n_ctx, defaults.data, &out, &err);
    if (st == TM_OK && out.len)
        fwrite(out.data, 1, out.len, stdout);
    tm_template_free(t);
    tm_free(tmpl);
    tm_free(ctx);
    tm_buf_fini(&defaults);
    tm_buf_fini(&out);
    return st == TM_OK ? 0 : tm_cli_error("%s", err.msg);
}
