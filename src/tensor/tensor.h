/* tensor: element types, quantized block formats, and the kernels that compute with them.
 *
 * Block layouts are bit-compatible with GGUF files written by ggml-based tools (GGUF spec;
 * ggml's block definitions were read to learn the layouts). Every type has a scalar
 * reference (tensor/<type>.c): dequantize, quantize, and a dot product against its
 * activation format. The reference is written to be read and defines "correct"; SIMD
 * kernels in kernels/<isa>.c override slots of a tm_kernels table and are tested against
 * it (tests/tensor/test_kernels.c).
 *
 * Activation formats: quantized weights are multiplied by activations quantized on the fly,
 * to Q8_0 (for Q4_0, Q5_0, Q8_0 weights), Q8_1 (Q4_1, Q5_1) or Q8_K (the K-quants), so the
 * inner loops are integer dot products. Float weights (F32, F16, BF16) take F32 activations. */
#ifndef TM_TENSOR_H
#define TM_TENSOR_H

#include "../base/base.h"

#include <assert.h>

/* ggml type numbers, as stored in GGUF tensor infos; never renumbered or reused. */
typedef enum tm_dtype {
    TM_DTYPE_F32 = 0,
    TM_DTYPE_F16 = 1,
    TM_DTYPE_Q4_0 = 2,
    TM_DTYPE_Q4_1 = 3,
    TM_DTYPE_Q5_0 = 6,
    TM_DTYPE_Q5_1 = 7,
    TM_DTYPE_Q8_0 = 8,
    TM_DTYPE_Q8_1 = 9,
    TM_DTYPE_Q2_K = 10,
    TM_DTYPE_Q3_K = 11,
    TM_DTYPE_Q4_K = 12,
    TM_DTYPE_Q5_K = 13,
    TM_DTYPE_Q6_K = 14,
    TM_DTYPE_Q8_K = 15,
    TM_DTYPE_IQ2_XXS = 16,
    TM_DTYPE_IQ2_XS = 17,
    TM_DTYPE_IQ3_XXS = 18,
    TM_DTYPE_IQ1_S = 19,
    TM_DTYPE_IQ4_NL = 20,
    TM_DTYPE_IQ3_S = 21,
    TM_DTYPE_IQ2_S = 22,
    TM_DTYPE_IQ4_XS = 23,
    TM_DTYPE_I8 = 24,
    TM_DTYPE_I16 = 25,
    TM_DTYPE_I32 = 26,
    TM_DTYPE_I64 = 27,
    TM_DTYPE_F64 = 28,
    TM_DTYPE_IQ1_M = 29,
    TM_DTYPE_BF16 = 30,
    TM_DTYPE_TQ1_0 = 34,
    TM_DTYPE_TQ2_0 = 35,
    TM_DTYPE_MXFP4 = 39,
    TM_DTYPE_COUNT = 40 /* size of tables indexed by type number */
} tm_dtype;

typedef struct tm_dtype_info {
    const char *name;    /* "q4_K" style as ggml prints it: "f32", "q4_0", "q4_K", "bf16" */
    int32_t block_size;  /* elements per block (1 for plain types) */
    int32_t block_bytes; /* bytes per block */
} tm_dtype_info;

/* NULL when type is not a ggml type number this build knows the layout of. */
const tm_dtype_info *tm_dtype_info_get(uint32_t type);
/* Bytes of n elements of type; false when the type is unknown, n is not a whole number of
 * blocks, or the size overflows. */
bool tm_dtype_row_bytes(uint32_t type, int64_t n, uint64_t *out);
/* Parses a type name, case-insensitive ("Q4_K", "q8_0", "F16"); false if unknown. */
bool tm_dtype_from_name(const char *name, tm_dtype *out);
const char *tm_dtype_name(uint32_t type); /* "?" for unknown */

/* ---- half-precision conversions (f16.c) ------------------------------------------------- */

float tm_f16_to_f32(uint16_t h);  /* IEEE 754 binary16, exact */
uint16_t tm_f32_to_f16(float f);  /* round to nearest even; overflow to inf; NaN stays NaN */
float tm_bf16_to_f32(uint16_t h); /* exact */
uint16_t tm_f32_to_bf16(float f); /* round to nearest even; NaN stays NaN */

