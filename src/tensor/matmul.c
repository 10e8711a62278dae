/* Matrix times a batch of activation rows, on the worker pool.
 *
 * The activations are first converted to the weight type's activation format (Q8_0, Q8_K,
 * ... or kept as F32), in parallel over rows; then every thread takes a band of weight rows
 * (packed weights: chunks of a band, stealing from the other bands when its own runs out)
 * and, for blocks of ROW_TILE rows, dots them with every token's activations, so a tile of
 * weights is read from memory once per batch instead of once per token. Bands are rounded
 * to whole tiles so two threads never write the same cache line of y for one token. */
#include "tensor.h"

#include <string.h>

#define ROW_TILE        16
/* Tokens per tile of the prompt GEMM. Measured when each thread had a fixed band of rows and
 * its weights streamed past once per tile (gemm_task now steals 64-row chunks and runs every
 * tile over a chunk, so the tiles' activation rows are what streams from L2 or L3). On an
 * AMD Zen 4 (1 MiB L2, 2 threads, llama-1b-shape, pp512, four rounds alternating binaries,
 * median fractions of the multiply-add peak) tiles of 256 tokens beat 64 for Q4_0, Q4_K_M and
 * Q8_0: 0.677 / 0.581 / 0.649 against 0.640 / 0.560 / 0.627, though 256 rows of the FFN's
 * down projection (5632 columns) no longer fit L2; capping a tile at 1 MiB of activations
 * (128 tokens there) came out at 0.648 / 0.561 / 0.647, between the two. */
#define GEMM_TOKEN_TILE 256
#define GEMM_TILE_STEP  8 /* the x86 kernels' tokens per pass, a multiple of the Arm ones' */
static_assert(ROW_TILE % TM_PACK_ROWS == 0, "bands hold whole packed groups");

typedef struct matmul_job {
    const tm_kernels *k;
    const tm_mat *w;
    const float *x;
    int64_t n_tokens;
    float *y;
    int64_t y_stride;
    tm_dtype act_type;
    uint64_t act_row_bytes;
    tm_matmul_scratch *s;
    const uint16_t *tiles;  /* gemm_bf16: the BF16 activation tiles */
    const tm_gemm_glu *glu; /* gemm_bf16: the fused gate-and-up epilogue, or NULL */
    /* gemm_task: the matrices whose groups it shares out (one for tm_matmul, more for
     * tm_matmul_many); matrix i's groups are units [first[i], first[i + 1]) of the spans */
    int n_parts;
    const tm_mat *part_w[TM_MATMUL_MANY_MAX];
    float *part_y[TM_MATMUL_MANY_MAX];
    int64_t part_stride[TM_MATMUL_MANY_MAX];
    uint32_t first[TM_MATMUL_MANY_MAX + 1];
} matmul_job;

/* packed weights: GEMM activation rows (pack.c), then 16-row groups through the GEMM */
static void pack_act_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    tm_from_float_fn quantize = job->k->quantize[TM_DTYPE_Q8_0];
    for (int64_t t = ith; t < job->n_tokens; t += nth)
        tm_pack_act_quantize(quantize, job->x + t * job->w->n_cols, job->w->n_cols,
                             (uint8_t *)job->s->act + t * job->act_row_bytes);
}

static void band(int64_t n_rows, int ith, int nth, int64_t *r0, int64_t *r1);

/* Packed weights: each thread takes chunks of its band of 16-row groups front to back and,
 * when its band runs out, steals from the others' (tm_spans), so a thread slowed by anything
 * still ends with the rest. A decode step (up to DECODE_TOKENS tokens) is memory-bound and
 * takes about 64 KiB of weights at a time, a few microseconds of streaming. A prompt takes 4
 * groups (64 rows) at a time, whose weights stay in L2 while every token tile passes over
 * them; with a fixed band per thread, tile by tile, the first thread done waited for the
 * other (pp512 fractions of the peak in docs/design.md, "Packed weights"). */
