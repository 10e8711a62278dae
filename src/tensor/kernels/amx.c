/* The AMX table: the AVX-512 table (dispatch.c fills it first), plus prompt-sized products of
 * packed weights on AMX tiles.
 *
 * Why BF16 tiles and not INT8: one tile multiply (TDPBF16PS or TDPBUSD, 16 x 16 outputs)
 * takes 16 cycles whatever its depth; measured here, 1.56 TMAC/s per core for BF16 at depth
 * 32 and for INT8 at depth 32, 3.1 TMAC/s for INT8 at depth 64. GGUF blocks scale every 32
 * (or 16) columns, so an INT8 product can go no deeper than 32 before each of its 256
 * integer sums needs converting and scaling: three vector instructions per 16 outputs per
 * 32 columns, more than the tile unit's time. With BF16 the scales are applied once per
 * weight instead, when a panel of weights is decoded to BF16, and that panel then serves
 * every token of the batch; the sums are float from the first column to the last.
 *
 * A weight rounded to BF16 (8 significant bits) moves by at most 2^-9 of itself, an
 * activation likewise; the Q8_0 activations of the other tables lose up to 2^-8 of their
 * block's largest value. Sums are in float. */
#include "isa.h"

#include <immintrin.h>
#include <string.h>

/* ---- tiles ---------------------------------------------------------------------------------
 * Tiles 0-3 accumulate C[i][j] = A[i] x B[j]: A[i] (tiles 4, 5) are 16 tokens x 32 columns of
 * BF16 activations, B[j] (tiles 6, 7) 16 column pairs x 16 weight rows (the pair layout:
 * lane r of B row p holds columns 2p and 2p + 1 of weight row r). Every tile is 16 rows of
 * 64 bytes. */
typedef struct tile_config {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* Through inline assembly naming the whole 64 bytes: GCC 12's _tile_loadconfig declares an
 * 8-byte operand, and the stores that fill the rest can then be dropped as dead. */
static void tiles_configure(void)
{
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 8; i++) {
        c.rows[i] = 16;
        c.colsb[i] = 64;
    }
    __asm__ volatile("ldtilecfg %0" : : "m"(c));
}

/* Tile loads and stores in inline assembly: GCC 12's intrinsics pass the stride as a long (32
 * bits on Windows, not a valid index register) and tell the compiler nothing of the memory
 * they read or write, so it could move the stores that fill a panel past the tile load that
 * reads it. */
#define TILE_LOAD(t, base, stride)                       \
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t     \
                     :                                   \
                     : "r"(base), "r"((int64_t)(stride)) \
                     : "memory")
#define TILE_STORE(t, base, stride)                      \
    __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" \
                     :                                   \
                     : "r"(base), "r"((int64_t)(stride)) \
                     : "memory")

#define STEP_BYTES 1024 /* one B tile: 32 columns of 16 rows in BF16 */
static_assert(TM_GEMM_BF16_COLS % TM_QK_K == 0 && TM_GEMM_BF16_ROWS % 32 == 0,
              "chunks of whole super-blocks, blocks of group pairs");

/* One B row from the floats of column pair (a, b) of the 16 rows: the pairs interleaved. */
static inline void store_pair(uint8_t *dst, __m512 a, __m512 b, __m512i interleave)
{
    __m512i ab = (__m512i)_mm512_cvtne2ps_pbh(b, a); /* words 0-15 from a, 16-31 from b */
    _mm512_storeu_si512(dst, _mm512_permutexvar_epi16(interleave, ab));
}

static inline __m512i pair_interleave(void)
{
    uint16_t idx[32];
    for (int i = 0; i < 16; i++) {
        idx[2 * i] = (uint16_t)i;
        idx[2 * i + 1] = (uint16_t)(16 + i);
    }
    return _mm512_loadu_si512(idx);
}

/* 4-bit codes to floats: vpermps reads only the low 4 bits of each lane's index, so the
 * nibble needs a shift but no mask. */
static inline __m512 nibble(__m512i x, int shift, __m512 table)
{
    return _mm512_permutexvar_ps(shift ? _mm512_srli_epi32(x, shift) : x, table);
}

static inline __m512 float_table(float first)
{
    float t[16];
    for (int i = 0; i < 16; i++)
        t[i] = first + (float)i;
    return _mm512_loadu_ps(t);
}

