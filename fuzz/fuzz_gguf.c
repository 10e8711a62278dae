/* libFuzzer target for the GGUF reader: any bytes either fail with a message or give a file
 * whose every value and tensor byte can be read. Built with -DTM_FUZZ=ON (clang); the same
 * function replays the checked-in corpus in every test build (tests/gguf/CMakeLists.txt). */
#include "gguf/gguf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t g_sink; /* keeps the reads from being optimised away */

static void walk_array(const tm_gguf_array *a)
{
    for (uint64_t i = 0; i < a->n; i++) {
        if (a->type == TM_GGUF_STRING)
            g_sink += a->strs[i].len ? (uint8_t)a->strs[i].ptr[a->strs[i].len - 1] : 0;
        else if (a->type == TM_GGUF_ARRAY)
            walk_array(&a->arrays[i].v.arr);
        else
            g_sink += (uint64_t)tm_gguf_arr_i64(a, i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tm_err err;
    tm_gguf *g = NULL;
    if (tm_gguf_open_memory(data, size, &g, &err) != TM_OK) {
        if (!err.msg[0]) /* every failure explains itself */
            abort();
        return 0;
    }
    for (int64_t i = 0; i < tm_gguf_n_kv(g); i++) {
        const tm_gguf_kv *kv = tm_gguf_kv_at(g, i);
        g_sink += strlen(kv->key);
        if (kv->value.type == TM_GGUF_ARRAY)
            walk_array(&kv->value.v.arr);
        else if (kv->value.type == TM_GGUF_STRING && kv->value.v.str.len)
            g_sink += (uint8_t)kv->value.v.str.ptr[0];
        if (tm_gguf_find_kv(g, kv->key) != kv)
            abort();
    }
    for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        const uint8_t *p = t->data;
        if (t->n_bytes)
            g_sink += p[0] + p[t->n_bytes - 1];
        if (tm_gguf_find_tensor(g, t->name) != t)
            abort();
    }
    tm_gguf_close(g);
    return 0;
}