#define DECODE_TOKENS       4
#define DECODE_CHUNK_BYTES  65536
#define PROMPT_CHUNK_GROUPS 4

/* Tokens per tile: the batch shared evenly among the tiles it needs, in whole passes, so no
 * tile is a short remainder (300 tokens: two tiles of 152, not 256 and 44). */
static int64_t token_tile(int64_t n_tokens)
{
    if (n_tokens <= 0)
        return GEMM_TILE_STEP;
    int64_t n_tiles = (n_tokens + GEMM_TOKEN_TILE - 1) / GEMM_TOKEN_TILE;
    int64_t per = (n_tokens + n_tiles - 1) / n_tiles;
    return (per + GEMM_TILE_STEP - 1) / GEMM_TILE_STEP * GEMM_TILE_STEP;
}

/* Groups [g0, g1) of w, every token tile. */
static void gemm_groups(const matmul_job *job, const tm_mat *w, float *y, int64_t y_stride,
                        uint32_t g0, uint32_t g1)
{
    tm_gemm_x16_fn gemm = job->k->gemm_x16[w->type];
    int64_t tile = token_tile(job->n_tokens); /* one tile when decoding */
    for (int64_t t0 = 0; t0 < job->n_tokens; t0 += tile) {
        int64_t nt = TM_MIN(tile, job->n_tokens - t0);
        const uint8_t *act = (const uint8_t *)job->s->act + t0 * job->act_row_bytes;
        for (int64_t r = (int64_t)g0 * TM_PACK_ROWS; r < (int64_t)g1 * TM_PACK_ROWS;
             r += TM_PACK_ROWS)
            gemm(w->n_cols, (const uint8_t *)w->data + r * w->row_bytes, act, job->act_row_bytes,
                 nt, y + t0 * y_stride + r, y_stride);
    }
}

static void gemm_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    uint64_t group_bytes = 0;
    for (int i = 0; i < job->n_parts; i++)
        group_bytes = TM_MAX(group_bytes, job->part_w[i]->row_bytes * TM_PACK_ROWS);
    uint32_t chunk = job->n_tokens <= DECODE_TOKENS
                         ? (uint32_t)TM_MAX(1, DECODE_CHUNK_BYTES / group_bytes)
                         : PROMPT_CHUNK_GROUPS,
             g0, g1;
    (void)nth;
    while (tm_spans_next(job->s->spans, ith, chunk, &g0, &g1))
        for (int i = 0; i < job->n_parts; i++) { /* the parts of the matrices the units span */
            uint32_t lo = TM_MAX(g0, job->first[i]), hi = TM_MIN(g1, job->first[i + 1]);
            if (lo < hi)
                gemm_groups(job, job->part_w[i], job->part_y[i], job->part_stride[i],
                            lo - job->first[i], hi - job->first[i]);
        }
}

/* packed weights x BF16 activation tiles (AMX); the tiles' rows past the batch are zeros */
static void bf16_act_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    int64_t n_cols = job->w->n_cols, n_tiles = (job->n_tokens + 15) / 16;
    uint8_t *tiles = job->s->act;
    for (int64_t t = ith; t < n_tiles * 16; t += nth) {
        if (t < job->n_tokens) {
            job->k->bf16_act_row(job->x + t * n_cols, n_cols, n_tiles, t, tiles);
            continue;
        }
        for (int64_t c = 0; c < n_cols; c += 32)
            memset(tiles + tm_bf16_tile_offset(n_cols, n_tiles, t, c), 0, 64);
    }
}