/* ---- panels: columns c .. c + 31 (c a multiple of 32) of one packed group as a B tile ---- */

/* Q4_0: after block b's scales, its vector v, lane r, byte j: columns 4v + j (low nibble) and 16 +
 * 4v + j (high) of row r; B row p < 8 takes bytes 2(p % 2), +1 of vector p / 2 (low nibbles), row
 * 8 + p the same bytes' high nibbles. w = d (q - 8). */
static void panel_q4_0(const uint8_t *group, int64_t n_cols, int64_t c, uint8_t *out)
{
    (void)n_cols;
    const __m512 table = float_table(-8.0f);
    const __m512i inter = pair_interleave();
    const uint8_t *blk = group + c / 32 * TM_PACK_Q4_0_BLOCK, *qs = blk + TM_PACK_CODES;
    __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
    for (int v = 0; v < 4; v++) {
        __m512i x = _mm512_loadu_si512(qs + v * 64);
        for (int h = 0; h < 2; h++) { /* bytes 2h, 2h + 1 */
            int sh = 16 * h;
            store_pair(out + (2 * v + h) * 64, _mm512_mul_ps(nibble(x, sh, table), d),
                       _mm512_mul_ps(nibble(x, sh + 8, table), d), inter);
            store_pair(out + (8 + 2 * v + h) * 64, _mm512_mul_ps(nibble(x, sh + 4, table), d),
                       _mm512_mul_ps(nibble(x, sh + 12, table), d), inter);
        }
    }
}

/* Q8_0: after the scales, vector g, lane r, byte j: column 4g + j of row r, plus 128; B row p takes
 * bytes 2(p % 2), +1 of vector p / 2. w = d (u - 128). */
static void panel_q8_0(const uint8_t *group, int64_t n_cols, int64_t c, uint8_t *out)
{
    (void)n_cols;
    const __m512i byte = _mm512_set1_epi32(0xFF), half = _mm512_set1_epi32(128),
                  inter = pair_interleave();
    const uint8_t *blk = group + c / 32 * TM_PACK_Q8_0_BLOCK, *qs = blk + TM_PACK_CODES;
    __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)blk));
    for (int p = 0; p < 16; p++) {
        __m512i x = _mm512_loadu_si512(qs + (p / 2) * 64);
        int sh = 16 * (p % 2);
        __m512i u0 = _mm512_and_si512(sh ? _mm512_srli_epi32(x, sh) : x, byte);
        __m512i u1 =
            sh ? _mm512_srli_epi32(x, 24) : _mm512_and_si512(_mm512_srli_epi32(x, 8), byte);
        store_pair(out + p * 64, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(u0, half)), d),
                   _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(u1, half)), d), inter);
    }
}

/* The 16 B rows of a Q4_K sub-block from its 8 vectors, nibbles at bit hi (0 or 4). */
static inline __attribute__((always_inline)) void q4_k_rows(const int hi, const uint8_t *qs,
                                                            __m512 table, __m512 scale,
                                                            __m512 neg_min, __m512i inter,
                                                            uint8_t *out)
{
    for (int q = 0; q < 16; q++) { /* columns 2q, 2q + 1: vector q / 2, bytes 2 (q % 2) */
        __m512i x = _mm512_loadu_si512(qs + (q / 2) * 64);
        int sh = 16 * (q % 2) + hi;
        store_pair(out + q * 64, _mm512_fmadd_ps(nibble(x, sh, table), scale, neg_min),
                   _mm512_fmadd_ps(nibble(x, sh + 8, table), scale, neg_min), inter);
    }
}

/* Q4_K: after the scales, super-block vector p, lane r, byte j = qs[4p + j] of row r; sub-block s
 * (32 columns) is the low (even s) or high (odd s) nibbles of vectors 8 (s / 2) .. + 7, column 4 (p
 * % 8) + j. w = d sc q - dmin m. */
