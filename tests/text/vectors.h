/* Shared by the tokenizer tests: loading vocabularies from ../shared and running
 * llama.cpp's test-tokenizer-0 vectors (X.gguf.inp / X.gguf.out) against them. */
#ifndef TM_TEST_TEXT_VECTORS_H
#define TM_TEST_TEXT_VECTORS_H

#include "test.h"
#include "text/text.h"

#include <stdlib.h>

#define MAX_IDS 4096

static inline tm_vocab *vocab_gguf(const char *relative)
{
    tm_err err = {0};
    tm_gguf *g = NULL;
    tm_vocab *v = NULL;
    TM_CHECK_OK(tm_gguf_open(tm_test_data(relative), &g, &err), &err);
    if (g)
        TM_CHECK_OK(tm_vocab_from_gguf(g, &v, &err), &err);
    tm_gguf_close(g); /* the vocabulary keeps its own copies */
    return v;
}

static inline tm_vocab *vocab_llama2c(const char *relative)
{
    size_t n = 0;
    char *data = tm_test_read_file(tm_test_data(relative), &n);
    tm_err err = {0};
    tm_vocab *v = NULL;
    if (data)
        TM_CHECK_OK(tm_vocab_from_llama2c(data, n, &v, &err), &err);
    tm_free(data);
    return v;
}

static inline int parse_ids(const char *s, int32_t *ids, int cap)
{
    int n = 0;
    char *end;
    for (;;) {
        long v = strtol(s, &end, 10);
        if (end == s || n == cap)
            break;
        ids[n++] = (int32_t)v;
        s = end;
    }
    return n;
}

static inline bool same_ids(const int32_t *a, int na, const int32_t *b, int nb)
{
    return na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0;
}

/* Splits .inp on the separator and checks each piece against its line of .out. */
static inline void check_vectors(const char *vocab_rel)
{
    tm_vocab *v = vocab_gguf(vocab_rel);
    char inp_rel[256], out_rel[256];
    snprintf(inp_rel, sizeof inp_rel, "%s.inp", vocab_rel);
    snprintf(out_rel, sizeof out_rel, "%s.out", vocab_rel);
    char *inp = tm_test_read_file(tm_test_data(inp_rel), NULL);
    char *out = tm_test_read_file(tm_test_data(out_rel), NULL);
    if (!v || !inp || !out) {
        tm_vocab_free(v);
        tm_free(inp);
        tm_free(out);
        return;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    static int32_t want[MAX_IDS], got[MAX_IDS];
    char *piece = inp, *line = out;
    int n_cases = 0, n_pass = 0;
    for (char *end; (end = strstr(piece, sep)) != NULL; piece = end + strlen(sep)) {
        char *eol = strchr(line, '\n');
        TM_CHECK_MSG(eol != NULL, "%s: fewer .out lines than pieces", vocab_rel);
        if (!eol)
            break;
        *eol = '\0';
        int n_want = parse_ids(line, want, MAX_IDS);
        line = eol + 1;
        int32_t n_got = 0;
        tm_err err = {0};
        TM_CHECK_OK(tm_vocab_encode(v, piece, (size_t)(end - piece), false, false, got, MAX_IDS,
                                    &n_got, &err),
                    &err);
        n_cases++;
        if (same_ids(got, n_got, want, n_want)) {
            n_pass++;
        } else {
            TM_CHECK_MSG(false, "%s: piece %d '%.*s': got %d ids, want %d", vocab_rel, n_cases,
                         (int)TM_MIN(end - piece, 40), piece, n_got, n_want);
            for (int i = 0; i < n_got && i < 20; i++)
                fprintf(stderr, " %d", got[i]);
            fputs(" <- got\n", stderr);
            for (int i = 0; i < n_want && i < 20; i++)
                fprintf(stderr, " %d", want[i]);
            fputs(" <- want\n", stderr);
        }
    }
    fprintf(stderr, "  %s: %d of %d vectors pass\n", vocab_rel, n_pass, n_cases);
    TM_CHECK(n_cases >= 40);
    tm_vocab_free(v);
    tm_free(inp);
    tm_free(out);
}

#endif
