/* Prompt attention on BF16 tiles, the part every x86 table with AVX-512 BF16 shares (included
 * by amx.c and bf16_attn.c): the keys and values of one kv head are put once into BF16 tiles
 * (x512_attn_kv_tiles) that serve every query head of the group and every tile of 16 queries;
 * bf16_attn_tile_run then takes 16 queries through all key blocks of 32: scores S = Q K^T
 * (a hook: AMX tile multiplies, or VDPBF16PS), a softmax update in float (online: the
 * running maximum and sum of each query row, the output rescaled when the maximum grows), then
 * P V (the other hook). The layouts are the AMX ones (tensor.h), which VDPBF16PS reads as
 * well: a row of a key tile holds one dimension pair of 16 keys, a row of a value tile one key
 * pair of 16 dimensions. */
#ifndef TM_KERNELS_BF16_ATTN_H
#define TM_KERNELS_BF16_ATTN_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "x512_exp.h"

/* A cache row's first n values as floats (F16, F32; other types through their reference). */
static inline void row_to_float(uint32_t type, const void *row, int64_t n, float *out)
{
    if (type == TM_DTYPE_F16) {
        for (int64_t i = 0; i < n; i += 16)
            _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(
                                          (const __m256i *)((const uint16_t *)row + i))));
    } else if (type == TM_DTYPE_F32) {
        memcpy(out, row, (size_t)n * sizeof(float));
    } else {
        tm_type_traits_get(type)->to_float(row, out, n);
    }
}

/* Positions pos .. pos + n - 1 (rows k_stride / v_stride bytes apart) into the tiles:
 * key kk at lane kk % 16 of tiles kt + (kk / 16 * head_dim / 32 + s) KiB, row p holding its
 * values 32 s + 2p and + 1; value kk at word kk % 2 of row (kk % 32) / 2 of tiles
 * vt + (kk / 32 * head_dim_v / 16 + e) KiB, lane n: value 16 e + n. */
static void x512_attn_kv_tiles(uint32_t k_type, uint32_t v_type, const void *k_rows,
                               uint64_t k_stride, const void *v_rows, uint64_t v_stride, int64_t n,
                               int64_t pos, int64_t head_dim, int64_t head_dim_v, void *kt,
                               void *vt)
{
    float f[TM_ATTN_TILE_DIM_MAX];
    const __m512i rows16 =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(16));
    for (int64_t i = 0; i < n; i++) {
        int64_t kk = pos + i;
        row_to_float(k_type, (const uint8_t *)k_rows + (uint64_t)i * k_stride, head_dim, f);
        uint8_t *kbase = (uint8_t *)kt + (kk / 16) * (head_dim / 32) * 1024;
        __m512i idx = _mm512_add_epi32(rows16, _mm512_set1_epi32((int)(kk % 16)));
        for (int64_t s = 0; s < head_dim / 32; s++) {
            __m512i pairs = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(f + 32 * s + 16),
                                                         _mm512_loadu_ps(f + 32 * s));
            _mm512_i32scatter_epi32(kbase + s * 1024, idx, pairs, 4);
        }
        row_to_float(v_type, (const uint8_t *)v_rows + (uint64_t)i * v_stride, head_dim_v, f);
        uint8_t *vrow = (uint8_t *)vt + (kk / 32) * (head_dim_v / 16) * 1024 + (kk % 32) / 2 * 64;
        __mmask32 half = kk % 2 ? 0xAAAAAAAAu : 0x55555555u;
        for (int64_t e = 0; e < head_dim_v / 16; e++) {
            __m256i w = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(f + 16 * e));
            __m512i d = _mm512_cvtepu16_epi32(w);
            if (kk % 2)
                d = _mm512_slli_epi32(d, 16);
            _mm512_mask_storeu_epi16(vrow + e * 1024, half, d);
        }
    }
}

/* One call's working set, in the caller thread's TM_ATTN_TILE_SCRATCH bytes. */
typedef struct bf16_tile_ctx {
    const tm_attn_tile_args *a;
    int64_t n_steps, n_vt; /* head_dim / 32 key tiles and head_dim_v / 16 value tiles a block */
    const uint8_t *qt;     /* Q tiles, n_steps KiB: row i of tile s = values 32 s .. of query i */
    float *sbuf;           /* 16 x 32 scores of the block */
    const uint16_t *pt;    /* P tile, 16 x 32 BF16 weights of the block */
    float *obuf;           /* 16 x head_dim_v: the block's P V */
} bf16_tile_ctx;