static void panel_q4_k(const uint8_t *group, int64_t n_cols, int64_t c, uint8_t *out)
{
    (void)n_cols;
    const __m512 table = float_table(0.0f);
    const __m512i inter = pair_interleave();
    const __m128i low = _mm_set1_epi8(0x0F), two = _mm_set1_epi8(3);
    const uint8_t *sb = group + c / TM_QK_K * TM_PACK_Q4_K_SB;
    int s = (int)(c % TM_QK_K / 32), jj = s & 3;
    __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)sb));
    __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sb + TM_PACK_KM_DMIN)));
    __m128i ls = _mm_loadu_si128((const __m128i *)(sb + TM_PACK_KM_LO_SC + jj * 16));
    __m128i lm = _mm_loadu_si128((const __m128i *)(sb + TM_PACK_KM_LO_M + jj * 16));
    __m128i hb = _mm_loadu_si128((const __m128i *)(sb + TM_PACK_KM_HI + jj * 16));
    if (s >> 2) {
        ls = _mm_srli_epi16(ls, 4);
        lm = _mm_srli_epi16(lm, 4);
        hb = _mm_srli_epi16(hb, 2);
    }
    __m128i sc = _mm_or_si128(_mm_and_si128(ls, low), _mm_slli_epi16(_mm_and_si128(hb, two), 4));
    __m128i m = _mm_or_si128(_mm_and_si128(lm, low),
                             _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 4), two), 4));
    __m512 scale = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc)));
    __m512 neg_min = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), dmin),
                                   _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(m)));
    const uint8_t *qs = sb + TM_PACK_Q4_K_QS + (s >> 1) * 8 * 64;
    if (s & 1) /* the high nibbles: shifts fixed at compile time either way */
        q4_k_rows(4, qs, table, scale, neg_min, inter, out);
    else
        q4_k_rows(0, qs, table, scale, neg_min, inter, out);
}

/* Q6_K: d, the scale pairs, then ql and qh vectors in reading order (tensor.h). Quarter s (32
 * columns, half h = s / 4, w = s % 4) of a super-block: column 128 h + 32 w + l has its low
 * nibble in ql byte 64 h + 32 (w % 2) + l (high nibble for w >= 2) and its top two bits at
 * bit 2 w of qh byte 32 h + l; group (16 columns) 8 h + 2 w + l / 16. w = d sc (q - 32). */
/* The 16 B rows of quarter s (a constant: every shift below is one) of a Q6_K super-block. */
static inline __attribute__((always_inline)) void q6_k_rows(const int s, const uint8_t *sb,
                                                            __m512 dw, uint8_t *out)
{
    const __m512i inter = pair_interleave(), low = _mm512_set1_epi32(0x0F),
                  top = _mm512_set1_epi32(0x30), c32 = _mm512_set1_epi32(32);
    const int h = s / 4, w = s % 4;
    /* the scale pair (2i, 2i + 1), i = 4 h + w: groups of columns l < 16 and l >= 16 */
    __m512i sp = _mm512_cvtepi8_epi16(
        _mm256_loadu_si256((const __m256i *)(sb + TM_PACK_Q6_K_SC + (4 * h + w) * 32)));
    __m512 sc0 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(sp, 16), 16));
    __m512 sc1 = _mm512_cvtepi32_ps(_mm512_srai_epi32(sp, 16));
    __m512 scale[2] = {_mm512_mul_ps(dw, sc0), _mm512_mul_ps(dw, sc1)};
#pragma GCC unroll 16
    for (int q = 0; q < 16; q++) { /* columns l = 2q, 2q + 1 */
        int l = 2 * q, lb = 64 * h + 32 * (w % 2) + l, hb = 32 * h + l;
        __m512i xl = _mm512_loadu_si512(sb + tm_pack_q6_k_ql(lb / 4));
        __m512i xh = _mm512_loadu_si512(sb + tm_pack_q6_k_qh(hb / 4));
        __m512 f[2];
        for (int e = 0; e < 2; e++) {
            int bl = 8 * ((lb + e) % 4) + (w >= 2 ? 4 : 0); /* bit of the low nibble */
            int bh = 8 * ((hb + e) % 4) + 2 * w;            /* bit of the top pair */
            __m512i lo = _mm512_and_si512(_mm512_srli_epi32(xl, bl), low);
            __m512i hi = bh >= 4 ? _mm512_srli_epi32(xh, bh - 4) : _mm512_slli_epi32(xh, 4 - bh);
            __m512i code = _mm512_or_si512(lo, _mm512_and_si512(hi, top));
            f[e] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(code, c32)), scale[l >= 16]);
        }
        store_pair(out + q * 64, f[0], f[1], inter);
    }
}