static void gemm_bf16_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    const tm_mat *w = job->w;
    int64_t r0, r1;
    if (job->glu) { /* bands of whole pairs of pairs: 32 output columns, a tile row's 64 bytes */
        int64_t n_quads = w->n_rows / 64, per = (n_quads + nth - 1) / nth;
        r0 = TM_MIN(ith * per * 64, w->n_rows);
        r1 = ith == nth - 1 ? w->n_rows : TM_MIN((ith + 1) * per * 64, w->n_rows);
    } else {
        band(w->n_rows, ith, nth, &r0, &r1);
    }
    if (r0 >= r1)
        return;
    tm_gemm_glu glu;
    if (job->glu) {
        glu = *job->glu;
        glu.col0 = r0 / 32 * 16;
    }
    job->k->gemm_bf16[w->type](w->n_cols, (const uint8_t *)w->data + r0 * w->row_bytes,
                               TM_PACK_ROWS * w->row_bytes, (r1 - r0) / TM_PACK_ROWS, job->tiles,
                               job->n_tokens, job->y ? job->y + r0 : NULL, job->y_stride,
                               job->s->rows + ith * job->s->rows_per_thread + job->s->row_floats,
                               job->glu ? &glu : NULL);
}

static void quantize_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    tm_from_float_fn quantize = job->k->quantize[job->act_type];
    for (int64_t t = ith; t < job->n_tokens; t += nth)
        quantize(job->x + t * job->w->n_cols, (uint8_t *)job->s->act + t * job->act_row_bytes,
                 job->w->n_cols);
}

static void band(int64_t n_rows, int ith, int nth, int64_t *r0, int64_t *r1)
{
    int64_t n_tiles = (n_rows + ROW_TILE - 1) / ROW_TILE;
    int64_t per = (n_tiles + nth - 1) / nth;
    *r0 = TM_MIN(ith * per * ROW_TILE, n_rows);
    *r1 = TM_MIN((ith + 1) * per * ROW_TILE, n_rows);
}

static void dot_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    const tm_mat *w = job->w;
    tm_vec_dot_fn dot = job->k->vec_dot[w->type];
    tm_vec_dot_x4_fn dot_x4 = job->k->vec_dot_x4[w->type];
    const uint8_t *act = job->s->act;
    int64_t r0, r1;
    band(w->n_rows, ith, nth, &r0, &r1);
    for (int64_t rt = r0; rt < r1; rt += ROW_TILE) {
        int64_t rt1 = TM_MIN(rt + ROW_TILE, r1), t = 0;
        for (; dot_x4 && t + 4 <= job->n_tokens; t += 4) { /* a row unpacked once per 4 */
            const void *xt = act + t * job->act_row_bytes;
            float *yt = job->y + t * job->y_stride;
            for (int64_t r = rt; r < rt1; r++) {
                float o[4];
                dot_x4(w->n_cols, o, (const uint8_t *)w->data + r * w->row_bytes, xt,
                       job->act_row_bytes);
                for (int k = 0; k < 4; k++)
                    yt[k * job->y_stride + r] = o[k];
            }
        }
        for (; t < job->n_tokens; t++) {
            const void *xt = act + t * job->act_row_bytes;
            float *yt = job->y + t * job->y_stride;
            for (int64_t r = rt; r < rt1; r++)
                dot(w->n_cols, &yt[r], (const uint8_t *)w->data + r * w->row_bytes, xt);
        }
    }
}

/* float_activations: dequantize each weight row once, then dot it with every token in F32 */
static void dequant_dot_task(void *arg, int ith, int nth)
{
    const matmul_job *job = arg;
    const tm_mat *w = job->w;
    tm_to_float_fn to_float = job->k->to_float[w->type];
    tm_vec_dot_fn dot = job->k->vec_dot[TM_DTYPE_F32];
    float *row = job->s->rows + ith * job->s->rows_per_thread;
    int64_t r0, r1;
    band(w->n_rows, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        if (w->packed)
            tm_pack_row_to_float(w->type,
                                 (const uint8_t *)w->data + (r - r % TM_PACK_ROWS) * w->row_bytes,
                                 (int)(r % TM_PACK_ROWS), w->n_cols, row);
        else
            to_float((const uint8_t *)w->data + r * w->row_bytes, row, w->n_cols);
        for (int64_t t = 0; t < job->n_tokens; t++)
            dot(w->n_cols, &job->y[t * job->y_stride + r], row, job->x + t * w->n_cols);
    }
}

