/* libFuzzer target for the tokenizers: any bytes (invalid UTF-8, text that spells control
 * tokens) encode with and without special-token parsing and every id decodes. SentencePiece
 * (the stories260K tokenizer): plain printable input decodes to itself after the prefix
 * space. Byte-level BPE (GPT-2's vocabulary): every input decodes to itself, byte for byte.
 * The vocabularies come from ../shared (run from the project root); without them, nothing
 * is checked. */
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tm_vocab *g_vocab, *g_bpe; /* loaded once: a fuzz process is one long loop */
static bool g_tried;

static tm_vocab *vocab(void)
{
    if (!g_tried) {
        g_tried = true;
        char *bytes = NULL;
        size_t n = 0;
        if (tm_file_read_all("../shared/models/tok512.bin", 1 << 20, &bytes, &n, NULL) == TM_OK)
            tm_vocab_from_llama2c(bytes, n, &g_vocab, NULL);
        tm_free(bytes);
        tm_gguf *g = NULL;
        if (tm_gguf_open("../shared/vocab/ggml-vocab-gpt-2.gguf", &g, NULL) == TM_OK)
            tm_vocab_from_gguf(g, &g_bpe, NULL);
        tm_gguf_close(g);
    }
    return g_vocab;
}

/* Byte-level BPE spells every byte: decoding gives the input back exactly. */
static void check_bpe(const uint8_t *data, size_t size, int32_t *ids, int32_t cap, char *text)
{
    int32_t n = 0;
    if (!g_bpe ||
        tm_vocab_encode(g_bpe, (const char *)data, size, false, false, ids, cap, &n, NULL) != TM_OK)
        return;
    size_t len = 0;
    for (int32_t i = 0; i < n; i++) {
        int32_t m = tm_vocab_piece(g_bpe, ids[i], true, text + len, (int32_t)(size * 3 + 16 - len));
        if (m < 0 || len + (size_t)m > size)
            abort();
        len += (size_t)m;
    }
    if (len != size || (size && memcmp(text, data, size) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_vocab *v = vocab();
    if (!v || size > 1 << 16)
        return 0;
    int32_t cap = (int32_t)size * 4 + 8, n = 0;
    int32_t *ids = malloc((size_t)cap * sizeof *ids);
    char *text = malloc(size * 3 + 16);
    for (int special = 0; special < 2; special++) {
        if (tm_vocab_encode(v, (const char *)data, size, true, special, ids, cap, &n, NULL) !=
            TM_OK)
            abort(); /* the buffer is large enough for any input */
        size_t len = 0;
        for (int32_t i = 0; i < n; i++) {
            int32_t m =
                tm_vocab_piece(v, ids[i], false, text + len, (int32_t)(size * 3 + 16 - len));
            if (m < 0)
                abort();
            len += (size_t)m;
        }
        /* printable ASCII without spaces round-trips (with the prefix space) when control
         * tokens are not parsed: the check stays off the cases test_spm.c covers */
        bool plain = !special && memchr(data, ' ', size) == NULL;
        for (size_t i = 0; i < size && plain; i++)
            plain = data[i] >= 0x20 && data[i] < 0x7f;
        if (plain && size > 0 && (len != size + 1 || memcmp(text + 1, data, size) != 0))
            abort();
    }
    check_bpe(data, size, ids, cap, text);
    free(ids);
    free(text);
    return 0;
}