static void panel_q6_k(const uint8_t *group, int64_t n_cols, int64_t c, uint8_t *out)
{
    (void)n_cols;
    const uint8_t *sb = group + c / TM_QK_K * TM_PACK_Q6_K_SB;
    __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)sb));
    switch ((int)(c % TM_QK_K / 32)) {
    case 0:
        q6_k_rows(0, sb, dw, out);
        break;
    case 1:
        q6_k_rows(1, sb, dw, out);
        break;
    case 2:
        q6_k_rows(2, sb, dw, out);
        break;
    case 3:
        q6_k_rows(3, sb, dw, out);
        break;
    case 4:
        q6_k_rows(4, sb, dw, out);
        break;
    case 5:
        q6_k_rows(5, sb, dw, out);
        break;
    case 6:
        q6_k_rows(6, sb, dw, out);
        break;
    default:
        q6_k_rows(7, sb, dw, out);
        break;
    }
}

#include "amx_attn.h" /* the attention kernels; exp16_nonpos (x512_exp.h) */

/* ---- the product -------------------------------------------------------------------------- */

typedef void (*panel_fn)(const uint8_t *group, int64_t n_cols, int64_t c, uint8_t *out);

/* The panels of the next group pair, decoded a few steps at a time between the tile blocks
 * of the current one: the vector units decode while the tile unit multiplies. */
typedef struct panel_work {
    panel_fn fn;
    const uint8_t *group[2];
    uint8_t *out[2];
    int n_groups;       /* 0: nothing to decode */
    int64_t n_cols, c0; /* the chunk's first column */
    int n_steps, done;  /* steps per group; pieces (one group's step) decoded so far */
} panel_work;

static inline void panel_work_run(panel_work *w, int pieces)
{
    int total = w->n_groups * w->n_steps;
    for (; pieces > 0 && w->done < total; pieces--, w->done++) {
        int g = w->done / w->n_steps, s = w->done % w->n_steps;
        w->fn(w->group[g], w->n_cols, w->c0 + 32 * s, w->out[g] + s * STEP_BYTES);
    }
}

/* C tiles of n_a token tiles by n_b groups over n_steps column steps. a: the first token
 * tile's activation tiles at the chunk's first step (the second's a_stride bytes on); p: the
 * first group's panel (the second's p_stride bytes on); c: the first C tile in the block's
 * buffer (token tile i, group j at c + (i * c_groups + j) * 256 floats). load_c: start from
 * the buffer, else from zero; y: store to y instead (the last chunk of full token tiles). */
static inline __attribute__((always_inline)) void
tile_block(const int n_a, const int n_b, bool load_c, int64_t n_steps, const uint8_t *a,
           int64_t a_stride, const uint8_t *p, int64_t p_stride, float *c, int64_t c_groups,
           float *y, int64_t y_stride)
{
    float *c00 = c, *c01 = c + 256, *c10 = c + c_groups * 256, *c11 = c10 + 256;
    if (load_c) {
        TILE_LOAD(0, c00, 64);
        if (n_b == 2)
            TILE_LOAD(1, c01, 64);
        if (n_a == 2) {
            TILE_LOAD(2, c10, 64);
            if (n_b == 2)
                TILE_LOAD(3, c11, 64);
        }
    } else {
        _tile_zero(0);
        if (n_b == 2)
            _tile_zero(1);
        if (n_a == 2) {
            _tile_zero(2);
            if (n_b == 2)
                _tile_zero(3);
        }
    }
    const uint8_t *a1 = a + a_stride, *p1 = p + p_stride;
    for (int64_t s = 0; s < n_steps; s++) {
        TILE_LOAD(4, a + s * STEP_BYTES, 64);
        TILE_LOAD(6, p + s * STEP_BYTES, 64);
        if (n_b == 2)
            TILE_LOAD(7, p1 + s * STEP_BYTES, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (n_b == 2)
            _tile_dpbf16ps(1, 4, 7);
        if (n_a == 2) {
            TILE_LOAD(5, a1 + s * STEP_BYTES, 64);
            _tile_dpbf16ps(2, 5, 6);
            if (n_b == 2)
                _tile_dpbf16ps(3, 5, 7);
        }
    }
    if (y) {
        const int64_t ys = y_stride * (int64_t)sizeof(float);
        TILE_STORE(0, y, ys);
        if (n_b == 2)
            TILE_STORE(1, y + 16, ys);
        if (n_a == 2) {
            TILE_STORE(2, y + 16 * y_stride, ys);
            if (n_b == 2)
                TILE_STORE(3, y + 16 * y_stride + 16, ys);
        }
        return;
    }
    TILE_STORE(0, c00, 64);
    if (n_b == 2)
        TILE_STORE(1, c01, 64);
    if (n_a == 2) {
        TILE_STORE(2, c10, 64);
        if (n_b == 2)
            TILE_STORE(3, c11, 64);
    }
}

/* act(gate) * up on 16 lanes, through e = exp(-|u|) <= 1 (x86_act.h's forms, 512 bits):
 * SiLU g sigmoid(g); GELU (tanh) g sigmoid(2u), u = sqrt(2 / pi) (g + 0.044715 g^3). */
static inline __m512 glu16(int act, __m512 g, __m512 u)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 x = g;
    if (act == TM_GLU_GELU)
        x = _mm512_mul_ps(
            _mm512_set1_ps(2 * 0.7978845608028654f),
            _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), g), _mm512_mul_ps(g, g), g));
    __m512 e = exp16_nonpos(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    /* 1 / (1 + e) to 14 bits: the result is rounded to BF16's 8 */
    __m512 sig =
        _mm512_mul_ps(_mm512_mask_mov_ps(one, neg, e), _mm512_rcp14_ps(_mm512_add_ps(one, e)));
    return _mm512_mul_ps(_mm512_mul_ps(g, sig), u);
}