/* ---- block formats ------------------------------------------------------------------------
 * d / dmin are IEEE fp16 bits unless noted. "weight" below means the dequantized value. */

#define TM_QK4_0 32
typedef struct tm_block_q4_0 { /* w = d * (q - 8), q in 0..15 */
    uint16_t d;
    uint8_t qs[16]; /* byte j: q[j] in the low nibble, q[j + 16] in the high nibble */
} tm_block_q4_0;
static_assert(sizeof(tm_block_q4_0) == 18, "q4_0 blocks are 18 bytes in GGUF files");

typedef struct tm_block_q4_1 { /* w = d * q + m */
    uint16_t d, m;
    uint8_t qs[16]; /* as q4_0 */
} tm_block_q4_1;
static_assert(sizeof(tm_block_q4_1) == 20, "q4_1 blocks are 20 bytes");

typedef struct tm_block_q5_0 { /* w = d * (q - 16), q in 0..31 */
    uint16_t d;
    uint8_t qh[4];  /* bit j of the little-endian uint32: the 5th bit of q[j] */
    uint8_t qs[16]; /* low 4 bits, as q4_0 */
} tm_block_q5_0;
static_assert(sizeof(tm_block_q5_0) == 22, "q5_0 blocks are 22 bytes");

typedef struct tm_block_q5_1 { /* w = d * q + m */
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[16];
} tm_block_q5_1;
static_assert(sizeof(tm_block_q5_1) == 24, "q5_1 blocks are 24 bytes");

typedef struct tm_block_q8_0 { /* w = d * q */
    uint16_t d;
    int8_t qs[32];
} tm_block_q8_0;
static_assert(sizeof(tm_block_q8_0) == 34, "q8_0 blocks are 34 bytes");

typedef struct tm_block_q8_1 { /* w = d * q; s = d * sum(q), both fp16 */
    uint16_t d, s;
    int8_t qs[32];
} tm_block_q8_1;
static_assert(sizeof(tm_block_q8_1) == 36, "q8_1 blocks are 36 bytes");

#define TM_QK_K 256 /* elements per K-quant super-block */

typedef struct tm_block_q2_k { /* 16 groups of 16: w = d * sc * q - dmin * m */
    uint8_t scales[16];        /* group g: low nibble sc, high nibble m */
    uint8_t qs[64];            /* 2-bit q */
    uint16_t d, dmin;
} tm_block_q2_k;
static_assert(sizeof(tm_block_q2_k) == 84, "q2_K blocks are 84 bytes");

typedef struct tm_block_q3_k { /* 16 groups of 16: w = d * (sc - 32) * (q - 4 * !hbit) */
    uint8_t hmask[32];         /* high bit of each q */
    uint8_t qs[64];            /* low 2 bits */
    uint8_t scales[12];        /* 16 6-bit scales, packed */
    uint16_t d;
} tm_block_q3_k;
static_assert(sizeof(tm_block_q3_k) == 110, "q3_K blocks are 110 bytes");

typedef struct tm_block_q4_k { /* 8 groups of 32: w = d * sc * q - dmin * m */
    uint16_t d, dmin;
    uint8_t scales[12]; /* 8 6-bit scales and 8 6-bit mins, packed */
    uint8_t qs[128];
} tm_block_q4_k;
static_assert(sizeof(tm_block_q4_k) == 144, "q4_K blocks are 144 bytes");

typedef struct tm_block_q5_k { /* as q4_K with a 5th bit per q */
    uint16_t d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
} tm_block_q5_k;
static_assert(sizeof(tm_block_q5_k) == 176, "q5_K blocks are 176 bytes");

typedef struct tm_block_q6_k { /* 16 groups of 16: w = d * sc * (q - 32) */
    uint8_t ql[128];           /* low 4 bits */
    uint8_t qh[64];            /* high 2 bits */
    int8_t scales[16];
    uint16_t d;
} tm_block_q6_k;
static_assert(sizeof(tm_block_q6_k) == 210, "q6_K blocks are 210 bytes");

