/* The packed weight layout (described in tensor.h): rewriting a group of 16 file rows, reading
 * a row back, and the activation rows the packed GEMM kernels take. Portable C: the layout is
 * ours, the kernels that read it live in kernels/. */
#include "tensor.h"

#include <string.h>

bool tm_pack_supported(uint32_t type)
{
    return type == TM_DTYPE_Q4_0 || type == TM_DTYPE_Q8_0;
}

static void pack_q4_0(const tm_block_q4_0 *rows, int64_t nb, uint8_t *group)
{
    uint16_t *d = (uint16_t *)(group + nb * 256);
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *qs = group + b * 256;
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q4_0 *blk = &rows[r * nb + b];
            d[b * TM_PACK_ROWS + r] = blk->d;
            for (int v = 0; v < 4; v++)
                memcpy(qs + v * 64 + r * 4, blk->qs + v * 4, 4);
        }
    }
}

static void pack_q8_0(const tm_block_q8_0 *rows, int64_t nb, uint8_t *group)
{
    uint16_t *d = (uint16_t *)(group + nb * 512);
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *qs = group + b * 512;
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q8_0 *blk = &rows[r * nb + b];
            d[b * TM_PACK_ROWS + r] = blk->d;
            for (int g = 0; g < 8; g++)
                for (int j = 0; j < 4; j++) /* unsigned: vpdpbusd's first operand */
                    qs[g * 64 + r * 4 + j] = (uint8_t)(blk->qs[g * 4 + j] ^ 0x80);
        }
    }
}

void tm_pack_group(uint32_t type, const void *rows, int64_t n_cols, void *group)
{
    int64_t nb = n_cols / 32;
    if (type == TM_DTYPE_Q4_0)
        pack_q4_0(rows, nb, group);
    else if (type == TM_DTYPE_Q8_0)
        pack_q8_0(rows, nb, group);
    else
        assert(!"tm_pack_group: type without a packed layout");
}

void tm_pack_row_to_float(uint32_t type, const void *group, int r, int64_t n_cols, float *dst)
{
    int64_t nb = n_cols / 32;
    const uint8_t *g = group;
    if (type == TM_DTYPE_Q4_0) {
        const uint16_t *d = (const uint16_t *)(g + nb * 256);
        for (int64_t b = 0; b < nb; b++, dst += 32) {
            float s = tm_f16_to_f32(d[b * TM_PACK_ROWS + r]);
            for (int v = 0; v < 4; v++)
                for (int j = 0; j < 4; j++) {
                    uint8_t byte = g[b * 256 + v * 64 + r * 4 + j];
                    dst[4 * v + j] = s * (float)((byte & 0xF) - 8);
                    dst[16 + 4 * v + j] = s * (float)((byte >> 4) - 8);
                }
        }
    } else {
        assert(type == TM_DTYPE_Q8_0);
        const uint16_t *d = (const uint16_t *)(g + nb * 512);
        for (int64_t b = 0; b < nb; b++, dst += 32) {
            float s = tm_f16_to_f32(d[b * TM_PACK_ROWS + r]);
            for (int k = 0; k < 32; k++)
                dst[k] = s * (float)((int)g[b * 512 + (k / 4) * 64 + r * 4 + k % 4] - 128);
        }
    }
}

uint64_t tm_pack_act_row_bytes(int64_t n_cols)
{
    return (uint64_t)n_cols / 32 * 8 + (uint64_t)n_cols;
}

void tm_pack_act_quantize(tm_from_float_fn quantize_q8_0, const float *x, int64_t n_cols, void *dst)
{
    int64_t nb = n_cols / 32;
    float *d = dst;
    int32_t *neg_sums = (int32_t *)d + nb;
    int8_t *codes = (int8_t *)(neg_sums + nb);
    for (int64_t b = 0; b < nb; b++) {
        tm_block_q8_0 blk;
        quantize_q8_0(x + b * 32, &blk, 32);
        int32_t s = 0;
        for (int j = 0; j < 32; j++)
            s += blk.qs[j];
        d[b] = tm_f16_to_f32(blk.d);
        neg_sums[b] = -s;
        memcpy(codes + b * 32, blk.qs, 32);
    }
}