/* The epilogue of a fused gate-and-up product: C tiles of gate and up sums (16 tokens x 16
 * rows each, 64 bytes a row) to act(gate) * up, as BF16 into the next product's tiles: token
 * t0 + r, columns col .. col + 15. */
static void glu_store(const tm_gemm_glu *o, const float *gate, const float *up, int64_t t0,
                      int64_t col)
{
    for (int r = 0; r < 16; r++) {
        __m512 v = glu16(o->act, _mm512_loadu_ps(gate + r * 16), _mm512_loadu_ps(up + r * 16));
        uint8_t *dst = (uint8_t *)o->tiles +
                       tm_bf16_tile_offset(o->n_cols, o->n_tiles, t0 + r, col & ~(int64_t)31) +
                       (col & 31) * 2;
        _mm256_storeu_si256((__m256i *)dst, (__m256i)_mm512_cvtneps_pbh(v));
    }
}

/* Every token tile, in pairs, against n_b (1 or 2) groups; between tile blocks, a share of
 * the next panels' decoding. glu: the pair is (gate, up); the last chunk's sums go through
 * the buffer to glu_store (column col) instead of y. */
static inline __attribute__((always_inline)) void
tokens_pass(const int n_b, bool load_c, bool last, int64_t n_steps, const uint8_t *a,
            int64_t a_stride, int64_t n_tiles, int64_t full, const uint8_t *p, int64_t p_stride,
            float *c, int64_t c_groups, float *y, int64_t y_stride, panel_work *next,
            const tm_gemm_glu *glu, int64_t col)
{
    int64_t n_blocks = (n_tiles + 1) / 2;
    int share = (int)((next->n_groups * next->n_steps + n_blocks - 1) / n_blocks);
    int64_t i = 0;
    for (; i + 2 <= n_tiles; i += 2) {
        bool to_y = last && i + 2 <= full && !glu;
        float *ci = c + i * c_groups * 256;
        tile_block(2, n_b, load_c, n_steps, a + i * a_stride, a_stride, p, p_stride, ci, c_groups,
                   to_y ? y + i * 16 * y_stride : NULL, y_stride);
        if (glu && last) {
            glu_store(glu, ci, ci + 256, i * 16, col);
            glu_store(glu, ci + c_groups * 256, ci + c_groups * 256 + 256, (i + 1) * 16, col);
        }
        panel_work_run(next, share);
    }
    if (i < n_tiles) {
        bool to_y = last && i < full && !glu;
        float *ci = c + i * c_groups * 256;
        tile_block(1, n_b, load_c, n_steps, a + i * a_stride, a_stride, p, p_stride, ci, c_groups,
                   to_y ? y + i * 16 * y_stride : NULL, y_stride);
        if (glu && last)
            glu_store(glu, ci, ci + 256, i * 16, col);
    }
    panel_work_run(next, next->n_groups * next->n_steps);
}

