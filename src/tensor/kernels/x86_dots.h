/* The x86 dot kernels on 256-bit vectors, written once and compiled twice: avx2.c includes
 * this file with an 8-bit multiply-add built from vpmaddubsw + vpmaddwd, avx512.c with the
 * one-instruction VNNI vpdpbusd. Before including, the file defines
 *
 *     static inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
 *
 * adding to each 32-bit lane of acc the four products of unsigned bytes u and signed bytes
 * s of that lane. (vpmaddubsw saturates at 16 bits: every caller keeps u * s pairs below
 * 2^15: u <= 128 with |s| <= 127 where that matters, or u <= 63.)
 *
 * Results equal the scalar reference up to float summation order: the integer parts are
 * exact, and scales are applied per block as the reference does. Activation quantizers
 * produce bit-identical blocks (tests/tensor/test_kernels.c checks both). */
#ifndef TM_KERNELS_X86_DOTS_H
#define TM_KERNELS_X86_DOTS_H

#include "isa.h"

#include "../quant.h"
#include "x86_act.h"
#include "x86_attn.h"

#include <immintrin.h>
#include <string.h>

/* The hardware conversion (F16C): the portable tm_f16_to_f32 costs more than a block's dot. */
static inline float fp16(uint16_t h)
{
    return _cvtsh_ss(h);
}

static inline float hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* Signed x signed bytes: |a| (unsigned, at most 128) times b with a's sign moved onto it. */
static inline __m256i dot_s8s8(__m256i acc, __m256i a, __m256i b)
{
    return dot_u8s8(acc, _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

static inline __m256i load_nibbles_32(const uint8_t *qs) /* 16 bytes -> 32 values 0..15 */
{
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    __m128i mask = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), mask), _mm_and_si128(b, mask));
}

/* ---- F16 x F32 ---------------------------------------------------------------------------- */

static void x86_vec_dot_f16(int64_t n, float *out, const void *w, const void *x)
{
    const uint16_t *a = w;
    const float *b = x;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
        acc0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b + i + 8), acc1);
    }
    float sum = hsum_ps(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++)
        sum += fp16(a[i]) * b[i];
    *out = sum;
}

/* ---- Q8_0 and Q4_0 weights x Q8_0 activations --------------------------------------------- */

/* Two blocks per step into two accumulators: one fused multiply-add chain would wait on its
 * own 4-cycle latency every block, slower than memory delivers the weights. */
static inline __m256 q8_0_block(const tm_block_q8_0 *a, const tm_block_q8_0 *b, __m256 acc)
{
    __m256i qa = _mm256_loadu_si256((const __m256i *)a->qs);
    __m256i qb = _mm256_loadu_si256((const __m256i *)b->qs);
    __m256 p = _mm256_cvtepi32_ps(dot_s8s8(_mm256_setzero_si256(), qa, qb));
    return _mm256_fmadd_ps(_mm256_set1_ps(fp16(a->d) * fp16(b->d)), p, acc);
}

