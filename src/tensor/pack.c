/* The packed weight layout (described in tensor.h): rewriting a group of 16 file rows, reading
 * a row back, and the activation rows the packed GEMM kernels take. Portable C: the layout is
 * ours, the kernels that read it live in kernels/. */
#include "quant.h"

#include <string.h>

bool tm_pack_supported(uint32_t type)
{
    return type == TM_DTYPE_Q4_0 || type == TM_DTYPE_Q8_0 || type == TM_DTYPE_Q4_K ||
           type == TM_DTYPE_Q5_K || type == TM_DTYPE_Q6_K;
}

bool tm_pack_act_is_q8_k(uint32_t type)
{
    return type == TM_DTYPE_Q4_K || type == TM_DTYPE_Q5_K || type == TM_DTYPE_Q6_K;
}

/* Lane r of n consecutive 64-byte vectors at vec: word i of the row (bytes 4i .. 4i + 3 of
 * row) is lane r of vector i. */
static void put_lanes(uint8_t *vec, int r, const uint8_t *row, int n)
{
    for (int i = 0; i < n; i++)
        memcpy(vec + i * 64 + r * 4, row + i * 4, 4);
}

static void get_lanes(const uint8_t *vec, int r, uint8_t *row, int n)
{
    for (int i = 0; i < n; i++)
        memcpy(row + i * 4, vec + i * 64 + r * 4, 4);
}

/* Q4_K and Q5_K share their scales: the 6-bit scales and mins of the 16 rows regrouped so
 * that sub-block j's 16 values sit in 16 consecutive bytes (meta: d[16], dmin[16], then the
 * three 64-byte tables). */
static void pack_scales_mins(uint16_t d, uint16_t dmin, const uint8_t scales[12], int r,
                             uint8_t *meta)
{
    uint16_t *dd = (uint16_t *)meta;
    uint8_t *lo_sc = meta + TM_PACK_KM_LO_SC, *lo_m = meta + TM_PACK_KM_LO_M,
            *hi = meta + TM_PACK_KM_HI;
    dd[r] = d;
    dd[16 + r] = dmin;
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; j++)
        tm_q4k_scale_min(j, scales, &sc[j], &m[j]);
    for (int jj = 0; jj < 4; jj++) {
        lo_sc[jj * 16 + r] = (uint8_t)((sc[jj] & 15) | (sc[jj + 4] & 15) << 4);
        lo_m[jj * 16 + r] = (uint8_t)((m[jj] & 15) | (m[jj + 4] & 15) << 4);
        hi[jj * 16 + r] = (uint8_t)(sc[jj] >> 4 | (sc[jj + 4] >> 4) << 2 | (m[jj] >> 4) << 4 |
                                    (m[jj + 4] >> 4) << 6);
    }
}

static void unpack_scales_mins(const uint8_t *meta, int r, uint16_t *d, uint16_t *dmin,
                               uint8_t scales[12])
{
    const uint16_t *dd = (const uint16_t *)meta;
    *d = dd[r];
    *dmin = dd[16 + r];
    uint8_t sc[8], m[8];
    for (int jj = 0; jj < 4; jj++) {
        uint8_t ls = meta[TM_PACK_KM_LO_SC + jj * 16 + r], lm = meta[TM_PACK_KM_LO_M + jj * 16 + r];
        uint8_t h = meta[TM_PACK_KM_HI + jj * 16 + r];
        sc[jj] = (uint8_t)((ls & 15) | (h & 3) << 4);
        sc[jj + 4] = (uint8_t)((ls >> 4) | (h >> 2 & 3) << 4);
        m[jj] = (uint8_t)((lm & 15) | (h >> 4 & 3) << 4);
        m[jj + 4] = (uint8_t)((lm >> 4) | (h >> 6) << 4);
    }
    tm_q4k_pack_scales(sc, m, scales);
}

