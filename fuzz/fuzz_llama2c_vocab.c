/* libFuzzer target for llama2.c's tokenizer.bin reader: any bytes are rejected with a
 * message or give a vocabulary that encodes and decodes. */
#include "text/text.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_err err;
    tm_vocab *v = NULL;
    if (tm_vocab_from_llama2c(data, size, &v, &err) != TM_OK) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    int32_t ids[64], n = 0;
    static const char text[] = "Hello world, \xe6\x97\xa5\xe6\x9c\xac <s> \xff";
    tm_vocab_encode(v, text, sizeof text - 1, true, true, ids, 64, &n, NULL);
    char buf[64];
    for (int32_t id = 0; id < tm_vocab_n_tokens(v); id++)
        if (tm_vocab_piece(v, id, true, buf, sizeof buf) < 0)
            abort();
    tm_vocab_free(v);
    return 0;
}
