/* Prompt attention on AMX tiles (included by amx.c, which configures the tiles): the shared
 * BF16 tile attention of bf16_attn.h with its two products on the tile unit. Per block of 32
 * keys: S = Q K^T on two C tiles, P V on up to four C tiles at a time. Tiles: 0-3 P V, 4-5 S,
 * 6 Q or P, 7 K or V. */
#ifndef TM_KERNELS_AMX_ATTN_H
#define TM_KERNELS_AMX_ATTN_H

#include "bf16_attn.h"

static inline void amx_tile_scores(const bf16_tile_ctx *c, const uint8_t *kt)
{
    _tile_zero(4);
    _tile_zero(5);
    for (int64_t s = 0; s < c->n_steps; s++) {
        TILE_LOAD(6, c->qt + s * 1024, 64);
        TILE_LOAD(7, kt + s * 1024, 64);
        _tile_dpbf16ps(4, 6, 7);
        TILE_LOAD(7, kt + (c->n_steps + s) * 1024, 64);
        _tile_dpbf16ps(5, 6, 7);
    }
    TILE_STORE(4, c->sbuf, 128);
    TILE_STORE(5, c->sbuf + 16, 128);
}

/* four value tiles (64 dims) at a time */
static inline void amx_tile_pv(const bf16_tile_ctx *c, const uint8_t *vt)
{
    const int64_t n_vt = c->n_vt, Dv = c->a->head_dim_v;
    float *obuf = c->obuf;
    TILE_LOAD(6, c->pt, 64);
    for (int64_t e0 = 0; e0 < n_vt; e0 += 4) {
        int64_t ne = TM_MIN(4, n_vt - e0);
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        TILE_LOAD(7, vt + e0 * 1024, 64);
        _tile_dpbf16ps(0, 6, 7);
        if (ne > 1) {
            TILE_LOAD(7, vt + (e0 + 1) * 1024, 64);
            _tile_dpbf16ps(1, 6, 7);
        }
        if (ne > 2) {
            TILE_LOAD(7, vt + (e0 + 2) * 1024, 64);
            _tile_dpbf16ps(2, 6, 7);
        }
        if (ne > 3) {
            TILE_LOAD(7, vt + (e0 + 3) * 1024, 64);
            _tile_dpbf16ps(3, 6, 7);
        }
        int64_t os = Dv * (int64_t)sizeof(float);
        TILE_STORE(0, obuf + e0 * 16, os);
        if (ne > 1)
            TILE_STORE(1, obuf + (e0 + 1) * 16, os);
        if (ne > 2)
            TILE_STORE(2, obuf + (e0 + 2) * 16, os);
        if (ne > 3)
            TILE_STORE(3, obuf + (e0 + 3) * 16, os);
    }
}

static void amx_attn_tile(const tm_attn_tile_args *a)
{
    tiles_configure();
    bf16_attn_tile_run(a, amx_tile_scores, amx_tile_pv);
    _tile_release();
}

#endif
