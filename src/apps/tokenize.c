/* temoto tokenize: a model's tokenizer on a text, as ids or as id<TAB>piece lines. Reads
 * the vocabulary only: the weights are not loaded. */
#include "apps.h"
#include "cli.h"

#include "text/text.h"

#include <stdio.h>
#include <string.h>

#define MAX_TEXT_BYTES (64u << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: temoto tokenize -m MODEL.gguf [--text TEXT] [--no-bos] [--special] [--ids]\n"
            "\n"
            "Tokenizes TEXT (standard input when --text is absent) with the model's\n"
            "tokenizer. Prints the ids separated by spaces with --ids, otherwise one\n"
            "'id<TAB>piece' line per token (pieces escaped: \\n, \\t, \\\\, \\xHH).\n"
            "  --no-bos    do not add the BOS/EOS tokens the vocabulary asks for\n"
            "  --special   text such as <|im_end|> becomes its control token\n");
}

static void print_piece(const char *p, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\\')
            fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

static tm_status read_stdin(char **out, size_t *n, tm_err *err)
{
    tm_buf b;
    tm_buf_init(&b, MAX_TEXT_BYTES);
    char chunk[65536];
    size_t got;
    tm_status st = tm_buf_append(&b, "", 0, err);
    while (st == TM_OK && (got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        st = tm_buf_append(&b, chunk, got, err);
    if (st != TM_OK) {
        tm_buf_fini(&b);
        return st;
    }
    *out = b.data;
    *n = b.len;
    return TM_OK;
}

int tm_app_tokenize_main(int argc, char **argv)
{
    const char *model_path = NULL, *text = NULL;
    bool no_bos = false, special = false, ids_only = false, bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, "-m", "--model", &model_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--text", &text, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--no-bos", NULL, &bad)) {
            no_bos = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--special", NULL, &bad)) {
            special = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--ids", NULL, &bad)) {
            ids_only = true;
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", argv[i]);
            bad = true;
        }
    }
    if (!bad && !model_path) {
        fprintf(stderr, "error: -m MODEL is required\n");
        bad = true;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    tm_err err = {0};
    tm_gguf *g = NULL;
    tm_vocab *v = NULL;
    char *input = NULL;
    size_t len = text ? strlen(text) : 0;
    int32_t *ids = NULL, n = 0;
    tm_status st = tm_gguf_open(model_path, &g, &err);
    if (st == TM_OK)
        st = tm_vocab_from_gguf(g, &v, &err);
    if (st == TM_OK && !text)
        st = read_stdin(&input, &len, &err);
    const char *t = text ? text : input;
    int32_t cap = (int32_t)TM_MIN(len + 8, (size_t)INT32_MAX / 8);
    if (st == TM_OK && !(ids = tm_malloc((size_t)cap * sizeof *ids)))
        st = tm_fail(&err, TM_E_NOMEM, "ids");
    if (st == TM_OK)
        st = tm_vocab_encode(v, t, len, !no_bos, special, ids, cap, &n, &err);
    for (int32_t i = 0; st == TM_OK && i < n; i++) {
        if (ids_only) {
            printf(i ? " %d" : "%d", ids[i]);
            continue;
        }
        char piece[256];
        int32_t m = tm_vocab_piece(v, ids[i], true, piece, (int32_t)sizeof piece);
        printf("%d\t", ids[i]);
        print_piece(piece, TM_MIN(m, (int32_t)sizeof piece));
        putchar('\n');
    }
    if (st == TM_OK && ids_only)
        putchar('\n');
    tm_free(ids);
    tm_free(input);
    tm_vocab_free(v);
    tm_gguf_close(g);
    if (st != TM_OK)
        return tm_cli_error("%s: %s", model_path, err.msg);
    return 0;
}
