/* The SentencePiece tokenizer against independent vectors: llama.cpp's test-tokenizer-0
 * vectors for the Llama 2 and Phi-3 vocabularies, llama2.c's encoder tests (through its
 * tokenizer.bin and through the same vocabulary in GGUF), and the stories260K prompts whose
 * ids llama2.c's run.c produced. */
#include "vectors.h"

static void test_llama_spm_vectors(void)
{
    check_vectors("vocab/ggml-vocab-llama-spm.gguf");
}

static void test_phi3_vectors(void)
{
    check_vectors("vocab/ggml-vocab-phi-3.gguf");
}

/* {"text": "...", "ids": [...]} lines; the texts hold no escapes but \" and \\ and \uXXXX
 * is not used, so a small reader does. BOS is included; llama2.c adds the dummy prefix
 * only to non-empty text, which is also what llama.cpp's rule does. */
static void check_llama2c_tests(tm_vocab *v, const char *label)
{
    char *text = tm_test_read_file(tm_test_data("vocab/llama2c/tokenizer.tests.jsonl"), NULL);
    if (!v || !text) {
        tm_free(text);
        return;
    }
    int n_cases = 0;
    for (char *line = text; *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        char *t = strstr(line, "\"text\"");
        char *ids = strstr(line, "\"ids\"");
        if (t && ids) {
            char buf[1024];
            size_t n = 0;
            char *p = strchr(t + 6, '"') + 1;
            while (*p && *p != '"' && n < sizeof buf - 1) {
                if (*p == '\\') {
                    p++;
                    buf[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                    p++;
                    continue;
                }
                buf[n++] = *p++;
            }
            static int32_t want[MAX_IDS], got[MAX_IDS];
            int n_want = 0;
            for (char *q = strchr(ids, '[') + 1; *q && *q != ']';) {
                char *end;
                long id = strtol(q, &end, 10);
                if (end == q) {
                    q++;
                    continue;
                }
                want[n_want++] = (int32_t)id;
                q = end;
            }
            int32_t n_got = 0;
            tm_err err = {0};
            TM_CHECK_OK(tm_vocab_encode(v, buf, n, true, false, got, MAX_IDS, &n_got, &err), &err);
            TM_CHECK_MSG(same_ids(got, n_got, want, n_want), "%s: '%.*s': %d ids, want %d", label,
                         (int)n, buf, n_got, n_want);
            n_cases++;
        }
        line = eol ? eol + 1 : line + strlen(line);
    }
    TM_CHECK_EQ_INT(n_cases, 5);
    tm_free(text);
}

static void test_llama2c_vectors(void)
{
    tm_vocab *bin = vocab_llama2c("vocab/llama2c/tokenizer.bin");
    tm_vocab *gguf = vocab_gguf("vocab/ggml-vocab-llama-spm.gguf");
    check_llama2c_tests(bin, "tokenizer.bin");
    check_llama2c_tests(gguf, "ggml-vocab-llama-spm.gguf");
    /* the two sources are the same vocabulary, piece for piece */
    if (bin && gguf) {
        TM_CHECK_EQ_INT(tm_vocab_n_tokens(bin), tm_vocab_n_tokens(gguf));
        int differ = 0;
        for (int32_t i = 0; i < tm_vocab_n_tokens(bin) && i < tm_vocab_n_tokens(gguf); i++) {
            size_t na, nb;
            const char *a = tm_vocab_text(bin, i, &na), *b = tm_vocab_text(gguf, i, &nb);
            differ += na != nb || memcmp(a, b, na) != 0 ||
                      tm_vocab_score(bin, i) != tm_vocab_score(gguf, i);
        }
        TM_CHECK_EQ_INT(differ, 0);
    }
    tm_vocab_free(bin);
    tm_vocab_free(gguf);
}

/* The prompt ids run.c printed for the stories260K golden cases. */
static void test_stories_prompts(void)
{
    tm_vocab *vocabs[2] = {vocab_llama2c("models/tok512.bin"),
                           vocab_gguf("models/stories260K-f32.v3.gguf")};
    for (int c = 1; c <= 4; c++) {
        char rel[128];
        snprintf(rel, sizeof rel, "golden/stories260K/case%d.prompt.txt", c);
        size_t n_prompt = 0;
        char *prompt = tm_test_read_file(tm_test_data(rel), &n_prompt);
        snprintf(rel, sizeof rel, "golden/stories260K/case%d.ids.txt", c);
        char *ids = tm_test_read_file(tm_test_data(rel), NULL);
        if (!prompt || !ids) {
            tm_free(prompt);
            tm_free(ids);
            continue;
        }
        static int32_t want[MAX_IDS], got[MAX_IDS];
        int n_want = parse_ids(strstr(ids, "prompt_ids:") + 11, want, MAX_IDS);
        for (int k = 0; k < 2; k++) {
            if (!vocabs[k])
                continue;
            int32_t n_got = 0;
            tm_err err = {0};
            TM_CHECK_OK(tm_vocab_encode(vocabs[k], prompt, n_prompt, true, false, got, MAX_IDS,
                                        &n_got, &err),
                        &err);
            TM_CHECK_MSG(same_ids(got, n_got, want, n_want), "case %d (%s): %d ids, want %d", c,
                         k ? "gguf" : "tok512.bin", n_got, n_want);
        }
        tm_free(prompt);
        tm_free(ids);
    }
    tm_vocab_free(vocabs[0]);
    tm_vocab_free(vocabs[1]);
}

/* decode(encode(text)) gives the text back, with the prefix space the encoder added; bytes
 * that are not UTF-8 survive as byte tokens. */
static void test_round_trip(void)
{
    tm_vocab *v = vocab_gguf("vocab/ggml-vocab-llama-spm.gguf");
    if (!v)
        return;
    static const char *const texts[] = {
        "Hello world", "  leading and  double  spaces ", "日本語のテキスト、全角１２３。",
        "emoji 😊👍🏽 and \t tabs\nnewlines", "x\xffyz\xfe-broken\xc3utf-8\xe2\x82"};
    for (size_t i = 0; i < TM_ARRAY_LEN(texts); i++) {
        static int32_t ids[MAX_IDS];
        int32_t n = 0;
        tm_err err = {0};
        TM_CHECK_OK(
            tm_vocab_encode(v, texts[i], strlen(texts[i]), false, false, ids, MAX_IDS, &n, &err),
            &err);
        char buf[1024];
        size_t len = 0;
        for (int32_t k = 0; k < n; k++) {
            int32_t m = tm_vocab_piece(v, ids[k], false, buf + len, (int32_t)(sizeof buf - len));
            TM_CHECK(m >= 0);
            len += (size_t)m;
        }
        TM_CHECK_MSG(len == strlen(texts[i]) + 1 && buf[0] == ' ' &&
                         memcmp(buf + 1, texts[i], len - 1) == 0,
                     "round trip of '%s'", texts[i]);
    }
    /* a buffer that is too small: the count says how much is needed */
    int32_t ids[4], n = 0;
    tm_err err = {0};
    TM_CHECK_STATUS(tm_vocab_encode(v, "a b c d e f g", 13, true, false, ids, 4, &n, &err),
                    TM_E_LIMIT, &err);
    TM_CHECK(n > 4);
    TM_CHECK_EQ_INT(tm_vocab_piece(v, -1, false, NULL, 0), -1);
    TM_CHECK_EQ_INT(tm_vocab_piece(v, 1, false, NULL, 0), 0); /* <s>: control */
    tm_vocab_free(v);
}

static void test_utf8_stream(void)
{
    tm_utf8_stream s = {{0}, 0};
    char out[16];
    /* "é" = C3 A9 split over two tokens, then an emoji F0 9F 98 8A over three */
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "a\xc3", 2, out), 1);
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "\xa9", 1, out), 2);
    TM_CHECK(memcmp(out, "\xc3\xa9", 2) == 0);
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "\xf0\x9f", 2, out), 0);
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "\x98", 1, out), 0);
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "\x8a!", 2, out), 5);
    /* a broken sequence passes through instead of swallowing text */
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "\xe2x", 2, out), 2);
    TM_CHECK_EQ_INT(tm_utf8_stream_push(&s, "\xe2\x82", 2, out), 0);
    TM_CHECK_EQ_INT(tm_utf8_stream_flush(&s, out), 2);
}