typedef struct tm_block_q8_k { /* activations for K-quant dots: w = d * q */
    float d;                   /* a float, not fp16 */
    int8_t qs[TM_QK_K];
    int16_t bsums[TM_QK_K / 16]; /* sum of each group of 16 qs */
} tm_block_q8_k;
static_assert(sizeof(tm_block_q8_k) == 292, "q8_K blocks are 292 bytes");

/* ---- per-type functions: the scalar reference (tensor/<type>.c) ------------------------- */

/* n: elements, a whole number of blocks of the type. */
typedef void (*tm_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*tm_from_float_fn)(const float *src, void *dst, int64_t n);
/* *out = dot(w, x) over n elements; w is a row of the weight type, x of its act_type. */
typedef void (*tm_vec_dot_fn)(int64_t n, float *out, const void *w, const void *x);
/* out[t] = dot(w, row t of x) for four activation rows x, x + x_stride, ...: a weight row is
 * unpacked once for four tokens (prompt processing; SIMD tables only). */
typedef void (*tm_vec_dot_x4_fn)(int64_t n, float *out, const void *w, const void *x,
                                 uint64_t x_stride);

typedef struct tm_type_traits {
    tm_dtype act_type;         /* format of the activations for vec_dot */
    tm_to_float_fn to_float;   /* dequantize */
    tm_from_float_fn quantize; /* the best reference quantizer of this type (weights) */
    tm_vec_dot_fn vec_dot;     /* reference dot; NULL for activation-only formats */
} tm_type_traits;

/* The reference functions of a type; NULL when this build cannot compute with it. */
const tm_type_traits *tm_type_traits_get(uint32_t type);

/* ---- kernel tables (kernels/dispatch.c) --------------------------------------------------- */

/* Attention over a KV cache whose rows are of one type (F32 or F16), for n_q query heads
 * sharing a kv head. Strides count elements.
 * scores: s[g * s_stride + j] = dot(q + g * q_stride, row j of k) for j < n, g < n_q.
 * values: out[g * o_stride + d] += sum over j of w[g * w_stride + j] * (row j of v)[d]. */
typedef void (*tm_attn_scores_fn)(int64_t n, int64_t dim, const void *k, int64_t k_stride,
                                  const float *q, int64_t q_stride, int n_q, float *s,
                                  int64_t s_stride);
typedef void (*tm_attn_values_fn)(int64_t n, int64_t dim, const void *v, int64_t v_stride,
                                  const float *w, int64_t w_stride, int n_q, float *out,
                                  int64_t o_stride);
/* Scores over F16 keys laid dimension by dimension (kv_store.c): value d of key j at
 * k[d * k_stride + j], so consecutive keys are consecutive in memory; same meaning and
 * tm_attn_scores_fn signature otherwise. */
void tm_attn_scores_f16_by_dim_ref(int64_t n, int64_t dim, const void *k, int64_t k_stride,
                                   const float *q, int64_t q_stride, int n_q, float *s,
                                   int64_t s_stride);
/* The softmax's exponentials: x[i] = exp(scale * x[i] - max over j of scale * x[j]) in
 * place; returns their sum (the caller divides). */
typedef float (*tm_exp_sum_fn)(float *x, int64_t n, float scale);
float tm_exp_sum_ref(float *x, int64_t n, float scale);
/* Prompt attention on tiles (AMX; kernels/amx_attn.h). The keys and values of one kv head are
 * first put into BF16 tiles, position by position (tm_attn_kv_tiles_fn: positions pos ..
 * pos + n - 1, rows k_stride / v_stride bytes apart, of any cache type; tiles of positions
 * past the last written must be zeros), then 16 queries at a time of each head of the group
 * attend to them (tm_attn_tile_fn). Head dims: multiples of 32 (keys) and 16 (values), at most
 * TM_ATTN_TILE_DIM_MAX. Key tiles: 16 positions x head_dim, head_dim / 32 KiB per 16
 * positions; value tiles: 32 positions x head_dim_v, head_dim_v / 16 KiB per 32 positions. */
