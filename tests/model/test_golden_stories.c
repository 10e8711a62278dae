/* stories260K, a real trained model, against llama2.c's run.c (../shared/golden/stories260K):
 * logits at positions 0-2 and the greedy continuation of four prompts, token for token,
 * with every kernel table, batched and one token at a time. Prompt ids come from the
 * golden files, so this tests the network alone (the tokenizer has its own tests). */
#include "golden.h"

#include <stdlib.h>

#define N_VOCAB 512

static const char *g_model;

static void read_logits_file(float *out)
{
    char *text = tm_test_read_file(tm_test_data("golden/stories260K/logits_full_pos0-2.txt"), NULL);
    if (!text)
        return;
    char *line = text;
    for (int pos = 0; pos < 3; pos++) {
        line = strstr(line, "\npos="); /* the header comment also says "pos=P" */
        TM_CHECK(line != NULL);
        if (!line)
            break;
        line++;
        char *p = strstr(line, "token=");
        strtol(p + 6, &p, 10);
        for (int i = 0; i < N_VOCAB; i++)
            out[pos * N_VOCAB + i] = strtof(p, &p);
        line = p;
    }
    tm_free(text);
}

static void test_logits_of_first_positions(void)
{
    float want[3 * N_VOCAB], got[3 * N_VOCAB];
    read_logits_file(want);
    const tm_token ids[3] = {1, 403, 407};
    const char *tables[8];
    int n_tables = golden_tables(tables, 8);
    for (int t = 0; t < n_tables; t++) {
        for (int one_by_one = 0; one_by_one <= 1; one_by_one++) {
            memset(got, 0, sizeof got);
            if (!golden_eval(g_model, tables[t], false, ids, 3, one_by_one, got))
                continue;
            char label[96];
            snprintf(label, sizeof label, "stories260K pos 0-2, %s, %s", tables[t],
                     one_by_one ? "one by one" : "batched");
            golden_compare(label, got, want, 3 * N_VOCAB, 1e-4, 1e-5);
        }
    }
}

static int read_ids(const char *text, const char *label, tm_token *out, int cap)
{
    const char *p = strstr(text, label);
    if (!p)
        return -1;
    p += strlen(label);
    int n = 0;
    while (n < cap) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        out[n++] = (tm_token)v;
        p = end;
    }
    return n;
}

static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static void greedy_case(int c, const char *kernels)
{
    char rel[64];
    snprintf(rel, sizeof rel, "golden/stories260K/case%d.ids.txt", c);
    char *text = tm_test_read_file(tm_test_data(rel), NULL);
    if (!text)
        return;
    tm_token prompt[64], want[256];
    int n_prompt = read_ids(text, "prompt_ids:", prompt, 64);
    int n_gen = read_ids(text, "generated_ids:", want, 256);
    tm_free(text);
    TM_CHECK(n_prompt >= 1 && n_gen >= 1 && n_prompt + n_gen == 201);

    tm_err err = {0};
    tm_model_params mp = tm_model_params_default();
    mp.kernels = kernels;
    tm_model *model = NULL;
    TM_CHECK_OK(tm_model_load(g_model, &mp, &model, &err), &err);
    tm_session *s = NULL;
    tm_session_params sp = tm_session_params_default();
    sp.kv_type = TM_KV_F32; /* the references were computed with an F32 cache */
    sp.n_threads = 2;
    if (model)
        TM_CHECK_OK(tm_session_create(model, &sp, &s, &err), &err);
    if (!s) {
        tm_model_free(model);
        return;
    }
    float logits[N_VOCAB];
    TM_CHECK_OK(tm_session_eval(s, prompt, n_prompt, logits, false, &err), &err);
    int matched = 0;
    for (int i = 0; i < n_gen; i++) {
        tm_token next = argmax(logits, N_VOCAB);
        if (next != want[i]) {
            TM_CHECK_MSG(false, "case %d (%s): generated token %d is %d, run.c gave %d", c, kernels,
                         i, next, want[i]);
            break;
        }
        matched++;
        if (i + 1 < n_gen)
            TM_CHECK_OK(tm_session_eval(s, &next, 1, logits, false, &err), &err);
    }
    fprintf(stderr, "  case %d, %-6s: %d of %d greedy tokens equal run.c's\n", c, kernels, matched,
            n_gen);
    tm_session_free(s);
    tm_model_free(model);
}

static void test_greedy_continuations(void)
{
    const char *tables[8];
    int n_tables = golden_tables(tables, 8);
    for (int t = 0; t < n_tables; t++)
        for (int c = 1; c <= 4; c++)
            greedy_case(c, tables[t]);
}

int main(void)
{
    g_model = tm_test_data("models/stories260K-f32.v3.gguf");
    static char model_path[1024];
    snprintf(model_path, sizeof model_path, "%s", g_model);
    g_model = model_path;
    TM_RUN(test_logits_of_first_positions);
    TM_RUN(test_greedy_continuations);
    return tm_test_result();
}