static void x86_vec_dot_q8_0(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q8_0 *a = w, *b = x;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t nb = n / 32, i = 0;
    for (; i + 2 <= nb; i += 2) {
        acc0 = q8_0_block(&a[i], &b[i], acc0);
        acc1 = q8_0_block(&a[i + 1], &b[i + 1], acc1);
    }
    if (i < nb)
        acc0 = q8_0_block(&a[i], &b[i], acc0);
    *out = hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* (q - 8) * y = q * y - 8 * y: the unsigned nibbles go straight into the u8 x s8 product and
 * the offset comes from the block's sum of y, itself a u8 x s8 product with all-8 bytes. */
static inline __m256 q4_0_block(const tm_block_q4_0 *a, const tm_block_q8_0 *b, __m256 acc)
{
    __m256i q = load_nibbles_32(a->qs);
    __m256i y = _mm256_loadu_si256((const __m256i *)b->qs);
    __m256i qy = dot_u8s8(_mm256_setzero_si256(), q, y);
    __m256i oy = dot_u8s8(_mm256_setzero_si256(), _mm256_set1_epi8(8), y);
    __m256 p = _mm256_cvtepi32_ps(_mm256_sub_epi32(qy, oy));
    return _mm256_fmadd_ps(_mm256_set1_ps(fp16(a->d) * fp16(b->d)), p, acc);
}

static void x86_vec_dot_q4_0(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_0 *a = w;
    const tm_block_q8_0 *b = x;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t nb = n / 32, i = 0;
    for (; i + 2 <= nb; i += 2) {
        acc0 = q4_0_block(&a[i], &b[i], acc0);
        acc1 = q4_0_block(&a[i + 1], &b[i + 1], acc1);
    }
    if (i < nb)
        acc0 = q4_0_block(&a[i], &b[i], acc0);
    *out = hsum_ps(_mm256_add_ps(acc0, acc1));
}

/* One weight row against four tokens: the row's codes and scale are unpacked once, the
 * four accumulators are independent; the weights stay one sequential stream. */
static inline __m256 q4_0_token_step(__m256i q, float da, const tm_block_q8_0 *b, __m256 acc)
{
    __m256i y = _mm256_loadu_si256((const __m256i *)b->qs);
    __m256i qy = dot_u8s8(_mm256_setzero_si256(), q, y);
    __m256i oy = dot_u8s8(_mm256_setzero_si256(), _mm256_set1_epi8(8), y);
    __m256 p = _mm256_cvtepi32_ps(_mm256_sub_epi32(qy, oy));
    return _mm256_fmadd_ps(_mm256_set1_ps(da * fp16(b->d)), p, acc);
}

static void x86_vec_dot_x4_q4_0(int64_t n, float *out, const void *w, const void *x,
                                uint64_t x_stride)
{
    const tm_block_q4_0 *a = w;
    const tm_block_q8_0 *b0 = x, *b1 = (const void *)((const uint8_t *)x + x_stride);
    const tm_block_q8_0 *b2 = (const void *)((const uint8_t *)x + 2 * x_stride);
    const tm_block_q8_0 *b3 = (const void *)((const uint8_t *)x + 3 * x_stride);
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (int64_t i = 0; i < n / 32; i++) {
        __m256i q = load_nibbles_32(a[i].qs);
        float da = fp16(a[i].d);
        c0 = q4_0_token_step(q, da, &b0[i], c0);
        c1 = q4_0_token_step(q, da, &b1[i], c1);
        c2 = q4_0_token_step(q, da, &b2[i], c2);
        c3 = q4_0_token_step(q, da, &b3[i], c3);
    }
    out[0] = hsum_ps(c0);
    out[1] = hsum_ps(c1);
    out[2] = hsum_ps(c2);
    out[3] = hsum_ps(c3);
}

static inline __m256 q8_0_token_step(__m256i qa, __m256i sa, float da, const tm_block_q8_0 *b,
                                     __m256 acc)
{
    __m256i y = _mm256_loadu_si256((const __m256i *)b->qs);
    __m256 p = _mm256_cvtepi32_ps(dot_u8s8(_mm256_setzero_si256(), sa, _mm256_sign_epi8(y, qa)));
    return _mm256_fmadd_ps(_mm256_set1_ps(da * fp16(b->d)), p, acc);
}

static void x86_vec_dot_x4_q8_0(int64_t n, float *out, const void *w, const void *x,
                                uint64_t x_stride)
{
    const tm_block_q8_0 *a = w;
    const tm_block_q8_0 *b0 = x, *b1 = (const void *)((const uint8_t *)x + x_stride);
    const tm_block_q8_0 *b2 = (const void *)((const uint8_t *)x + 2 * x_stride);
    const tm_block_q8_0 *b3 = (const void *)((const uint8_t *)x + 3 * x_stride);
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (int64_t i = 0; i < n / 32; i++) {
        __m256i qa = _mm256_loadu_si256((const __m256i *)a[i].qs);
        __m256i sa = _mm256_sign_epi8(qa, qa); /* |q|, with q's sign moved onto y */
        float da = fp16(a[i].d);
        c0 = q8_0_token_step(qa, sa, da, &b0[i], c0);
        c1 = q8_0_token_step(qa, sa, da, &b1[i], c1);
        c2 = q8_0_token_step(qa, sa, da, &b2[i], c2);
        c3 = q8_0_token_step(qa, sa, da, &b3[i], c3);
    }
    out[0] = hsum_ps(c0);
    out[1] = hsum_ps(c1);
    out[2] = hsum_ps(c2);
    out[3] = hsum_ps(c3);
}

/* ---- K-quants x Q8_K ------------------------------------------------------------------------ */

static inline __m256i scale_lanes(__m256i v, int32_t scale)
{
    return _mm256_mullo_epi32(v, _mm256_set1_epi32(scale));
}

static inline int32_t q4k_mins_dot(const tm_block_q8_k *b, const uint8_t *m)
{
    int32_t s = 0;
    for (int g = 0; g < 8; g++)
        s += m[g] * (b->bsums[2 * g] + b->bsums[2 * g + 1]);
    return s;
}

static void x86_vec_dot_q4_k(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q4_k *a = w;
    const tm_block_q8_k *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        uint8_t sc[8], m[8];
        for (int g = 0; g < 8; g++)
            tm_q4k_scale_min(g, a[i].scales, &sc[g], &m[g]);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * c));
            __m256i y0 = _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * c));
            __m256i y1 = _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * c + 32));
            __m256i p0 = dot_u8s8(_mm256_setzero_si256(), _mm256_and_si256(q, low4), y0);
            __m256i p1 = dot_u8s8(_mm256_setzero_si256(),
                                  _mm256_and_si256(_mm256_srli_epi16(q, 4), low4), y1);
            sumi = _mm256_add_epi32(sumi, scale_lanes(p0, sc[2 * c]));
            sumi = _mm256_add_epi32(sumi, scale_lanes(p1, sc[2 * c + 1]));
        }
        float dx = b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * fp16(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
        mins += dx * fp16(a[i].dmin) * (float)q4k_mins_dot(&b[i], m);
    }
    *out = hsum_ps(acc) - mins;
}