/* What the scratch's activations hold: a form (ACT_BF16 tiles, ACT_PACK rows, or
 * ACT_TYPE + an activation dtype) of n_tokens rows of n_cols. */
enum { ACT_NONE = 0, ACT_BF16 = 1, ACT_PACK = 2, ACT_TYPE = 3 };

/* Converts the activations unless the caller said they are unchanged since the last call,
 * which left them in this form. */
static void convert_input(tm_pool *pool, matmul_job *job, tm_task_fn task, int form,
                          bool same_input)
{
    tm_matmul_scratch *s = job->s;
    if (same_input && s->act_form == form && s->act_tokens == job->n_tokens &&
        s->act_cols == job->w->n_cols)
        return;
    if (job->n_tokens == 1)
        task(job, 0, 1); /* one row: not worth waking the pool */
    else
        tm_pool_run(pool, task, job);
    s->act_form = form;
    s->act_tokens = job->n_tokens;
    s->act_cols = job->w->n_cols;
}

/* Packed matrices through the x16 GEMM, all taking the activation format of w[0]: x
 * converted once (job->w is w[0]), then one pool run sharing out every matrix's groups. */
static void packed_gemm(matmul_job *job, tm_pool *pool, int n_mats, const tm_mat *const *w,
                        float *const *y, const int64_t *y_stride, bool same_input)
{
    tm_matmul_scratch *s = job->s;
    bool q8_k = tm_pack_act_is_q8_k(w[0]->type);
    if (q8_k)
        tm_dtype_row_bytes(TM_DTYPE_Q8_K, w[0]->n_cols, &job->act_row_bytes);
    else
        job->act_row_bytes = tm_pack_act_row_bytes(w[0]->n_cols);
    assert(job->act_row_bytes * (uint64_t)job->n_tokens <= s->act_bytes);
    if (q8_k)
        convert_input(pool, job, quantize_task, ACT_TYPE + TM_DTYPE_Q8_K, same_input);
    else
        convert_input(pool, job, pack_act_task, ACT_PACK, same_input);
    uint64_t units = 0;
    for (int i = 0; i < n_mats; i++) {
        assert(job->k->gemm_x16[w[i]->type] && w[i]->n_rows % TM_PACK_ROWS == 0);
        job->part_w[i] = w[i];
        job->part_y[i] = y[i];
        job->part_stride[i] = y_stride[i];
        job->first[i] = (uint32_t)units;
        units += (uint64_t)(w[i]->n_rows / TM_PACK_ROWS);
    }
    assert(units <= UINT32_MAX);
    job->n_parts = n_mats;
    job->first[n_mats] = (uint32_t)units;
    tm_spans_reset(s->spans, tm_pool_size(pool), (uint32_t)units);
    tm_pool_run(pool, gemm_task, job);
}

