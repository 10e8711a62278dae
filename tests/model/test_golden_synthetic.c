/* The llama-family synthetic models of ../shared/models/synthetic against llama.cpp's
 * logits (../shared/golden/synthetic): F32, Llama 3 (rope_freqs, tied output) and every
 * quantized copy, batched and one token at a time, with every kernel table this CPU runs.
 * Quantized models are checked twice: with 8-bit activations against llama.cpp's own
 * logits (its tolerance), and with exact float activations against the logits of the same
 * weights dequantized to F32 (1e-4): the sharp test of every block format. */
#include "golden.h"

#include <stdlib.h>

#define N_TOKENS 48
#define N_VOCAB  512

static const char *const g_models[] = {
    /* clang-format off */
    "llama-f32", "llama3-f32", "qwen2-f32", "qwen3-f32", "phi3-f32", "gemma2-f32", "gemma3-f32",
    "mixtral-f32", "qwen2moe-f32",
    "llama-q8_0", "llama-q4_0", "llama-q4_1", "llama-q5_0", "llama-q5_1",
    "llama-q2_k", "llama-q3_k_m", "llama-q4_k_m", "llama-q5_k_m", "llama-q6_k",
    /* clang-format on */
};

static bool read_floats(const char *rel, float *out, size_t n)
{
    size_t n_bytes = 0;
    char *data = tm_test_read_file(tm_test_data(rel), &n_bytes);
    if (!data)
        return false;
    TM_CHECK_EQ_INT(n_bytes, n * sizeof(float));
    bool ok = n_bytes == n * sizeof(float);
    if (ok)
        memcpy(out, data, n_bytes);
    tm_free(data);
    return ok;
}

static void check_model(const char *name)
{
    char rel[128], path[1024];
    snprintf(rel, sizeof rel, "golden/synthetic/%s.json", name);
    char *json = tm_test_read_file(tm_test_data(rel), NULL);
    if (!json)
        return;
    tm_token ids[N_TOKENS];
    double tol = 0, tol_mean = 0;
    TM_CHECK_EQ_INT(tm_test_json_ints(json, "token_ids", ids, N_TOKENS), N_TOKENS);
    TM_CHECK(tm_test_json_number(json, "tolerance", &tol));
    TM_CHECK(tm_test_json_number(json, "tolerance_mean_abs", &tol_mean));
    bool quantized = strstr(json, "\"dequantized_golden\"") != NULL;
    tm_free(json);

    static float want[N_TOKENS * N_VOCAB], want_dq[N_TOKENS * N_VOCAB], got[N_TOKENS * N_VOCAB];
    snprintf(rel, sizeof rel, "golden/synthetic/%s.f32", name);
    if (!read_floats(rel, want, N_TOKENS * N_VOCAB))
        return;
    if (quantized) {
        snprintf(rel, sizeof rel, "golden/synthetic/%s.dequant.f32", name);
        if (!read_floats(rel, want_dq, N_TOKENS * N_VOCAB))
            return;
    }
    snprintf(rel, sizeof rel, "models/synthetic/%s.gguf", name);
    snprintf(path, sizeof path, "%s", tm_test_data(rel));

    const char *tables[8];
    int n_tables = golden_tables(tables, 8);
    for (int t = 0; t < n_tables; t++) {
        for (int one_by_one = 0; one_by_one <= 1; one_by_one++) {
            char label[128];
            const char *how = one_by_one ? "one by one" : "batched";
            memset(got, 0, sizeof got);
            if (golden_eval(path, tables[t], false, ids, N_TOKENS, one_by_one, got)) {
                snprintf(label, sizeof label, "%s, %s, %s", name, tables[t], how);
                golden_compare(label, got, want, N_TOKENS * N_VOCAB, tol, tol_mean);
            }
            if (!quantized)
                continue;
            memset(got, 0, sizeof got);
            if (golden_eval(path, tables[t], true, ids, N_TOKENS, one_by_one, got)) {
                snprintf(label, sizeof label, "%s, %s, %s, f32 act vs dequant", name, tables[t],
                         how);
                golden_compare(label, got, want_dq, N_TOKENS * N_VOCAB, 1e-4, 1e-5);
            }
        }
    }
}

static void test_every_decoder_model(void)
{
    for (size_t i = 0; i < TM_ARRAY_LEN(g_models); i++)
        check_model(g_models[i]);
}

int main(void)
{
    TM_RUN(test_every_decoder_model);
    return tm_test_result();
}