/* Q4_K, one weight row against four tokens: a super-block's codes, scales and mins are
 * unpacked once and dotted with each token's Q8_K block. */
typedef struct q4k_unpacked {
    __m256i q[8]; /* group g's 32 codes */
    int32_t sc[8];
    uint8_t m[8];
    float d, dmin;
} q4k_unpacked;

static inline void q4k_token_step(const q4k_unpacked *u, const tm_block_q8_k *b, __m256 *acc,
                                  float *mins)
{
    __m256i sumi = _mm256_setzero_si256();
    for (int g = 0; g < 8; g++) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * g));
        sumi = _mm256_add_epi32(
            sumi, scale_lanes(dot_u8s8(_mm256_setzero_si256(), u->q[g], y), u->sc[g]));
    }
    *acc = _mm256_fmadd_ps(_mm256_set1_ps(b->d * u->d), _mm256_cvtepi32_ps(sumi), *acc);
    *mins += b->d * u->dmin * (float)q4k_mins_dot(b, u->m);
}

static void x86_vec_dot_x4_q4_k(int64_t n, float *out, const void *w, const void *x,
                                uint64_t x_stride)
{
    const tm_block_q4_k *a = w;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    float mins[4] = {0, 0, 0, 0};
    q4k_unpacked u;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        for (int g = 0; g < 8; g++) {
            uint8_t sc;
            tm_q4k_scale_min(g, a[i].scales, &sc, &u.m[g]);
            u.sc[g] = sc;
        }
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * c));
            u.q[2 * c] = _mm256_and_si256(q, low4);
            u.q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
        }
        u.d = fp16(a[i].d);
        u.dmin = fp16(a[i].dmin);
        for (int t = 0; t < 4; t++) {
            const tm_block_q8_k *b = (const void *)((const uint8_t *)x + (uint64_t)t * x_stride);
            q4k_token_step(&u, &b[i], &acc[t], &mins[t]);
        }
    }
    for (int t = 0; t < 4; t++)
        out[t] = hsum_ps(acc[t]) - mins[t];
}