#define TM_ATTN_TILE_DIM_MAX 256
#define TM_ATTN_TILE_SCRATCH (48u << 10) /* per thread */
typedef void (*tm_attn_kv_tiles_fn)(uint32_t k_type, uint32_t v_type, const void *k_rows,
                                    uint64_t k_stride, const void *v_rows, uint64_t v_stride,
                                    int64_t n, int64_t pos, int64_t head_dim, int64_t head_dim_v,
                                    void *kt, void *vt);
typedef struct tm_attn_tile_args {
    const float *q; /* n_q (<= 16) query rows of head_dim, q_stride floats apart */
    int64_t q_stride;
    int n_q;
    int64_t pos;    /* query i is at position pos + i and sees keys lo .. pos + i, */
    int32_t window; /* lo = pos + i - window + 1 (0 when window is 0) */
    float scale;    /* multiplies q.k; then softcap tanh(s / softcap) when softcap > 0 */
    float softcap;
    const void *kt, *vt; /* the kv head's tiles */
    int64_t head_dim, head_dim_v;
    float *out; /* n_q rows of head_dim_v, out_stride floats apart */
    int64_t out_stride;
    void *scratch; /* TM_ATTN_TILE_SCRATCH bytes of the calling thread's */
} tm_attn_tile_args;
typedef void (*tm_attn_tile_fn)(const tm_attn_tile_args *a);
/* Bytes of a kv head's key and value tiles for n positions. */
static inline uint64_t tm_attn_kv_tiles_bytes(int64_t n, int64_t head_dim, int64_t head_dim_v)
{
    uint64_t n32 = (uint64_t)(n + 31) / 32 * 32;
    return n32 * (uint64_t)(head_dim + head_dim_v) * 2;
}

/* Gated activations of feed-forward blocks: gate[i] = act(gate[i]) * up[i] (act.c). */
typedef void (*tm_glu_fn)(float *gate, const float *up, int64_t n);
void tm_silu_mul_ref(float *gate, const float *up, int64_t n); /* SwiGLU */
void tm_gelu_mul_ref(float *gate, const float *up, int64_t n); /* GeGLU, tanh approximation */
/* Reads p[0, bytes) once, returning the sum (mod 2^64) of its whole 8-byte words, little-endian,
 * plus its last bytes % 8 bytes: the load loop behind the read bandwidth that decode's speed
 * is measured against (bench), so each table's uses its widest loads (read_sum.c). */
typedef uint64_t (*tm_read_sum_fn)(const void *p, uint64_t bytes);
uint64_t tm_read_sum_ref(const void *p, uint64_t bytes);
/* The reference versions (attn.c); cache types other than F32 and F16 have none. */
tm_attn_scores_fn tm_attn_scores_ref(uint32_t type);
tm_attn_values_fn tm_attn_values_ref(uint32_t type);