/* The group pair at g of the block at w0 for the chunk at c0, into out[0], out[1]. */
static void panel_work_set(panel_work *w, panel_fn fn, const uint8_t *w0, uint64_t group_bytes,
                           int64_t g, int64_t ng, int64_t n_cols, int64_t c0, uint8_t *const out[2])
{
    w->fn = fn;
    w->n_groups = (int)TM_MIN(2, ng - g);
    for (int j = 0; j < w->n_groups; j++) {
        w->group[j] = w0 + (uint64_t)(g + j) * group_bytes;
        w->out[j] = out[j];
    }
    w->n_cols = n_cols;
    w->c0 = c0;
    w->n_steps = (int)(TM_MIN(TM_GEMM_BF16_COLS, n_cols - c0) / 32);
    w->done = 0;
}

/* Blocks of TM_GEMM_BF16_ROWS rows (16 groups) by every token, their sums in a buffer of C
 * tiles that stays in the core's L2 while the columns pass in chunks of TM_GEMM_BF16_COLS.
 * Per chunk, two groups at a time are decoded to BF16 (their panels then stay in L1, the
 * next pair's decoded in the meantime) and multiplied by every token's activations (the
 * chunk's, in L2); only the last chunk writes y. Tiles of tokens past the batch compute on
 * zero activations; their rows never reach y. */
static void gemm_bf16(panel_fn panel, int64_t n_cols, const void *groups, uint64_t group_bytes,
                      int64_t n_groups, const uint16_t *act, int64_t n_tokens, float *y,
                      int64_t y_stride, void *scratch, const tm_gemm_glu *glu)
{
    const int64_t block_groups = TM_GEMM_BF16_ROWS / 16, chunk = TM_GEMM_BF16_COLS;
    const int64_t p_stride = (chunk / 32) * STEP_BYTES, n_tiles = (n_tokens + 15) / 16;
    const int64_t full = n_tokens / 16; /* token tiles without rows past the batch */
    uint8_t *bufs[2][2] = {{scratch, (uint8_t *)scratch + p_stride},
                           {(uint8_t *)scratch + 2 * p_stride, (uint8_t *)scratch + 3 * p_stride}};
    float *cbuf = (float *)((uint8_t *)scratch + 4 * p_stride);
    int cur = 0;
    panel_work next;
    tiles_configure();
    for (int64_t g0 = 0; g0 < n_groups; g0 += block_groups) {
        int64_t ng = TM_MIN(block_groups, n_groups - g0);
        const uint8_t *w0 = (const uint8_t *)groups + (uint64_t)g0 * group_bytes;
        /* the block's first pair, decoded up front */
        panel_work_set(&next, panel, w0, group_bytes, 0, ng, n_cols, 0, bufs[cur]);
        panel_work_run(&next, 2 * (int)(chunk / 32));
        for (int64_t c0 = 0; c0 < n_cols; c0 += chunk) {
            int64_t nc = TM_MIN(chunk, n_cols - c0), n_steps = nc / 32;
            bool load_c = c0 > 0, last = c0 + chunk >= n_cols;
            /* the chunk's activations: every token tile's n_steps tiles, one after another */
            const uint8_t *a = (const uint8_t *)act + tm_bf16_tile_offset(n_cols, n_tiles, 0, c0);
            const int64_t a_stride = n_steps * STEP_BYTES;
            for (int64_t g = 0; g < ng; g += 2) {
                /* what follows this pair: the next pair of the chunk, or the first of the next
                 * chunk, or nothing */
                if (g + 2 < ng)
                    panel_work_set(&next, panel, w0, group_bytes, g + 2, ng, n_cols, c0,
                                   bufs[!cur]);
                else if (!last)
                    panel_work_set(&next, panel, w0, group_bytes, 0, ng, n_cols, c0 + chunk,
                                   bufs[!cur]);
                else
                    next.n_groups = 0;
                float *yg = y ? y + (g0 + g) * 16 : NULL;
                int64_t col = glu ? glu->col0 + (g0 + g) / 2 * 16 : 0;
                if (g + 1 < ng)
                    tokens_pass(2, load_c, last, n_steps, a, a_stride, n_tiles, full, bufs[cur][0],
                                bufs[cur][1] - bufs[cur][0], cbuf + g * 256, ng, yg, y_stride,
                                &next, glu, col);
                else
                    tokens_pass(1, load_c, last, n_steps, a, a_stride, n_tiles, full, bufs[cur][0],
                                0, cbuf + g * 256, ng, yg, y_stride, &next, NULL, 0);
                cur = !cur;
            }
        }
        /* a last, partial token tile and the tile paired with it went to the buffer */
        if (full < n_tiles && !glu)
            for (int64_t t = (full & ~(int64_t)1) * 16; t < n_tokens; t++)
                for (int64_t g = 0; g < ng; g++)
                    memcpy(y + t * y_stride + (g0 + g) * 16,
                           cbuf + ((t / 16) * ng + g) * 256 + (t % 16) * 16, 64);
    }
    _tile_release();
}