/* Q4_K: the scales and mins, then the codes as the file's qs bytes in 4-byte chunks. */
static void pack_q4_k(const tm_block_q4_k *rows, int64_t nb, uint8_t *group)
{
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *sb = group + b * TM_PACK_Q4_K_SB;
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q4_k *blk = &rows[r * nb + b];
            pack_scales_mins(blk->d, blk->dmin, blk->scales, r, sb);
            put_lanes(sb + TM_PACK_Q4_K_QS, r, blk->qs, 32);
        }
    }
}

/* Q5_K: Q4_K's layout with the file's qh bytes in 4-byte chunks (8 vectors) before the qs. */
static void pack_q5_k(const tm_block_q5_k *rows, int64_t nb, uint8_t *group)
{
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *sb = group + b * TM_PACK_Q5_K_SB;
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q5_k *blk = &rows[r * nb + b];
            pack_scales_mins(blk->d, blk->dmin, blk->scales, r, sb);
            put_lanes(sb + TM_PACK_Q5_K_QH, r, blk->qh, 8);
            put_lanes(sb + TM_PACK_Q5_K_QS, r, blk->qs, 32);
        }
    }
}

/* Q6_K: d, the group scales in pairs (2i, 2i + 1) side by side per row, then the file's ql
 * and qh bytes in 4-byte chunks, each vector where tm_pack_q6_k_ql/qh put it. */
static void pack_q6_k(const tm_block_q6_k *rows, int64_t nb, uint8_t *group)
{
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *sb = group + b * TM_PACK_Q6_K_SB;
        uint16_t *d = (uint16_t *)sb;
        int8_t *sc = (int8_t *)(sb + TM_PACK_Q6_K_SC);
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q6_k *blk = &rows[r * nb + b];
            d[r] = blk->d;
            for (int i = 0; i < 8; i++) {
                sc[i * 32 + 2 * r] = blk->scales[2 * i];
                sc[i * 32 + 2 * r + 1] = blk->scales[2 * i + 1];
            }
            for (int p = 0; p < 32; p++)
                memcpy(sb + tm_pack_q6_k_ql(p) + r * 4, blk->ql + p * 4, 4);
            for (int q = 0; q < 16; q++)
                memcpy(sb + tm_pack_q6_k_qh(q) + r * 4, blk->qh + q * 4, 4);
        }
    }
}

static void pack_q4_0(const tm_block_q4_0 *rows, int64_t nb, uint8_t *group)
{
    for (int64_t b = 0; b < nb; b++) {
        uint16_t *d = (uint16_t *)(group + b * TM_PACK_Q4_0_BLOCK);
        uint8_t *qs = group + b * TM_PACK_Q4_0_BLOCK + TM_PACK_CODES;
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q4_0 *blk = &rows[r * nb + b];
            d[r] = blk->d;
            put_lanes(qs, r, blk->qs, 4);
        }
    }
}

