/* libFuzzer target for Hugging Face tokenizer.json conversion: any bytes are rejected with a
 * message or give tokenizer metadata. The input is tokenizer.json; a fixed
 * tokenizer_config.json names the special tokens. */
#include "gguf/gguf.h"
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char config[] =
        "{\"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"},"
        " \"chat_template\": \"{{ bos_token }}\", \"add_bos_token\": true}";
    tm_err err;
    tm_gguf_writer *w = NULL;
    if (tm_gguf_writer_create(&w, &err) != TM_OK)
        abort();
    if (tm_hf_tokenizer_to_gguf((const char *)data, size, config, sizeof config - 1, w, &err) !=
            TM_OK &&
        !err.msg[0])
        abort();
    tm_gguf_writer_free(w);
    return 0;
}