#define GEMM_BF16_DEFINE(name, panel)                                                            \
    static void name(int64_t n_cols, const void *groups, uint64_t group_bytes, int64_t n_groups, \
                     const uint16_t *act, int64_t n_tokens, float *y, int64_t y_stride,          \
                     void *scratch, const tm_gemm_glu *glu)                                      \
    {                                                                                            \
        gemm_bf16(panel, n_cols, groups, group_bytes, n_groups, act, n_tokens, y, y_stride,      \
                  scratch, glu);                                                                 \
    }

bool tm_amx_panel(uint32_t type, const void *group, int64_t n_cols, int64_t c, uint16_t *out)
{
    panel_fn panel = type == TM_DTYPE_Q4_0   ? panel_q4_0
                     : type == TM_DTYPE_Q8_0 ? panel_q8_0
                     : type == TM_DTYPE_Q4_K ? panel_q4_k
                     : type == TM_DTYPE_Q6_K ? panel_q6_k
                                             : NULL;
    if (panel)
        panel(group, n_cols, c, (uint8_t *)out);
    return panel != NULL;
}

GEMM_BF16_DEFINE(amx_gemm_q4_0, panel_q4_0)
GEMM_BF16_DEFINE(amx_gemm_q8_0, panel_q8_0)
GEMM_BF16_DEFINE(amx_gemm_q4_k, panel_q4_k)
GEMM_BF16_DEFINE(amx_gemm_q6_k, panel_q6_k)

/* Token t's row of floats into the BF16 activation tiles (tensor.h), rounding to nearest
 * even (vcvtne2ps2bf16; denormals become zero, as the tile unit reads them anyway). */
static void amx_bf16_act_row(const float *x, int64_t n_cols, int64_t n_tiles, int64_t t,
                             void *tiles)
{
    for (int64_t c = 0; c < n_cols; c += 32) {
        __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + c + 16), _mm512_loadu_ps(x + c));
        _mm512_storeu_si512((uint8_t *)tiles + tm_bf16_tile_offset(n_cols, n_tiles, t, c),
                            (__m512i)v);
    }
}

/* BF16 tile multiplies on four independent C tiles, operands loaded once. */
static double amx_mac_peak(void)
{
    static const uint8_t zeros[1024] __attribute__((aligned(64)));
    tiles_configure(); /* the operands: zeros, as the tile unit's time does not depend on values */
    TILE_LOAD(4, zeros, 64);
    TILE_LOAD(5, zeros, 64);
    TILE_LOAD(6, zeros, 64);
    TILE_LOAD(7, zeros, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    int64_t n = 0, t0 = tm_time_us(), dt = 0;
    do {
        for (int i = 0; i < 256; i++) {
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
        }
        n += 4 * 256;
        dt = tm_time_us() - t0;
    } while (dt < 20000);
    _tile_release();
    return (double)n * 16 * 16 * 32 / ((double)dt * 1e-6);
}

void tm_kernels_init_amx(tm_kernels *k)
{
    k->mac_peak = amx_mac_peak;
    k->attn_kv_tiles = x512_attn_kv_tiles;
    k->attn_tile = amx_attn_tile;
    k->gemm_bf16[TM_DTYPE_Q4_0] = amx_gemm_q4_0;
    k->gemm_bf16[TM_DTYPE_Q8_0] = amx_gemm_q8_0;
    k->gemm_bf16[TM_DTYPE_Q4_K] = amx_gemm_q4_k;
    k->gemm_bf16[TM_DTYPE_Q6_K] = amx_gemm_q6_k;
    k->bf16_act_row = amx_bf16_act_row;
}
