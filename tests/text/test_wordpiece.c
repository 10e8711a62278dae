/* WordPiece (BERT) against llama.cpp's test-tokenizer-0 vectors for the BGE vocabulary,
 * [CLS]/[SEP] around the text when special tokens are added, and [UNK] for words the
 * vocabulary cannot cut. */
#include "vectors.h"

static void test_vectors(void)
{
    check_vectors("vocab/ggml-vocab-bert-bge.gguf");
}

static void test_specials(void)
{
    tm_vocab *v = vocab_gguf("vocab/ggml-vocab-bert-bge.gguf");
    if (!v)
        return;
    int32_t ids[64], n = 0;
    tm_err err = {0};
    TM_CHECK_OK(tm_vocab_encode(v, "Hello, World!", 13, true, false, ids, 64, &n, &err), &err);
    TM_CHECK(n >= 3);
    TM_CHECK_EQ_INT(ids[0], 101);     /* [CLS] */
    TM_CHECK_EQ_INT(ids[n - 1], 102); /* [SEP] */
    /* a word no piece sequence spells is one [UNK] */
    TM_CHECK_OK(tm_vocab_encode(v, "\xf0\x9f\x98\x80", 4, false, false, ids, 64, &n, &err), &err);
    TM_CHECK_EQ_INT(n, 1);
    TM_CHECK_EQ_INT(ids[0], 100);
    /* pieces decode with spaces before word starts */
    char buf[64];
    int32_t m = tm_vocab_piece(v, 7592, false, buf, sizeof buf); /* "▁hello" */
    TM_CHECK(m == 6 && memcmp(buf, " hello", 6) == 0);
    tm_vocab_free(v);
}

int main(void)
{
    TM_RUN(test_vectors);
    TM_RUN(test_specials);
    return tm_test_result();
}
