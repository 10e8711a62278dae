/* The GGUF reader on real files: versions 1 and 3 of the same model agree value for value
 * and byte for byte, every shared vocabulary and synthetic model opens, typed lookups give
 * clear errors. Hostile files are test_hostile.c's. */
#include "gguf/gguf.h"
#include "test.h"

static tm_gguf *open_shared(const char *relative)
{
    tm_err err = {0};
    tm_gguf *g = NULL;
    TM_CHECK_OK(tm_gguf_open(tm_test_data(relative), &g, &err), &err);
    return g;
}

static void test_stories_v3(void)
{
    tm_gguf *g = open_shared("models/stories260K-f32.v3.gguf");
    if (!g)
        return;
    TM_CHECK_EQ_INT(tm_gguf_version(g), 3);
    TM_CHECK_EQ_INT(tm_gguf_alignment(g), 32);
    TM_CHECK_EQ_INT(tm_gguf_n_tensors(g), 48);
    TM_CHECK_EQ_INT(tm_gguf_n_kv(g), 18);
    TM_CHECK_EQ_INT(tm_gguf_data_offset(g) % 32, 0);

    tm_err err = {0};
    tm_gguf_str arch = {0};
    TM_CHECK_OK(tm_gguf_get_str(g, "general.architecture", &arch, &err), &err);
    TM_CHECK(tm_gguf_str_eq(arch, "llama"));
    uint32_t dim = 0;
    TM_CHECK_OK(tm_gguf_get_u32(g, "llama.embedding_length", &dim, &err), &err);
    TM_CHECK_EQ_INT(dim, 64);
    const tm_gguf_array *tokens = NULL;
    TM_CHECK_OK(tm_gguf_get_arr(g, "tokenizer.ggml.tokens", TM_GGUF_STRING, &tokens, &err), &err);
    if (tokens) {
        TM_CHECK_EQ_INT(tokens->n, 512);
        TM_CHECK(tm_gguf_str_eq(tokens->strs[1], "<s>"));
    }

    const tm_gguf_tensor *emb = tm_gguf_find_tensor(g, "token_embd.weight");
    TM_CHECK(emb != NULL);
    if (emb) {
        TM_CHECK_EQ_INT(emb->type, 0); /* f32 */
        TM_CHECK_EQ_INT(emb->n_dims, 2);
        TM_CHECK_EQ_INT(emb->ne[0], 64);
        TM_CHECK_EQ_INT(emb->ne[1], 512);
        TM_CHECK_EQ_INT(emb->n_bytes, 64 * 512 * 4);
    }
    /* every tensor lies inside the file and is aligned */
    for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        TM_CHECK(t->offset % tm_gguf_alignment(g) == 0);
        TM_CHECK(tm_gguf_data_offset(g) + t->offset + t->n_bytes <= tm_gguf_file_bytes(g));
        TM_CHECK(tm_gguf_find_tensor(g, t->name) == t);
    }
    TM_CHECK(tm_gguf_find_tensor(g, "no.such.tensor") == NULL);
    TM_CHECK(tm_gguf_find_kv(g, "no.such.key") == NULL);
    tm_gguf_close(g);
}

/* The v1 file and its derived v3 copy hold the same keys, values and tensor bytes. */
static void test_v1_equals_v3(void)
{
    tm_gguf *v1 = open_shared("models/tinyllamas-stories-260k-f32.ggufv1.gguf");
    tm_gguf *v3 = open_shared("models/stories260K-f32.v3.gguf");
    if (v1 && v3) {
        TM_CHECK_EQ_INT(tm_gguf_version(v1), 1);
        TM_CHECK_EQ_INT(tm_gguf_n_kv(v1), tm_gguf_n_kv(v3));
        TM_CHECK_EQ_INT(tm_gguf_n_tensors(v1), tm_gguf_n_tensors(v3));
        for (int64_t i = 0; i < tm_gguf_n_kv(v1); i++) {
            const tm_gguf_kv *a = tm_gguf_kv_at(v1, i);
            const tm_gguf_kv *b = tm_gguf_find_kv(v3, a->key);
            TM_CHECK_MSG(b != NULL, "key '%s' missing in v3", a->key);
            if (!b)
                continue;
            TM_CHECK_EQ_INT(a->value.type, b->value.type);
            if (a->value.type == TM_GGUF_STRING)
                TM_CHECK(a->value.v.str.len == b->value.v.str.len &&
                         memcmp(a->value.v.str.ptr, b->value.v.str.ptr, a->value.v.str.len) == 0);
            else if (a->value.type == TM_GGUF_ARRAY)
                TM_CHECK_EQ_INT(a->value.v.arr.n, b->value.v.arr.n);
            else
                TM_CHECK(a->value.v.u64 == b->value.v.u64);
        }
        for (int64_t i = 0; i < tm_gguf_n_tensors(v1); i++) {
            const tm_gguf_tensor *a = tm_gguf_tensor_at(v1, i);
            const tm_gguf_tensor *b = tm_gguf_find_tensor(v3, a->name);
            TM_CHECK_MSG(b != NULL, "tensor '%s' missing in v3", a->name);
            if (b)
                TM_CHECK_MSG(a->n_bytes == b->n_bytes && a->type == b->type &&
                                 memcmp(a->data, b->data, a->n_bytes) == 0,
                             "tensor '%s' differs", a->name);
        }
    }
    tm_gguf_close(v1);
    tm_gguf_close(v3);
}