static void x86_vec_dot_q5_k(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q5_k *a = w;
    const tm_block_q8_k *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        uint8_t sc[8], m[8];
        for (int g = 0; g < 8; g++)
            tm_q4k_scale_min(g, a[i].scales, &sc[g], &m[g]);
        __m256i hbits = _mm256_loadu_si256((const __m256i *)a[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * c));
            /* bit 2c of qh[l] is the fifth bit of weight 64c + l, bit 2c + 1 of 64c + 32 + l;
             * 16-bit shifts are safe: the mask keeps bit 0 of each byte, which came from the
             * same byte */
            __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(hbits, _mm_cvtsi32_si128(2 * c)), one);
            __m256i h1 =
                _mm256_and_si256(_mm256_srl_epi16(hbits, _mm_cvtsi32_si128(2 * c + 1)), one);
            __m256i q0 = _mm256_or_si256(_mm256_and_si256(q, low4), _mm256_slli_epi16(h0, 4));
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4),
                                         _mm256_slli_epi16(h1, 4));
            __m256i y0 = _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * c));
            __m256i y1 = _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * c + 32));
            sumi = _mm256_add_epi32(
                sumi, scale_lanes(dot_u8s8(_mm256_setzero_si256(), q0, y0), sc[2 * c]));
            sumi = _mm256_add_epi32(
                sumi, scale_lanes(dot_u8s8(_mm256_setzero_si256(), q1, y1), sc[2 * c + 1]));
        }
        float dx = b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dx * fp16(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
        mins += dx * fp16(a[i].dmin) * (float)q4k_mins_dot(&b[i], m);
    }
    *out = hsum_ps(acc) - mins;
}

/* Q6_K: codes c in 0..63, weight c - 32. The products use c unsigned (c * y < 2^15 even
 * doubled), the offset 32 * sum(y) per group comes from the activations' bsums. Each 32
 * codes span two groups of 16: the per-group scale goes into the 16-bit lanes of a madd. */
static void x86_vec_dot_q6_k(int64_t n, float *out, const void *w, const void *x)
{
    const tm_block_q6_k *a = w;
    const tm_block_q8_k *b = x;
    const __m256i low4 = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / TM_QK_K; i++) {
        __m256i sumi = _mm256_setzero_si256();
        int32_t offset = 0;
        for (int g = 0; g < 16; g++)
            offset += a[i].scales[g] * b[i].bsums[g];
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = a[i].ql + 64 * h;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h));
            __m256i c[4];
            c[0] = _mm256_or_si256(_mm256_and_si256(l0, low4),
                                   _mm256_slli_epi16(_mm256_and_si256(hb, three), 4));
            c[1] = _mm256_or_si256(
                _mm256_and_si256(l1, low4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), three), 4));
            c[2] = _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), three), 4));
            c[3] = _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), three), 4));
            for (int k = 0; k < 4; k++) {
                int g = 8 * h + 2 * k;
                __m256i y = _mm256_loadu_si256((const __m256i *)(b[i].qs + 128 * h + 32 * k));
                __m256i p = _mm256_maddubs_epi16(c[k], y); /* 63 * 127 * 2 < 2^15 */
                __m256i s = _mm256_set_m128i(_mm_set1_epi16(a[i].scales[g + 1]),
                                             _mm_set1_epi16(a[i].scales[g]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, s));
            }
        }
        __m256 p = _mm256_cvtepi32_ps(
            _mm256_sub_epi32(sumi, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0)));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * fp16(a[i].d)), p, acc);
    }
    *out = hsum_ps(acc);
}

/* ---- activation quantizers (bit-identical to q8_0.c and q8_k.c) ---------------------------- */

static inline __m256 abs_ps(__m256 v)
{
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
}

static inline float max_abs_8x4(const float *x) /* max |x| of 32 floats */
{
    __m256 m = _mm256_max_ps(
        _mm256_max_ps(abs_ps(_mm256_loadu_ps(x)), abs_ps(_mm256_loadu_ps(x + 8))),
        _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + 16)), abs_ps(_mm256_loadu_ps(x + 24))));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 32 floats times iscale, rounded half to even (cvtps2dq), packed to bytes in order. */
