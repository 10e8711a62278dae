/* libFuzzer target for the prompt cache header (src/engine/kv_file.c): any bytes either fail
 * with a message or give a header whose sizes add up without overflow and that writes back
 * to the same bytes. The body after it is read only in the sizes this header fixes, checked
 * against the session before a byte of it is believed (tests/engine/test_kv_cache.c feeds
 * truncated and corrupted files through tm_session_load). */
#include "engine/engine.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_err err;
    memset(&err, 0, sizeof err);
    tm_kv_file_header h;
    if (tm_kv_file_header_parse(data, size, &h, &err) != TM_OK) {
        if (err.msg[0] == '\0')
            abort(); /* every failure says why */
        return 0;
    }
    uint64_t bytes = 0;
    if (!tm_kv_file_bytes(&h, &bytes) || bytes != h.file_bytes ||
        bytes < TM_KV_FILE_HEADER_BYTES + 32 + 4ull * h.n_tokens)
        abort();
    uint8_t again[TM_KV_FILE_HEADER_BYTES];
    tm_kv_file_header_write(&h, again);
    if (memcmp(again, data, TM_KV_FILE_HEADER_BYTES) != 0)
        abort();
    return 0;
}