static void test_every_shared_file_opens(void)
{
    static const struct {
        const char *path;
        int64_t n_tokens;
    } vocabs[] = {
        {"vocab/ggml-vocab-llama-spm.gguf", 32000},     {"vocab/ggml-vocab-phi-3.gguf", 32064},
        {"vocab/ggml-vocab-gpt-2.gguf", 50257},         {"vocab/ggml-vocab-falcon.gguf", 65024},
        {"vocab/ggml-vocab-deepseek-llm.gguf", 102400}, {"vocab/ggml-vocab-bert-bge.gguf", 30522},
        {"vocab/ggml-vocab-baichuan.gguf", 64000},
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(vocabs); i++) {
        tm_gguf *g = open_shared(vocabs[i].path);
        if (!g)
            continue;
        tm_err err = {0};
        const tm_gguf_array *tokens = NULL;
        TM_CHECK_OK(tm_gguf_get_arr(g, "tokenizer.ggml.tokens", TM_GGUF_STRING, &tokens, &err),
                    &err);
        TM_CHECK_MSG(tokens && (int64_t)tokens->n == vocabs[i].n_tokens, "%s: %lld tokens",
                     vocabs[i].path, tokens ? (long long)tokens->n : -1LL);
        TM_CHECK_EQ_INT(tm_gguf_n_tensors(g), 0);
        tm_gguf_close(g);
    }
    static const char *const models[] = {"llama-f32",  "llama3-f32",   "qwen2-f32",
                                         "gemma2-f32", "mixtral-f32",  "bert-f32",
                                         "llama-q4_0", "llama-q4_k_m", "llama-q3_k_m"};
    for (size_t i = 0; i < TM_ARRAY_LEN(models); i++) {
        char path[128];
        snprintf(path, sizeof path, "models/synthetic/%s.gguf", models[i]);
        tm_gguf *g = open_shared(path);
        if (g)
            TM_CHECK_MSG(tm_gguf_n_tensors(g) > 0, "%s has no tensors", path);
        tm_gguf_close(g);
    }
}

static void test_typed_lookup_errors(void)
{
    tm_gguf *g = open_shared("models/stories260K-f32.v3.gguf");
    if (!g)
        return;
    tm_err err = {0};
    uint32_t u = 0;
    TM_CHECK_STATUS(tm_gguf_get_u32(g, "no.such.key", &u, &err), TM_E_FORMAT, &err);
    TM_CHECK(strstr(err.msg, "no.such.key") != NULL);
    TM_CHECK_STATUS(tm_gguf_get_u32(g, "general.architecture", &u, &err), TM_E_FORMAT, &err);
    TM_CHECK(strstr(err.msg, "general.architecture") != NULL && strstr(err.msg, "string"));
    tm_gguf_str s = {0};
    TM_CHECK_STATUS(tm_gguf_get_str(g, "llama.embedding_length", &s, &err), TM_E_FORMAT, &err);
    const tm_gguf_array *a = NULL;
    TM_CHECK_STATUS(tm_gguf_get_arr(g, "tokenizer.ggml.tokens", TM_GGUF_FLOAT32, &a, &err),
                    TM_E_FORMAT, &err);
    TM_CHECK(strstr(err.msg, "array of string") != NULL);
    const tm_gguf_array *scores = NULL;
    TM_CHECK_OK(tm_gguf_get_arr(g, "tokenizer.ggml.scores", TM_GGUF_FLOAT32, &scores, &err), &err);
    if (scores) /* element access widens: an f32 score reads back as the same value */
        TM_CHECK(tm_gguf_arr_f64(scores, 0) == (double)(float)tm_gguf_arr_f64(scores, 0));
    tm_gguf_close(g);
}

static void test_not_gguf(void)
{
    tm_err err = {0};
    tm_gguf *g = NULL;
    TM_CHECK_STATUS(tm_gguf_open_memory("", 0, &g, &err), TM_E_FORMAT, &err);
    TM_CHECK_STATUS(tm_gguf_open_memory("GGML\3\0\0\0", 8, &g, &err), TM_E_FORMAT, &err);
    TM_CHECK(strstr(err.msg, "not a GGUF file") != NULL);
    TM_CHECK_STATUS(tm_gguf_open("/nonexistent/x.gguf", &g, &err), TM_E_IO, &err);
    TM_CHECK(g == NULL);
}

int main(void)
{
    TM_RUN(test_stories_v3);
    TM_RUN(test_v1_equals_v3);
    TM_RUN(test_every_shared_file_opens);
    TM_RUN(test_typed_lookup_errors);
    TM_RUN(test_not_gguf);
    return tm_test_result();
}
