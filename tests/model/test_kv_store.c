/* The KV store's layouts (src/model/kv_store.c): rows put in come out the same whichever way
 * a type lies in memory (F16 keys by dimension, everything else by row), F16 keys really lie
 * by dimension, and a block copy carries its first rows and nothing of the rest. */
#include "model/model.h"
#include "test.h"

#include <string.h>

enum { LAYERS = 2, HEADS = 3, HEAD_DIM = 40, BLOCK = 12, BLOCKS = 4 };

static tm_hparams small_model(void)
{
    tm_hparams hp;
    memset(&hp, 0, sizeof hp);
    hp.n_layer = LAYERS;
    hp.n_head_kv = HEADS;
    hp.head_dim = HEAD_DIM;
    hp.head_dim_v = HEAD_DIM;
    return hp;
}

/* Distinct bytes for every (layer, block, head, row) of keys or values. */
static void pattern(uint8_t *out, uint64_t bytes, int seed)
{
    for (uint64_t i = 0; i < bytes; i++)
        out[i] = (uint8_t)(seed * 131 + i * 7 + i / 256);
}

static void check_type(uint32_t type)
{
    tm_hparams hp = small_model();
    tm_kv_store *s = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_kv_store_create(&hp, type, type, BLOCK, BLOCKS, &s, &err), &err);
    if (!s)
        return;
    TM_CHECK(s->k_by_dim == (type == TM_DTYPE_F16));
    uint64_t kb = s->k_head_bytes * BLOCK, vb = s->v_head_bytes * BLOCK;
    uint8_t *in = tm_malloc((size_t)(kb + vb)), *out = tm_malloc((size_t)(kb + vb));
    for (int keys = 0; keys < 2; keys++)
        for (int32_t il = 0; il < LAYERS; il++)
            for (int32_t b = 0; b < BLOCKS; b++)
                for (int32_t h = 0; h < HEADS; h++) {
                    int seed = ((keys * LAYERS + il) * BLOCKS + b) * HEADS + h;
                    pattern(in, keys ? kb : vb, seed);
                    /* in two pieces, rows 0..4 and 5..11 */
                    uint64_t head = keys ? s->k_head_bytes : s->v_head_bytes;
                    tm_kv_store_put_rows(s, keys, il, b, h, 0, 5, in);
                    tm_kv_store_put_rows(s, keys, il, b, h, 5, BLOCK - 5, in + 5 * head);
                }
    int bad = 0;
    for (int keys = 0; keys < 2; keys++)
        for (int32_t il = 0; il < LAYERS; il++)
            for (int32_t b = 0; b < BLOCKS; b++)
                for (int32_t h = 0; h < HEADS; h++) {
                    int seed = ((keys * LAYERS + il) * BLOCKS + b) * HEADS + h;
                    uint64_t head = keys ? s->k_head_bytes : s->v_head_bytes;
                    pattern(in, keys ? kb : vb, seed);
                    tm_kv_store_get_rows(s, keys, il, b, h, 0, BLOCK, out);
                    bad += memcmp(in, out, (size_t)(head * BLOCK)) != 0;
                    tm_kv_store_get_rows(s, keys, il, b, h, 7, 3, out); /* rows 7..9 */
                    bad += memcmp(in + 7 * head, out, (size_t)(head * 3)) != 0;
                }
    TM_CHECK_MSG(bad == 0, "%s: %d slabs read back differently", tm_dtype_name(type), bad);
    if (s->k_by_dim) { /* value d of row r at d * BLOCK + r of the slab */
        const uint16_t *slab = (const uint16_t *)tm_kv_store_k_slab(s, 1, 2, 1); /* head 1 */
        uint16_t rows[BLOCK * HEAD_DIM];
        tm_kv_store_get_rows(s, true, 1, 2, 1, 0, BLOCK, rows);
        TM_CHECK_EQ_INT(slab[5 * BLOCK + 3], rows[3 * HEAD_DIM + 5]);
        TM_CHECK_EQ_INT(slab[39 * BLOCK + 11], rows[11 * HEAD_DIM + 39]);
    }
    /* block 1's first 7 rows onto block 3: those rows now read as block 1's, the rest as
     * block 3's own */
    tm_kv_store_copy(s, 3, 1, 7);
    bad = 0;
    for (int keys = 0; keys < 2; keys++)
        for (int32_t il = 0; il < LAYERS; il++)
            for (int32_t h = 0; h < HEADS; h++) {
                uint64_t head = keys ? s->k_head_bytes : s->v_head_bytes;
                tm_kv_store_get_rows(s, keys, il, 1, h, 0, 7, in);
                tm_kv_store_get_rows(s, keys, il, 3, h, 0, BLOCK, out);
                bad += memcmp(in, out, (size_t)(head * 7)) != 0;
                pattern(in, keys ? kb : vb, ((keys * LAYERS + il) * BLOCKS + 3) * HEADS + h);
                bad += memcmp(in + 7 * head, out + 7 * head, (size_t)(head * (BLOCK - 7))) != 0;
            }
    TM_CHECK_MSG(bad == 0, "%s: %d slabs wrong after a copy", tm_dtype_name(type), bad);
    tm_free(in);
    tm_free(out);
    tm_kv_store_free(s);
}

static void test_layouts(void)
{
    check_type(TM_DTYPE_F16);
    check_type(TM_DTYPE_F32);
    /* Q8_0 needs heads of whole blocks of 32 */
    tm_hparams hp = small_model();
    hp.head_dim = hp.head_dim_v = 64;
    tm_kv_store *s = NULL;
    tm_err err = {0};
    TM_CHECK_OK(tm_kv_store_create(&hp, TM_DTYPE_Q8_0, TM_DTYPE_F16, BLOCK, 2, &s, &err), &err);
    if (s) {
        TM_CHECK(!s->k_by_dim); /* F16 values stay rows */
        tm_kv_store_free(s);
    }
}

int main(void)
{
    TM_RUN(test_layouts);
    return tm_test_result();
}