/* scores(c, kt): sbuf row i = query i against the block's 32 keys (kt: their first tile);
 * pv(c, vt): obuf row i = the block's weights of query i times its values (vt: their first
 * tile). Rows of queries past n_q may hold anything. */
typedef void (*bf16_tile_scores_fn)(const bf16_tile_ctx *c, const uint8_t *kt);
typedef void (*bf16_tile_pv_fn)(const bf16_tile_ctx *c, const uint8_t *vt);

/* 16 queries of one head against the kv head's tiles (tensor.h, tm_attn_tile_args). Inlined
 * into each caller with its hooks, so they are direct calls. */
static inline __attribute__((always_inline)) void
bf16_attn_tile_run(const tm_attn_tile_args *a, bf16_tile_scores_fn scores, bf16_tile_pv_fn pv)
{
    const int64_t D = a->head_dim, Dv = a->head_dim_v, n_steps = D / 32, n_vt = Dv / 16;
    uint8_t *sc = a->scratch;
    uint8_t *qt = sc;                             /* Q tiles, n_steps KiB */
    float *sbuf = (float *)(qt + n_steps * 1024); /* 16 x 32 scores */
    uint16_t *pt = (uint16_t *)(sbuf + 16 * 32);  /* P tile, 16 x 32 BF16 */
    float *obuf = (float *)(pt + 16 * 32);        /* 16 x Dv: one block's P V */
    float *acc = obuf + 16 * Dv;                  /* 16 x Dv: the running output */
    float *row_max = acc + 16 * Dv, *alpha = row_max + 16;
    float *row_sum = alpha + 16; /* 16 lanes a row: summed across once, at the end */
    const bf16_tile_ctx c = {a, n_steps, n_vt, qt, sbuf, pt, obuf};
    /* queries scaled, to BF16 tiles: row i of tile s = values 32 s .. 32 s + 31 of query i */
    for (int i = 0; i < 16; i++)
        for (int64_t s = 0; s < n_steps; s++) {
            __m512 lo = _mm512_setzero_ps(), hi = lo;
            if (i < a->n_q) {
                const float *q = a->q + i * a->q_stride + 32 * s;
                lo = _mm512_mul_ps(_mm512_loadu_ps(q), _mm512_set1_ps(a->scale));
                hi = _mm512_mul_ps(_mm512_loadu_ps(q + 16), _mm512_set1_ps(a->scale));
            }
            _mm512_storeu_si512(qt + s * 1024 + i * 64, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
    for (int i = 0; i < 16; i++) {
        row_max[i] = -INFINITY;
        _mm512_storeu_ps(row_sum + 16 * i, _mm512_setzero_ps());
    }
    memset(acc, 0, (size_t)(16 * Dv) * sizeof *acc);
    /* the keys any query sees: from the first query's window start to the last's position */
    int64_t p_first = a->pos, p_last = a->pos + a->n_q - 1;
    int64_t k_lo = a->window > 0 ? TM_MAX(0, p_first - a->window + 1) : 0;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int64_t k0 = k_lo / 32 * 32; k0 <= p_last; k0 += 32) {
        scores(&c, (const uint8_t *)a->kt + (k0 / 16) * n_steps * 1024);
        /* the softmax update, row by row; keys outside a query's [lo, pos] are -inf */
        for (int i = 0; i < 16; i++) {
            __m512 s0 = _mm512_loadu_ps(sbuf + i * 32), s1 = _mm512_loadu_ps(sbuf + i * 32 + 16);
            if (a->softcap > 0) {
                /* cap tanh(s / cap) = cap (1 - 2 / (e^(2 s / cap) + 1)), through e^-|.| */
                __m512 sv[2] = {s0, s1};
                for (int h = 0; h < 2; h++) {
                    __m512 u = _mm512_mul_ps(sv[h], _mm512_set1_ps(1.0f / a->softcap));
                    __m512 e = exp16_nonpos(_mm512_mul_ps(_mm512_set1_ps(-2.0f), _mm512_abs_ps(u)));
                    __m512 t = _mm512_div_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), e),
                                             _mm512_add_ps(_mm512_set1_ps(1.0f), e));
                    t = _mm512_castsi512_ps(_mm512_or_si512(
                        _mm512_castps_si512(t),
                        _mm512_and_si512(_mm512_castps_si512(u), _mm512_set1_epi32(INT32_MIN))));
                    sv[h] = _mm512_mul_ps(t, _mm512_set1_ps(a->softcap));
                }
                s0 = sv[0];
                s1 = sv[1];
            }
            int64_t pi = a->pos + i, lo = a->window > 0 ? pi - a->window + 1 : 0;
            __m512i k_idx0 = _mm512_add_epi32(lane, _mm512_set1_epi32((int)k0));
            __m512i k_idx1 = _mm512_add_epi32(k_idx0, _mm512_set1_epi32(16));
            __mmask16 m0 =
                _mm512_cmp_epi32_mask(k_idx0, _mm512_set1_epi32((int)pi), _MM_CMPINT_LE) &
                _mm512_cmp_epi32_mask(k_idx0, _mm512_set1_epi32((int)lo), _MM_CMPINT_NLT);
            __mmask16 m1 =
                _mm512_cmp_epi32_mask(k_idx1, _mm512_set1_epi32((int)pi), _MM_CMPINT_LE) &
                _mm512_cmp_epi32_mask(k_idx1, _mm512_set1_epi32((int)lo), _MM_CMPINT_NLT);
            if (i >= a->n_q)
                m0 = m1 = 0;
            const __m512 ninf = _mm512_set1_ps(-INFINITY);
            s0 = _mm512_mask_mov_ps(ninf, m0, s0);
            s1 = _mm512_mask_mov_ps(ninf, m1, s1);
            float m_new = fmaxf(row_max[i], _mm512_reduce_max_ps(_mm512_max_ps(s0, s1)));
            if (m_new == -INFINITY) { /* nothing seen yet: no weights, nothing to rescale */
                alpha[i] = 1.0f;
                _mm512_storeu_si512(pt + i * 32, _mm512_setzero_si512());
                continue;
            }
            /* the running sums rescale only when the maximum grows */
            alpha[i] = m_new == row_max[i]       ? 1.0f
                       : row_max[i] == -INFINITY ? 0.0f
                                                 : expf(row_max[i] - m_new);
            row_max[i] = m_new;
            __m512 mv = _mm512_set1_ps(m_new);
            __m512 p0 = exp16_nonpos(_mm512_sub_ps(s0, mv)),
                   p1 = exp16_nonpos(_mm512_sub_ps(s1, mv));
            _mm512_storeu_ps(row_sum + 16 * i,
                             _mm512_fmadd_ps(_mm512_loadu_ps(row_sum + 16 * i),
                                             _mm512_set1_ps(alpha[i]), _mm512_add_ps(p0, p1)));
            _mm512_storeu_si512(pt + i * 32, (__m512i)_mm512_cvtne2ps_pbh(p1, p0));
        }
        /* P V for the block, then acc = acc alpha + P V */
        pv(&c, (const uint8_t *)a->vt + (k0 / 32) * n_vt * 1024);
        for (int i = 0; i < a->n_q; i++) {
            __m512 al = _mm512_set1_ps(alpha[i]);
            for (int64_t d = 0; d < Dv; d += 16)
                _mm512_storeu_ps(acc + i * Dv + d,
                                 _mm512_fmadd_ps(_mm512_loadu_ps(acc + i * Dv + d), al,
                                                 _mm512_loadu_ps(obuf + i * Dv + d)));
        }
    }
    for (int i = 0; i < a->n_q; i++) {
        float sum = _mm512_reduce_add_ps(_mm512_loadu_ps(row_sum + 16 * i));
        __m512 inv = _mm512_set1_ps(sum > 0 ? 1.0f / sum : 0.0f);
        for (int64_t d = 0; d < Dv; d += 16)
            _mm512_storeu_ps(a->out + i * a->out_stride + d,
                             _mm512_mul_ps(_mm512_loadu_ps(acc + i * Dv + d), inv));
    }
}

#endif
