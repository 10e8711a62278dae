/* temoto convert-tokenizer: a Hugging Face tokenizer.json (and tokenizer_config.json) to a
 * GGUF file holding only tokenizer metadata and the chat template (the work is the text
 * layer's tm_hf_tokenizer_to_gguf). */
#include "apps.h"
#include "cli.h"

#include "gguf/gguf.h"
#include "text/text.h"

#include <stdio.h>
#include <string.h>

#define MAX_JSON_BYTES ((size_t)1 << 30)

static void usage(FILE *out)
{
    fprintf(out, "usage: temoto convert-tokenizer tokenizer.json [tokenizer_config.json] OUT.gguf\n"
                 "\n"
                 "Writes the tokenizer (and chat template) of a Hugging Face model as GGUF\n"
                 "tokenizer metadata, which `temoto tokenize` and `temoto template` read.\n");
}

static tm_status convert(const char *tok_path, const char *config_path, const char *out,
                         tm_err *err)
{
    char *tok = NULL, *config = NULL;
    size_t n_tok = 0, n_config = 0;
    tm_gguf_writer *w = NULL;
    tm_status st = tm_file_read_all(tok_path, MAX_JSON_BYTES, &tok, &n_tok, err);
    if (st == TM_OK && config_path)
        st = tm_file_read_all(config_path, MAX_JSON_BYTES, &config, &n_config, err);
    if (st == TM_OK)
        st = tm_gguf_writer_create(&w, err);
    if (st == TM_OK)
        st = tm_gguf_writer_set_str(w, "general.name", "tokenizer", err);
    if (st == TM_OK)
        st = tm_hf_tokenizer_to_gguf(tok, n_tok, config, n_config, w, err);
    if (st == TM_OK)
        st = tm_gguf_writer_begin(w, out, err);
    if (st == TM_OK)
        st = tm_gguf_writer_finish(w, err);
    tm_gguf_writer_free(w);
    tm_free(tok);
    tm_free(config);
    return st;
}

int tm_app_convert_tokenizer_main(int argc, char **argv)
{
    const char *paths[3];
    int n_paths = 0;
    for (int i = 1; i < argc; i++) {
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != 0) {
            usage(stderr);
            return tm_cli_error("unknown option %s", argv[i]) + 1;
        }
        if (n_paths == 3) {
            usage(stderr);
            return 2;
        }
        paths[n_paths++] = argv[i];
    }
    if (n_paths < 2) {
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    tm_status st = convert(paths[0], n_paths == 3 ? paths[1] : NULL, paths[n_paths - 1], &err);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
