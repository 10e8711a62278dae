/* Prompt attention on BF16 tiles without AMX: the AVX-512 table's tile slots on CPUs with
 * AVX-512 BF16 (AMD Zen 4 and later, Intel Cooper Lake; dispatch.c checks the flag). The
 * tiles and the softmax are bf16_attn.h's; the two products are VDPBF16PS, which multiplies
 * 16 lanes of BF16 pairs and adds each lane's two products into a float: twice the
 * multiply-adds of a float FMA per instruction. The tile layouts suit it as they are: a key
 * tile row is one dimension pair of 16 keys, so a query's pair broadcast against it gives 16
 * keys' partial scores; a value tile row is one key pair of 16 dimensions, so a pair of
 * weights broadcast against it gives 16 dimensions of the output.
 *
 * Against the float kernels one token at a time, this reads each key and value once per 16
 * queries instead of once per query: prompts at depth stop re-reading the whole cache per
 * token (docs/design.md). */
#include "isa.h"

#include <immintrin.h>

#include "bf16_attn.h"

#define DP_INLINE static inline __attribute__((always_inline))

/* A 32-bit lane of BF16 pairs, broadcast to all 16 lanes. */
DP_INLINE __m512bh pair_broadcast(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return (__m512bh)_mm512_set1_epi32(v);
}

/* Scores of 8 queries (from i0) against the block's two groups of 16 keys: 16 accumulators,
 * each key tile row loaded once for the 8. */
DP_INLINE void scores8(const bf16_tile_ctx *c, const uint8_t *kt, int i0)
{
    __m512 acc[16];
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    const uint8_t *kt1 = kt + c->n_steps * 1024; /* keys 16 .. 31 */
    for (int64_t s = 0; s < c->n_steps; s++) {
        const uint8_t *q = c->qt + s * 1024 + i0 * 64;
        for (int p = 0; p < 16; p++) {
            __m512bh k0 = (__m512bh)_mm512_loadu_si512(kt + s * 1024 + p * 64);
            __m512bh k1 = (__m512bh)_mm512_loadu_si512(kt1 + s * 1024 + p * 64);
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                __m512bh qp = pair_broadcast(q + i * 64 + p * 4);
                acc[2 * i] = _mm512_dpbf16_ps(acc[2 * i], k0, qp);
                acc[2 * i + 1] = _mm512_dpbf16_ps(acc[2 * i + 1], k1, qp);
            }
        }
    }
    for (int i = 0; i < 8; i++) {
        _mm512_storeu_ps(c->sbuf + (i0 + i) * 32, acc[2 * i]);
        _mm512_storeu_ps(c->sbuf + (i0 + i) * 32 + 16, acc[2 * i + 1]);
    }
}

static inline void dp_scores(const bf16_tile_ctx *c, const uint8_t *kt)
{
    for (int i0 = 0; i0 < c->a->n_q; i0 += 8)
        scores8(c, kt, i0);
}

/* P V of 4 queries (from i0) for NE value tiles (16 dims each) from e0: 4 NE accumulators,
 * each value tile row loaded once for the 4. */
DP_INLINE void pv4(const bf16_tile_ctx *c, const uint8_t *vt, int i0, int64_t e0, const int NE)
{
    __m512 acc[16];
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_setzero_ps();
    const uint8_t *p = (const uint8_t *)c->pt + i0 * 64;
    for (int r = 0; r < 16; r++) {
        __m512bh v[4];
#pragma GCC unroll 4
        for (int e = 0; e < NE; e++)
            v[e] = (__m512bh)_mm512_loadu_si512(vt + (e0 + e) * 1024 + r * 64);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            __m512bh w = pair_broadcast(p + i * 64 + r * 4);
#pragma GCC unroll 4
            for (int e = 0; e < NE; e++)
                acc[4 * i + e] = _mm512_dpbf16_ps(acc[4 * i + e], v[e], w);
        }
    }
    const int64_t Dv = c->a->head_dim_v;
    for (int i = 0; i < 4; i++)
        for (int e = 0; e < NE; e++)
            _mm512_storeu_ps(c->obuf + (i0 + i) * Dv + (e0 + e) * 16, acc[4 * i + e]);
}

static inline void dp_pv(const bf16_tile_ctx *c, const uint8_t *vt)
{
    for (int i0 = 0; i0 < c->a->n_q; i0 += 4) {
        int64_t e0 = 0;
        for (; e0 + 4 <= c->n_vt; e0 += 4)
            pv4(c, vt, i0, e0, 4);
        switch (c->n_vt - e0) {
        case 3:
            pv4(c, vt, i0, e0, 3);
            break;
        case 2:
            pv4(c, vt, i0, e0, 2);
            break;
        case 1:
            pv4(c, vt, i0, e0, 1);
            break;
        default:
            break;
        }
    }
}

static void dp_attn_tile(const tm_attn_tile_args *a)
{
    bf16_attn_tile_run(a, dp_scores, dp_pv);
}

void tm_kernels_init_bf16_attn(tm_kernels *k)
{
    k->attn_kv_tiles = x512_attn_kv_tiles;
    k->attn_tile = dp_attn_tile;
}