/* ---- packed weights (pack.c) ---------------------------------------------------------------
 * Our own layout, into which a quantized matrix is rewritten at load when the kernel table
 * has a GEMM for its type. Rows go in groups of TM_PACK_ROWS = 16; a group stores, for every
 * block of 32 columns, its codes so that one 64-byte vector holds four consecutive codes of
 * each of the 16 rows (the operand layout of vpdpbusd against one broadcast activation
 * word; on Arm, four registers of 4 rows x 4 codes, the operand of SDOT by lane), each block's
 * scales for the 16 rows just before its codes. A group takes exactly the bytes of its 16
 * rows in the file, so packing costs no memory once the file's pages are released. A group
 * lies in the order a decoding kernel reads it, front to back, so that the hardware
 * prefetchers see one stream (scales that lay after all of a group's codes, a second
 * stream, cost a third of a core's decoding speed).
 *
 *   Q4_0 group: nb blocks of 288 bytes: 16 fp16 scales (one per row), then 4 vectors of
 *               codes: vector v (v < 4), lane r, byte j = file byte qs[4v + j] of row r (low
 *               nibble: column 4v + j, high nibble: column 16 + 4v + j).
 *   Q8_0 group: nb blocks of 544 bytes: 16 fp16 scales, then 8 vectors: vector g (g < 8),
 *               lane r, byte j = code [4g + j] of row r plus 128 (unsigned).
 *   Q4_K group: per super-block of 256 columns, 2304 bytes: first 256 bytes of scales: d[16],
 *               dmin[16] (fp16); the 6-bit scales sc and mins m of sub-block j (< 8) for the
 *               16 rows: 64 bytes of low nibbles of sc (byte 16jj + r: sc[jj] | sc[jj + 4]
 *               << 4), 64 of m, 64 of the high bits (sc[jj], sc[jj + 4], m[jj], m[jj + 4] in
 *               bit pairs 0, 2, 4, 6); then 32 vectors, vector p lane r byte j = qs[4p + j].
 *   Q5_K group: per super-block, 2816 bytes: Q4_K's 256 bytes of scales, then 8 vectors of qh
 *               (vector q lane r byte j = qh[4q + j] of row r: bit c of qh[l] is the fifth bit
 *               of column 32c + l), then Q4_K's 32 vectors of qs.
 *   Q6_K group: per super-block, 3360 bytes: d[16]; the group scales in pairs (byte 32 +
 *               32i + 2r: scales[2i] of row r, + 1: scales[2i + 1]); then two halves of
 *               1536 bytes, one per 128 columns, each of 8 vectors of qh and 16 of ql
 *               (vector p lane r byte j = ql[4p + j] of row r, qh likewise) in the order a
 *               pass reads them: qh 8h + i, ql 16h + i for i < 8, then ql 16h + 8 .. + 15.
 *
 * K-quant GEMMs take the plain Q8_K activation rows. Other GEMM activations are one row per
 * token: nb float scales, nb int32 negated sums of the codes,
 * then the n int8 codes of the Q8_0 quantization (bit-identical to the Q8_0 activation
 * blocks). */
#define TM_PACK_ROWS       16
/* Where the parts of packed blocks lie (the layout above): */
#define TM_PACK_Q4_0_BLOCK 288 /* a block of 32 columns by 16 rows */
#define TM_PACK_Q8_0_BLOCK 544
#define TM_PACK_CODES      32   /* a Q4_0 or Q8_0 block's code vectors, after its scales */
#define TM_PACK_Q4_K_SB    2304 /* a super-block of 256 columns by 16 rows */
#define TM_PACK_Q5_K_SB    2816
#define TM_PACK_Q6_K_SB    3360
#define TM_PACK_KM_DMIN    32 /* Q4_K, Q5_K: d[16] at 0, dmin[16] here, then the tables */
#define TM_PACK_KM_LO_SC   64
#define TM_PACK_KM_LO_M    128
#define TM_PACK_KM_HI      192
#define TM_PACK_Q4_K_QS    256 /* Q4_K's 32 code vectors */
#define TM_PACK_Q5_K_QH    256 /* Q5_K's 8 vectors of fifth bits */
#define TM_PACK_Q5_K_QS    768 /* and its 32 code vectors */
#define TM_PACK_Q6_K_SC    32  /* Q6_K: d[16] at 0, the scale pairs here, then the halves */
#define TM_PACK_Q6_K_HALF  1536
/* Where Q6_K's ql vector p (< 32) and qh vector q (< 16) lie in a super-block. */
static inline int tm_pack_q6_k_ql(int p)
{
    int i = p & 15, at = i < 8 ? i * 128 + 64 : 1024 + (i - 8) * 64;
    return TM_PACK_Q6_K_SC + 256 + (p >> 4) * TM_PACK_Q6_K_HALF + at;
}
static inline int tm_pack_q6_k_qh(int q)
{
    return TM_PACK_Q6_K_SC + 256 + (q >> 3) * TM_PACK_Q6_K_HALF + (q & 7) * 128;
}
/* The types with a packed layout. */
bool tm_pack_supported(uint32_t type);
/* Rewrites 16 consecutive rows (file layout, row_bytes each) into one packed group. */
void tm_pack_group(uint32_t type, const void *rows, int64_t n_cols, void *group);
/* Row r (< 16) of a packed group, dequantized (the float_activations path, tests). */
void tm_pack_row_to_float(uint32_t type, const void *group, int r, int64_t n_cols, float *dst);
/* Whether a packed type's GEMM takes Q8_K activation rows (else the rows below). */
bool tm_pack_act_is_q8_k(uint32_t type);
/* Bytes of one GEMM activation row of n_cols inputs. */
uint64_t tm_pack_act_row_bytes(int64_t n_cols);
/* One GEMM activation row from floats; quantize_q8_0 is the table's Q8_0 quantizer. */
void tm_pack_act_quantize(tm_from_float_fn quantize_q8_0, const float *x, int64_t n_cols,
                          void *dst);