static void test_hostile_vocab(void)
{
    tm_err err = {0};
    tm_vocab *v = NULL;
    /* header only, a record cut short, a negative length, absurd max length */
    static const uint8_t cut[] = {16, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 'a', 'b'};
    static const uint8_t neg[] = {16, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f};
    TM_CHECK_STATUS(tm_vocab_from_llama2c(cut, 4, &v, &err), TM_E_FORMAT, &err);
    TM_CHECK_STATUS(tm_vocab_from_llama2c(cut, sizeof cut, &v, &err), TM_E_FORMAT, &err);
    TM_CHECK_STATUS(tm_vocab_from_llama2c(neg, sizeof neg, &v, &err), TM_E_FORMAT, &err);
    TM_CHECK_STATUS(tm_vocab_from_llama2c(huge, sizeof huge, &v, &err), TM_E_FORMAT, &err);
    TM_CHECK(v == NULL);
    /* byte pieces spelled with a sign are not bytes (strtol took "<0x-2>" as byte -2, an index
     * below byte_id, found by fuzz_llama2c_vocab) */
    static const char *const pieces[] = {"<unk>", "<s>", "</s>", "<0x-2>", "<0x+f>", "<0x41>"};
    uint8_t file[256];
    size_t at = 0;
    int32_t max_len = 6;
    memcpy(file, &max_len, 4);
    at += 4;
    for (size_t i = 0; i < TM_ARRAY_LEN(pieces); i++) {
        float score = 0;
        int32_t len = (int32_t)strlen(pieces[i]);
        memcpy(file + at, &score, 4);
        memcpy(file + at + 4, &len, 4);
        memcpy(file + at + 8, pieces[i], (size_t)len);
        at += 8 + (size_t)len;
    }
    TM_CHECK_OK(tm_vocab_from_llama2c(file, at, &v, &err), &err);
    if (v) {
        char buf[16];
        static const char *const want[] = {"<0x-2>", "<0x+f>", "A"};
        for (int32_t id = 3; id < 6; id++) {
            int32_t n = tm_vocab_piece(v, id, true, buf, sizeof buf);
            TM_CHECK_MSG(n == (int32_t)strlen(want[id - 3]) &&
                             memcmp(buf, want[id - 3], (size_t)n) == 0,
                         "piece %d: '%.*s', want '%s'", id, n > 0 ? n : 0, buf, want[id - 3]);
        }
        tm_vocab_free(v);
        v = NULL;
    }
    /* a GGUF tokenizer we do not support is named */
    const char *path = tm_test_tmp_path("t5-vocab.gguf");
    tm_gguf_writer *w = NULL;
    static const char *const tokens[] = {"<unk>", "a"};
    TM_CHECK_OK(tm_gguf_writer_create(&w, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_str(w, "tokenizer.ggml.model", "t5", &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", tokens, NULL, 2, &err),
                &err);
    TM_CHECK_OK(tm_gguf_writer_begin(w, path, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_finish(w, &err), &err);
    tm_gguf_writer_free(w);
    tm_gguf *g = NULL;
    TM_CHECK_OK(tm_gguf_open(path, &g, &err), &err);
    if (g) {
        TM_CHECK_STATUS(tm_vocab_from_gguf(g, &v, &err), TM_E_UNSUPPORTED, &err);
        TM_CHECK(strstr(err.msg, "'t5'") != NULL);
    }
    tm_gguf_close(g);
    remove(path);
}

int main(void)
{
    TM_RUN(test_llama_spm_vectors);
    TM_RUN(test_phi3_vectors);
    TM_RUN(test_llama2c_vectors);
    TM_RUN(test_stories_prompts);
    TM_RUN(test_round_trip);
    TM_RUN(test_utf8_stream);
    TM_RUN(test_hostile_vocab);
    return tm_test_result();
}