static inline __m256i round_pack_32(const float *x, __m256 iscale)
{
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), iscale));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), iscale));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), iscale));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), iscale));
    __m256i w01 = _mm256_packs_epi32(i0, i1), w23 = _mm256_packs_epi32(i2, i3);
    __m256i b = _mm256_packs_epi16(w01, w23);
    /* the packs interleave 128-bit lanes: restore element order */
    return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void x86_quantize_q8_0(const float *src, void *dst, int64_t n)
{
    tm_block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / 32; i++, src += 32) {
        float d = max_abs_8x4(src) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = tm_f32_to_f16(d);
        _mm256_storeu_si256((__m256i *)b[i].qs, round_pack_32(src, _mm256_set1_ps(id)));
    }
}

static void x86_quantize_q8_k(const float *src, void *dst, int64_t n)
{
    tm_block_q8_k *b = dst;
    for (int64_t i = 0; i < n / TM_QK_K; i++, src += TM_QK_K) {
        float amax = 0;
        for (int k = 0; k < TM_QK_K; k += 32)
            amax = TM_MAX(amax, max_abs_8x4(src + k));
        if (amax == 0) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        int first = 0; /* the first value of that magnitude gives the sign, as in q8_k.c */
        while (fabsf(src[first]) != amax)
            first++;
        float iscale = -128.0f / src[first];
        __m256 vs = _mm256_set1_ps(iscale);
        for (int k = 0; k < TM_QK_K; k += 32) {
            /* round, then clamp at 127: only the value mapping to +128 can exceed it, and the
             * signed pack saturates it to 127 exactly as the reference's min() does */
            _mm256_storeu_si256((__m256i *)(b[i].qs + k), round_pack_32(src + k, vs));
        }
        for (int g = 0; g < TM_QK_K / 16; g++) {
            __m128i q = _mm_loadu_si128((const __m128i *)(b[i].qs + 16 * g));
            __m256i w16 = _mm256_cvtepi8_epi16(q);
            __m256i s32 = _mm256_madd_epi16(w16, _mm256_set1_epi16(1));
            b[i].bsums[g] = (int16_t)hsum_epi32(s32);
        }
        b[i].d = 1.0f / iscale;
    }
}

/* tm_read_sum_fn on 256-bit loads, four in flight per step. */
static uint64_t x86_read_sum(const void *p, uint64_t bytes)
{
    const uint8_t *b = p;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    uint64_t i = 0;
    for (; i + 128 <= bytes; i += 128) {
        s0 = _mm256_add_epi64(s0, _mm256_loadu_si256((const __m256i *)(b + i)));
        s1 = _mm256_add_epi64(s1, _mm256_loadu_si256((const __m256i *)(b + i + 32)));
        s2 = _mm256_add_epi64(s2, _mm256_loadu_si256((const __m256i *)(b + i + 64)));
        s3 = _mm256_add_epi64(s3, _mm256_loadu_si256((const __m256i *)(b + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, s);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + tm_read_sum_ref(b + i, bytes - i);
}

/* Fills the slots every x86 table shares. */
static void x86_fill_table(tm_kernels *k)
{
    k->read_sum = x86_read_sum;
    x86_act_fill(k);
    k->vec_dot[TM_DTYPE_F16] = x86_vec_dot_f16;
    k->vec_dot[TM_DTYPE_Q8_0] = x86_vec_dot_q8_0;
    k->vec_dot[TM_DTYPE_Q4_0] = x86_vec_dot_q4_0;
    k->vec_dot_x4[TM_DTYPE_Q8_0] = x86_vec_dot_x4_q8_0;
    k->vec_dot_x4[TM_DTYPE_Q4_0] = x86_vec_dot_x4_q4_0;
    k->vec_dot_x4[TM_DTYPE_Q4_K] = x86_vec_dot_x4_q4_k;
    k->vec_dot[TM_DTYPE_Q4_K] = x86_vec_dot_q4_k;
    k->vec_dot[TM_DTYPE_Q5_K] = x86_vec_dot_q5_k;
    k->vec_dot[TM_DTYPE_Q6_K] = x86_vec_dot_q6_k;
    k->quantize[TM_DTYPE_Q8_0] = x86_quantize_q8_0;
    k->quantize[TM_DTYPE_Q8_K] = x86_quantize_q8_k;
    x86_attn_fill(k);
}

#endif