/* y[t * y_stride + r] = dot(row r of a packed group, token t) for r < 16, t < n_tokens; act
 * rows are act_stride bytes apart. */
typedef void (*tm_gemm_x16_fn)(int64_t n_cols, const void *group, const void *act,
                               uint64_t act_stride, int64_t n_tokens, float *y, int64_t y_stride);

/* Packed groups times BF16 activations (AMX): y[t * y_stride + 16 g + r] = dot(row r of group
 * g, token t) for g < n_groups (group_bytes apart), t < n_tokens. act is in tiles of 16
 * tokens by 32 columns, 1024 bytes each (16 rows of 32 BF16 values), chunk by chunk of
 * TM_GEMM_BF16_COLS columns: the tiles of every token for one chunk lie together, so the
 * chunk the kernel works on is one stretch of memory (tm_bf16_tile_offset); rows of tokens
 * past n_tokens are zeros. n_cols: a multiple of 256 for K-quants, of 32 otherwise.
 * scratch: the calling thread's own, tm_gemm_bf16_scratch_bytes(n_tokens) or more. */
/* The gated activation of a feed-forward block. */
enum { TM_GLU_SILU = 1, TM_GLU_GELU = 2 };
/* An epilogue for a fused gate-and-up matrix, whose groups come in pairs (gate rows, then the
 * same up rows): instead of y, act(gate) * up goes as BF16 into activation tiles (the down
 * product's input) of n_cols columns for n_tiles token tiles, the pair at groups 2i, 2i + 1
 * of the call to columns col0 + 16 i; tokens past the batch get zeros. */
typedef struct tm_gemm_glu {
    int act; /* TM_GLU_SILU or TM_GLU_GELU */
    void *tiles;
    int64_t n_cols, n_tiles, col0;
} tm_gemm_glu;
typedef void (*tm_gemm_bf16_fn)(int64_t n_cols, const void *groups, uint64_t group_bytes,
                                int64_t n_groups, const uint16_t *act, int64_t n_tokens, float *y,
                                int64_t y_stride, void *scratch, const tm_gemm_glu *glu);
/* Token t's n_cols floats into those tiles, for a batch of n_tiles token tiles. */
typedef void (*tm_bf16_act_row_fn)(const float *x, int64_t n_cols, int64_t n_tiles, int64_t t,
                                   void *tiles);
/* Its blocking: rows per block (their panels and C tiles stay in L2), columns per chunk. */
#define TM_GEMM_BF16_ROWS 256
#define TM_GEMM_BF16_COLS 256
/* Where token t's columns c .. c + 31 (c a multiple of 32) lie in the activation tiles of a
 * batch of n_tiles token tiles. */
static inline uint64_t tm_bf16_tile_offset(int64_t n_cols, int64_t n_tiles, int64_t t, int64_t c)
{
    int64_t c0 = c / TM_GEMM_BF16_COLS * TM_GEMM_BF16_COLS;
    int64_t nc = n_cols - c0 < TM_GEMM_BF16_COLS ? n_cols - c0 : TM_GEMM_BF16_COLS;
    return (uint64_t)(c0 * n_tiles * 32 + (t / 16) * (nc / 32) * 1024 + (c - c0) / 32 * 1024 +
                      (t % 16) * 64);
}