void tm_matmul(const tm_kernels *k, tm_pool *pool, const tm_mat *w, const float *x,
               int64_t n_tokens, float *y, int64_t y_stride, bool float_activations,
               bool same_input, tm_matmul_scratch *s)
{
    const tm_type_traits *tr = tm_type_traits_get(w->type);
    matmul_job job = {.k = k,
                      .w = w,
                      .x = x,
                      .n_tokens = n_tokens,
                      .y = y,
                      .y_stride = y_stride,
                      .act_type = tr->act_type,
                      .s = s};
    bool plain_float = tr->act_type == TM_DTYPE_F32;
    if (plain_float || float_activations)
        s->act_form = ACT_NONE; /* x is read in place: what act holds is not this x */
    if (float_activations && !plain_float) {
        assert(w->n_cols <= s->row_floats && tm_pool_size(pool) <= s->n_threads);
        tm_pool_run(pool, dequant_dot_task, &job);
        return;
    }
    if (plain_float) {
        /* F32 activations are used in place: no conversion pass */
        job.act_row_bytes = (uint64_t)w->n_cols * sizeof(float);
        tm_matmul_scratch view = *s;
        view.act = (void *)x;
        job.s = &view;
        tm_pool_run(pool, dot_task, &job);
        return;
    }
    if (w->packed && k->gemm_bf16[w->type] && n_tokens >= TM_GEMM_BF16_MIN_TOKENS) {
        assert(w->n_rows % TM_PACK_ROWS == 0 && tm_pool_size(pool) <= s->n_threads &&
               (uint64_t)(n_tokens + 15) / 16 * 16 * (uint64_t)w->n_cols * 2 <= s->act_bytes);
        convert_input(pool, &job, bf16_act_task, ACT_BF16, same_input);
        job.tiles = s->act;
        tm_pool_run(pool, gemm_bf16_task, &job);
        return;
    }
    if (w->packed) {
        packed_gemm(&job, pool, 1, &w, &y, &y_stride, same_input);
        return;
    }
    bool ok = tm_dtype_row_bytes(tr->act_type, w->n_cols, &job.act_row_bytes);
    assert(ok && job.act_row_bytes * (uint64_t)n_tokens <= s->act_bytes);
    (void)ok;
    convert_input(pool, &job, quantize_task, ACT_TYPE + (int)tr->act_type, same_input);
    tm_pool_run(pool, dot_task, &job);
}

void tm_matmul_many(const tm_kernels *k, tm_pool *pool, int n_mats, const tm_mat *const *w,
                    const float *x, int64_t n_tokens, float *const *y, bool float_activations,
                    bool same_input, tm_matmul_scratch *s)
{
    assert(n_mats >= 1 && n_mats <= TM_MATMUL_MANY_MAX);
    bool shared = !float_activations && n_mats > 1;
    for (int i = 0; i < n_mats && shared; i++) /* packed, one activation format, one x16 path */
        shared = w[i]->packed && k->gemm_x16[w[i]->type] && w[i]->n_rows % TM_PACK_ROWS == 0 &&
                 w[i]->n_cols == w[0]->n_cols &&
                 tm_pack_act_is_q8_k(w[i]->type) == tm_pack_act_is_q8_k(w[0]->type) &&
                 !(k->gemm_bf16[w[i]->type] && n_tokens >= TM_GEMM_BF16_MIN_TOKENS);
    if (!shared) {
        for (int i = 0; i < n_mats; i++)
            tm_matmul(k, pool, w[i], x, n_tokens, y[i], w[i]->n_rows, float_activations,
                      same_input || i > 0, s);
        return;
    }
    matmul_job job = {.k = k,
                      .w = w[0],
                      .x = x,
                      .n_tokens = n_tokens,
                      .act_type = tm_type_traits_get(w[0]->type)->act_type,
                      .s = s};
    int64_t strides[TM_MATMUL_MANY_MAX];
    for (int i = 0; i < n_mats; i++)
        strides[i] = w[i]->n_rows;
    packed_gemm(&job, pool, n_mats, w, y, strides, same_input);
}

/* floats of a thread's dequantized row: the widest row, rounded up to 64 bytes */
static int64_t row_floats(int64_t max_cols)
{
    return (max_cols + 15) / 16 * 16;
}

bool tm_matmul_has_glu(const tm_kernels *k, const tm_mat *w, int64_t n_tokens)
{
    return w->packed && k->gemm_bf16[w->type] && k->bf16_act_row &&
           n_tokens >= TM_GEMM_BF16_MIN_TOKENS && w->n_rows % 64 == 0;
}

