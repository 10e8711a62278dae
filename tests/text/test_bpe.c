/* Byte-level BPE against llama.cpp's test-tokenizer-0 vectors for every byte-level
 * vocabulary in ../shared/vocab (each with its family's pre-tokenizer), round trips, and
 * the tokens-to-text direction. */
#include "vectors.h"

static void test_vectors(void)
{
    static const char *const vocabs[] = {
        "vocab/ggml-vocab-gpt-2.gguf",        "vocab/ggml-vocab-falcon.gguf",
        "vocab/ggml-vocab-mpt.gguf",          "vocab/ggml-vocab-starcoder.gguf",
        "vocab/ggml-vocab-refact.gguf",       "vocab/ggml-vocab-deepseek-coder.gguf",
        "vocab/ggml-vocab-deepseek-llm.gguf",
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(vocabs); i++)
        check_vectors(vocabs[i]);
}

/* Decoding gives back the exact bytes, whatever they are (the byte alphabet covers all). */
static void test_round_trip(void)
{
    tm_vocab *v = vocab_gguf("vocab/ggml-vocab-gpt-2.gguf");
    if (!v)
        return;
    static const char *const texts[] = {"Hello world",
                                        "  two  spaces\tand\ttabs\n\nnew lines ",
                                        "日本語のテキスト、全角１２３。",
                                        "emoji 😊👍🏽",
                                        "\xff\xfe broken \xc3 utf-8 \xe2\x82",
                                        "it's <|endoftext|> here"};
    for (size_t i = 0; i < TM_ARRAY_LEN(texts); i++) {
        static int32_t ids[MAX_IDS];
        int32_t n = 0;
        tm_err err = {0};
        size_t len = strlen(texts[i]);
        TM_CHECK_OK(tm_vocab_encode(v, texts[i], len, false, false, ids, MAX_IDS, &n, &err), &err);
        char buf[1024];
        size_t out = 0;
        for (int32_t k = 0; k < n; k++) {
            int32_t m = tm_vocab_piece(v, ids[k], true, buf + out, (int32_t)(sizeof buf - out));
            TM_CHECK(m >= 0);
            out += (size_t)m;
        }
        TM_CHECK_MSG(out == len && memcmp(buf, texts[i], len) == 0, "round trip of '%s'", texts[i]);
    }
    /* parse_special: the control token is one id; without it, the text is plain text */
    int32_t ids[64], n = 0;
    tm_err err = {0};
    const char *t = "a<|endoftext|>b";
    TM_CHECK_OK(tm_vocab_encode(v, t, strlen(t), false, true, ids, 64, &n, &err), &err);
    TM_CHECK(n == 3 && ids[1] == 50256);
    tm_vocab_free(v);
}

int main(void)
{
    TM_RUN(test_vectors);
    TM_RUN(test_round_trip);
    return tm_test_result();
}