/* Panels of two pairs of groups for a chunk of columns (one in use, one being decoded), then
 * C tiles for every token tile. */
static inline uint64_t tm_gemm_bf16_scratch_bytes(int64_t max_tokens)
{
    uint64_t panels = (uint64_t)64 * TM_GEMM_BF16_COLS * 2;
    return panels + (uint64_t)(max_tokens + 15) / 16 * 16 * TM_GEMM_BF16_ROWS * sizeof(float);
}

/* Batches of at least this many tokens take gemm_bf16 where the table has one. */
#define TM_GEMM_BF16_MIN_TOKENS 16

typedef struct tm_kernels {
    const char *isa;                               /* "ref", "avx2", "dotprod", ... */
    tm_vec_dot_fn vec_dot[TM_DTYPE_COUNT];         /* by weight type; NULL: not computable */
    tm_vec_dot_x4_fn vec_dot_x4[TM_DTYPE_COUNT];   /* four tokens at once; NULL: use vec_dot */
    tm_from_float_fn quantize[TM_DTYPE_COUNT];     /* float -> type; used for activation formats */
    tm_to_float_fn to_float[TM_DTYPE_COUNT];       /* dequantize */
    tm_attn_scores_fn attn_scores[TM_DTYPE_COUNT]; /* by KV cache type: F32, F16, Q8_0, Q4_0 */
    tm_attn_values_fn attn_values[TM_DTYPE_COUNT];
    tm_attn_scores_fn attn_scores_f16_by_dim; /* F16 keys laid dimension by dimension */
    tm_exp_sum_fn exp_sum;
    tm_glu_fn silu_mul, gelu_mul;              /* SwiGLU, GeGLU */
    tm_gemm_x16_fn gemm_x16[TM_DTYPE_COUNT];   /* by weight type, on packed groups; NULL: none */
    tm_gemm_bf16_fn gemm_bf16[TM_DTYPE_COUNT]; /* the same on BF16 activations; NULL: none */
    tm_bf16_act_row_fn bf16_act_row;           /* the activations of gemm_bf16 */
    tm_attn_kv_tiles_fn attn_kv_tiles;         /* prompt attention on tiles; NULL: none */
    tm_attn_tile_fn attn_tile;
    /* Multiply-adds per second of the instruction the table's prompt products are made of
     * (AMX: BF16 tile multiplies; AVX-512: vpdpbusd; AVX2: vpmaddubsw; dotprod: SDOT; i8mm:
     * SMMLA), run back to back on the calling thread for about 20 ms with operands in
     * registers: the compute limit of prompt processing. NULL: no such figure (the reference
     * and NEON tables, whose products are several instructions each). */
    double (*mac_peak)(void);
    tm_read_sum_fn read_sum; /* memory read with the table's widest loads */
} tm_kernels;

/* Picks the table: want NULL or "auto" chooses the best this CPU runs; "ref", "avx2",
 * "avx512", "amx" (x86-64), "neon", "dotprod", "i8mm" (arm64) force one (TM_E_UNSUPPORTED if the
 * CPU or this build cannot run it; TM_E_ARG for an unknown name). Every slot of the
 * reference stays valid where an ISA has no override. */
tm_status tm_kernels_init(tm_kernels *k, const tm_cpu *cpu, const char *want, tm_err *err);
/* The names of the tables this build has and this CPU runs, best last, e.g.
 * {"ref", "avx2", "avx512", "amx"} or {"ref", "neon", "dotprod", "i8mm"}; returns how many were
 * written. */
int tm_kernels_available(const tm_cpu *cpu, const char **names, int cap);

/* ---- matrix x activations (matmul.c) ------------------------------------------------------ */

typedef struct tm_mat { /* a weight matrix as stored in GGUF: n_rows rows of n_cols elements */
    const void *data;
    uint32_t type;      /* tm_dtype with a vec_dot in the kernel table */
    int64_t n_cols;     /* ne[0]: the input dimension */
    int64_t n_rows;     /* ne[1]: the output dimension */
    uint64_t row_bytes; /* bytes per row in the file's layout (a packed group: 16 rows) */
    bool packed;        /* rows are in packed groups (pack.c), n_rows a multiple of 16 */
} tm_mat;