static void pack_q8_0(const tm_block_q8_0 *rows, int64_t nb, uint8_t *group)
{
    for (int64_t b = 0; b < nb; b++) {
        uint16_t *d = (uint16_t *)(group + b * TM_PACK_Q8_0_BLOCK);
        uint8_t *qs = group + b * TM_PACK_Q8_0_BLOCK + TM_PACK_CODES;
        for (int r = 0; r < TM_PACK_ROWS; r++) {
            const tm_block_q8_0 *blk = &rows[r * nb + b];
            d[r] = blk->d;
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
    else if (type == TM_DTYPE_Q4_K)
        pack_q4_k(rows, n_cols / TM_QK_K, group);
    else if (type == TM_DTYPE_Q5_K)
        pack_q5_k(rows, n_cols / TM_QK_K, group);
    else if (type == TM_DTYPE_Q6_K)
        pack_q6_k(rows, n_cols / TM_QK_K, group);
    else
        assert(!"tm_pack_group: type without a packed layout");
}

/* Row r of a packed K-quant group back in the file's block layout, one super-block at a time. */
static void unpack_q4_k(const uint8_t *sb, int r, tm_block_q4_k *blk)
{
    unpack_scales_mins(sb, r, &blk->d, &blk->dmin, blk->scales);
    get_lanes(sb + TM_PACK_Q4_K_QS, r, blk->qs, 32);
}

static void unpack_q5_k(const uint8_t *sb, int r, tm_block_q5_k *blk)
{
    unpack_scales_mins(sb, r, &blk->d, &blk->dmin, blk->scales);
    get_lanes(sb + TM_PACK_Q5_K_QH, r, blk->qh, 8);
    get_lanes(sb + TM_PACK_Q5_K_QS, r, blk->qs, 32);
}

static void unpack_q6_k(const uint8_t *sb, int r, tm_block_q6_k *blk)
{
    blk->d = ((const uint16_t *)sb)[r];
    for (int i = 0; i < 8; i++) {
        blk->scales[2 * i] = (int8_t)sb[TM_PACK_Q6_K_SC + i * 32 + 2 * r];
        blk->scales[2 * i + 1] = (int8_t)sb[TM_PACK_Q6_K_SC + i * 32 + 2 * r + 1];
    }
    for (int p = 0; p < 32; p++)
        memcpy(blk->ql + p * 4, sb + tm_pack_q6_k_ql(p) + r * 4, 4);
    for (int q = 0; q < 16; q++)
        memcpy(blk->qh + q * 4, sb + tm_pack_q6_k_qh(q) + r * 4, 4);
}

void tm_pack_row_to_float(uint32_t type, const void *group, int r, int64_t n_cols, float *dst)
{
    int64_t nb = n_cols / 32;
    const uint8_t *g = group;
    if (type == TM_DTYPE_Q4_K || type == TM_DTYPE_Q5_K || type == TM_DTYPE_Q6_K) {
        const tm_type_traits *tr = tm_type_traits_get(type);
        for (int64_t b = 0; b < n_cols / TM_QK_K; b++, dst += TM_QK_K) {
            if (type == TM_DTYPE_Q4_K) {
                tm_block_q4_k blk;
                unpack_q4_k(g + b * TM_PACK_Q4_K_SB, r, &blk);
                tr->to_float(&blk, dst, TM_QK_K);
            } else if (type == TM_DTYPE_Q5_K) {
                tm_block_q5_k blk;
                unpack_q5_k(g + b * TM_PACK_Q5_K_SB, r, &blk);
                tr->to_float(&blk, dst, TM_QK_K);
            } else {
                tm_block_q6_k blk;
                unpack_q6_k(g + b * TM_PACK_Q6_K_SB, r, &blk);
                tr->to_float(&blk, dst, TM_QK_K);
            }
        }
        return;
    }
    if (type == TM_DTYPE_Q4_0) {
        for (int64_t b = 0; b < nb; b++, dst += 32) {
            const uint8_t *blk = g + b * TM_PACK_Q4_0_BLOCK;
            float s = tm_f16_to_f32(((const uint16_t *)blk)[r]);
            for (int v = 0; v < 4; v++)
                for (int j = 0; j < 4; j++) {
                    uint8_t byte = blk[TM_PACK_CODES + v * 64 + r * 4 + j];
                    dst[4 * v + j] = s * (float)((byte & 0xF) - 8);
                    dst[16 + 4 * v + j] = s * (float)((byte >> 4) - 8);
                }
        }
    } else {
        assert(type == TM_DTYPE_Q8_0);
        for (int64_t b = 0; b < nb; b++, dst += 32) {
            const uint8_t *blk = g + b * TM_PACK_Q8_0_BLOCK;
            float s = tm_f16_to_f32(((const uint16_t *)blk)[r]);
            for (int k = 0; k < 32; k++)
                dst[k] = s * (float)((int)blk[TM_PACK_CODES + (k / 4) * 64 + r * 4 + k % 4] - 128);
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
