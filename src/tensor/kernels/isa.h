/* Inside the kernels folder: each ISA file overrides the slots it implements. Only the file
 * of an ISA is compiled with that ISA's flags (CMake), so one binary runs on every CPU of
 * an architecture; dispatch.c calls an override only after checking the CPU. */
#ifndef TM_KERNELS_ISA_H
#define TM_KERNELS_ISA_H

#include "../tensor.h"

#include <string.h>

/* F16 keys laid by dimension (tm_attn_scores_f16_by_dim_ref): the last keys of a block, fewer
 * than a vector's lanes, go through one vector step of the table's kernel on zero-padded
 * lanes. Head widths up to TM_BY_DIM_TAIL_DIM do (wider ones take the reference); the
 * kernel steps over keys[dim][lanes] into scores[H][lanes], of which the first n are kept. */
#define TM_BY_DIM_TAIL_DIM 256

/* keys[d * lanes + i] = key i of dimension d (k + d * k_stride + i) for i < n, 0 beyond. */
static inline void tm_by_dim_tail_keys(const uint16_t *k, int64_t k_stride, int64_t n, int64_t dim,
                                       int lanes, uint16_t *keys)
{
    memset(keys, 0, (size_t)(dim * lanes) * sizeof *keys);
    for (int64_t d = 0; d < dim; d++)
        memcpy(keys + d * lanes, k + d * k_stride, (size_t)n * sizeof *keys);
}

/* The first n of each head's lanes of scores into s (rows s_stride apart). */
static inline void tm_by_dim_tail_scores(const float *scores, int lanes, int n_heads, int64_t n,
                                         float *s, int64_t s_stride)
{
    for (int h = 0; h < n_heads; h++)
        memcpy(s + h * s_stride, scores + h * lanes, (size_t)n * sizeof *s);
}

void tm_kernels_init_ref(tm_kernels *k);
#if TM_BUILD_AVX2
void tm_kernels_init_avx2(tm_kernels *k);
#endif
#if TM_BUILD_AVXVNNI
void tm_kernels_init_avxvnni(tm_kernels *k);
#endif
#if TM_BUILD_AVX512
void tm_kernels_init_avx512(tm_kernels *k);
#endif
#if TM_HAS_BF16_ATTN
/* after the AVX-512 table, on CPUs with AVX-512 BF16: prompt attention on BF16 tiles */
void tm_kernels_init_bf16_attn(tm_kernels *k);
#endif
#if TM_BUILD_AMX
void tm_kernels_init_amx(tm_kernels *k); /* after the AVX-512 table: the tile slots only */
/* Columns c .. c + 31 (c a multiple of 32) of a packed group (type Q4_0, Q8_0, Q4_K or Q6_K)
 * as the AMX table's B tile: out[32 q + 2 r + e] = BF16 of row r, column c + 2 q + e. AVX-512
 * with BF16 conversions but no tile instruction, so CPUs without AMX test the panels that
 * read the packed layout (test_kernels). false: no panel for the type. */
bool tm_amx_panel(uint32_t type, const void *group, int64_t n_cols, int64_t c, uint16_t *out);
#endif
#if TM_BUILD_NEON
void tm_kernels_init_neon(tm_kernels *k);
#endif
#if TM_BUILD_DOTPROD
void tm_kernels_init_dotprod(tm_kernels *k);
#endif
#if TM_BUILD_I8MM
void tm_kernels_init_i8mm(tm_kernels *k);
#endif

#endif