/* Scratch for tm_matmul, sized once for the largest call (no allocation per token). */
typedef struct tm_matmul_scratch {
    void *act;               /* activations converted to the act type: [max_tokens] rows */
    size_t act_bytes;        /* capacity of act */
    float *rows;             /* per thread: one dequantized row (float_activations mode), then
                                the scratch of gemm_bf16 */
    int64_t rows_per_thread; /* floats per thread, both parts */
    int64_t row_floats;      /* floats of the first part: the widest row, rounded to 64 bytes */
    size_t rows_bytes;       /* all of rows and spans */
    tm_spans *spans;         /* decode products: each thread's rows, shared with stealing */
    int n_threads;
    int act_form; /* what act holds (matmul.c), for same_input */
    int64_t act_tokens, act_cols;
} tm_matmul_scratch;

/* A fused gate-and-up matrix (groups in pairs: 16 gate rows, the same 16 up rows) times x on
 * tiles, straight to act(gate) * up as the down product's BF16 activation tiles (the
 * tm_gemm_glu epilogue); then tm_matmul_tiles takes those tiles as its input. Whether this
 * table, matrix (packed, rows a multiple of 64) and batch can. */
bool tm_matmul_has_glu(const tm_kernels *k, const tm_mat *w, int64_t n_tokens);
/* out_tiles: room for (n_tokens + 15) / 16 * 16 rows of w->n_rows / 2 BF16 values. */
void tm_matmul_glu(const tm_kernels *k, tm_pool *pool, const tm_mat *w, const float *x,
                   int64_t n_tokens, int act, void *out_tiles, tm_matmul_scratch *s);
void tm_matmul_tiles(const tm_kernels *k, tm_pool *pool, const tm_mat *w, const void *tiles,
                     int64_t n_tokens, float *y, int64_t y_stride, tm_matmul_scratch *s);

/* Allocates scratch for up to max_tokens rows of up to max_cols inputs on n_threads. */
tm_status tm_matmul_scratch_init(tm_matmul_scratch *s, int64_t max_tokens, int64_t max_cols,
                                 int n_threads, tm_err *err);
/* The bytes tm_matmul_scratch_init allocates for the same sizes (its only size computation,
 * so memory estimates match it); false when they overflow. */
bool tm_matmul_scratch_bytes(int64_t max_tokens, int64_t max_cols, int n_threads,
                             uint64_t *act_bytes, uint64_t *rows_bytes);
void tm_matmul_scratch_fini(tm_matmul_scratch *s);

/* y[t * y_stride + r] = dot(row r of w, x[t * n_cols ...]) for t < n_tokens, r < n_rows.
 * x is float [n_tokens][w->n_cols]. With float_activations, quantized weight rows are
 * dequantized and multiplied by the float activations instead of quantizing the
 * activations (slower, exact for the file's weights). same_input: x is unchanged since the
 * previous call on s (the matrices of q, k and v, or gate and up, take the same input), so
 * activations it converted to the format this product takes are used again. Runs on every
 * thread of the pool. */
void tm_matmul(const tm_kernels *k, tm_pool *pool, const tm_mat *w, const float *x,
               int64_t n_tokens, float *y, int64_t y_stride, bool float_activations,
               bool same_input, tm_matmul_scratch *s);

/* Several matrices of the same width times the same x, y[i] = w[i] x with row stride
 * w[i]->n_rows: where all are packed for the x16 GEMM with one activation format (a
 * layer's q, k and v; its gate and up), x is converted once and every matrix's groups are
 * shared out in one pool run, so the threads meet once rather than once per matrix;
 * otherwise tm_matmul one after the other. */
#define TM_MATMUL_MANY_MAX 4
void tm_matmul_many(const tm_kernels *k, tm_pool *pool, int n_mats, const tm_mat *const *w,
                    const float *x, int64_t n_tokens, float *const *y, bool float_activations,
                    bool same_input, tm_matmul_scratch *s);

#endif