void tm_matmul_glu(const tm_kernels *k, tm_pool *pool, const tm_mat *w, const float *x,
                   int64_t n_tokens, int act, void *out_tiles, tm_matmul_scratch *s)
{
    assert(tm_matmul_has_glu(k, w, n_tokens) && tm_pool_size(pool) <= s->n_threads);
    matmul_job job = {.k = k, .w = w, .x = x, .n_tokens = n_tokens, .s = s};
    tm_gemm_glu glu = {
        .act = act, .tiles = out_tiles, .n_cols = w->n_rows / 2, .n_tiles = (n_tokens + 15) / 16};
    job.glu = &glu;
    convert_input(pool, &job, bf16_act_task, ACT_BF16, false);
    job.tiles = s->act;
    tm_pool_run(pool, gemm_bf16_task, &job);
}

void tm_matmul_tiles(const tm_kernels *k, tm_pool *pool, const tm_mat *w, const void *tiles,
                     int64_t n_tokens, float *y, int64_t y_stride, tm_matmul_scratch *s)
{
    assert(w->packed && k->gemm_bf16[w->type] && tm_pool_size(pool) <= s->n_threads);
    matmul_job job = {.k = k, .w = w, .n_tokens = n_tokens, .y = y, .y_stride = y_stride, .s = s};
    job.tiles = tiles;
    s->act_form = ACT_NONE; /* this product had no x */
    tm_pool_run(pool, gemm_bf16_task, &job);
}

bool tm_matmul_scratch_bytes(int64_t max_tokens, int64_t max_cols, int n_threads,
                             uint64_t *act_bytes, uint64_t *rows_bytes)
{
    /* the widest activation format per element: F32 (4 bytes); Q8 formats and BF16 need less
     * (BF16 rows padded to a multiple of 16, at most twice the rows, still fit) */
    uint64_t per_thread =
        (uint64_t)row_floats(max_cols) * sizeof(float) + tm_gemm_bf16_scratch_bytes(max_tokens);
    bool ok = tm_mul_u64((uint64_t)max_tokens, (uint64_t)max_cols * 4 + 64, act_bytes) &&
              tm_mul_u64((uint64_t)n_threads, per_thread, rows_bytes);
    *rows_bytes += tm_spans_bytes(n_threads);
    return ok && *act_bytes <= SIZE_MAX && *rows_bytes <= SIZE_MAX;
}

tm_status tm_matmul_scratch_init(tm_matmul_scratch *s, int64_t max_tokens, int64_t max_cols,
                                 int n_threads, tm_err *err)
{
    memset(s, 0, sizeof *s);
    uint64_t act_bytes = 0, rows_bytes = 0;
    if (!tm_matmul_scratch_bytes(max_tokens, max_cols, n_threads, &act_bytes, &rows_bytes))
        return tm_fail(err, TM_E_LIMIT, "matmul scratch for %lld tokens x %lld columns",
                       (long long)max_tokens, (long long)max_cols);
    /* rows_bytes counts the spans, which are an allocation of their own */
    uint64_t per_thread_bytes = (rows_bytes - tm_spans_bytes(n_threads)) / (uint64_t)n_threads;
    s->act = tm_aligned_alloc(64, (size_t)act_bytes);
    s->rows = tm_aligned_alloc(64, (size_t)(per_thread_bytes * (uint64_t)n_threads));
    if (!s->act || !s->rows) {
        tm_matmul_scratch_fini(s);
        return tm_fail(err, TM_E_NOMEM, "matmul scratch of %llu bytes",
                       (unsigned long long)(act_bytes + rows_bytes));
    }
    tm_status st = tm_spans_create(n_threads, &s->spans, err);
    if (st != TM_OK) {
        tm_matmul_scratch_fini(s);
        return st;
    }
    s->act_bytes = (size_t)act_bytes;
    s->rows_bytes = (size_t)rows_bytes;
    s->row_floats = row_floats(max_cols);
    s->rows_per_thread = (int64_t)(per_thread_bytes / sizeof(float));
    s->n_threads = n_threads;
    return TM_OK;
}

void tm_matmul_scratch_fini(tm_matmul_scratch *s)
{
    tm_aligned_free(s->act);
    tm_aligned_free(s->rows);
    tm_spans_free(s->spans);
    memset(s, 0, sizeof *s);
}
