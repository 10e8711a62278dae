/* The planner's formulas (docs/plan.md): weights from a parameter count and bits per weight,
 * the reference tables' conventions (x 1.10 overhead, nominal KV bits), the engine's own
 * memory computation applied to a model shape, bytes read per generated token, and the
 * search for the largest context that fits.
 *
 * Two KV conventions live here on purpose. The published reference tables count 1 byte
 * (8-bit) and 0.5 byte (4-bit) per cached value (tm_plan_kv_nominal_bytes); the engine's
 * Q8_0 and Q4_0 caches store blocks of 32 values with a 2-byte scale, 34 and 18 bytes, and
 * round positions up to whole blocks of 32. Every planning answer uses the engine's sizes
 * (tm_plan_shape_memory, through tm_memory_estimate_hparams); the nominal formula only
 * reproduces the tables. */
#include "engine.h"

#include <math.h>
#include <string.h>

tm_status tm_plan_params_parse(const char *text, uint64_t *out, tm_err *err)
{
    char num[64];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof num)
        return tm_fail(err, TM_E_ARG, "'%.40s' is not a parameter count (8B, 0.5B, 350M, 8e9)",
                       text);
    memcpy(num, text, n + 1);
    double unit = 1;
    switch (num[n - 1]) {
    case 'k':
    case 'K':
        unit = 1e3;
        break;
    case 'm':
    case 'M':
        unit = 1e6;
        break;
    case 'b':
    case 'B':
    case 'g':
    case 'G':
        unit = 1e9;
        break;
    case 't':
    case 'T':
        unit = 1e12;
        break;
    default:
        break;
    }
    if (unit > 1)
        num[--n] = '\0';
    /* digits, a point and an exponent only: strtod would also take hex, "inf", spaces */
    bool digits = n > 0 && ((num[0] >= '0' && num[0] <= '9') || num[0] == '.');
    for (size_t i = 0; i < n && digits; i++)
        digits = strchr("0123456789.eE+-", num[i]) != NULL;
    double x = 0;
    if (!digits || !tm_parse_f64(num, &x) || !(x > 0))
        return tm_fail(err, TM_E_ARG, "'%s' is not a parameter count (8B, 0.5B, 350M, 8e9)", text);
    double v = x * unit;
    if (!(v >= 1) || v > (double)TM_PLAN_MAX_PARAMS)
        return tm_fail(err, TM_E_ARG, "'%s': the count is out of range (1 to 10^15 parameters)",
                       text);
    *out = (uint64_t)(v + 0.5);
    return TM_OK;
}

tm_status tm_plan_weights_bytes(uint64_t n_params, double bits, uint64_t *out, tm_err *err)
{
    if (!(bits > 0 && bits <= 64))
        return tm_fail(err, TM_E_ARG, "%g bits per weight: between 0 and 64", bits);
    if (n_params > TM_PLAN_MAX_PARAMS)
        return tm_fail(err, TM_E_ARG, "%llu parameters: at most 10^15",
                       (unsigned long long)n_params);
    /* at most 10^15 x 64 / 8 = 8e15 < 2^53: exact for every whole number of bytes */
    *out = (uint64_t)((double)n_params * bits / 8.0 + 0.5);
    return TM_OK;
}

double tm_plan_gib_with_overhead(uint64_t bytes)
{
    return round((double)bytes * 1.10 / (1024.0 * 1024.0 * 1024.0) * 10.0) / 10.0;
}

tm_status tm_plan_kv_nominal_bytes(const tm_plan_shape *shape, int64_t n_ctx, double bits,
                                   uint64_t *out, tm_err *err)
{
    uint64_t values = 0;
    if (n_ctx < 0 || !(bits > 0 && bits <= 64))
        return tm_fail(err, TM_E_ARG, "KV of %lld positions at %g bits", (long long)n_ctx, bits);
    if (!tm_mul_u64(2u * (uint64_t)shape->n_layer * (uint64_t)shape->n_head_kv,
                    (uint64_t)shape->head_dim, &values) ||
        !tm_mul_u64(values, (uint64_t)n_ctx, &values) || values > (1ull << 53) / 64)
        return tm_fail(err, TM_E_LIMIT, "KV of %lld positions of %s is too large", (long long)n_ctx,
                       shape->name);
    *out = (uint64_t)((double)values * bits / 8.0 + 0.5);
    return TM_OK;
}

void tm_plan_shape_hparams(const tm_plan_shape *shape, tm_hparams *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->arch, sizeof out->arch, "%s", shape->name);
    out->n_vocab = shape->n_vocab;
    out->n_ctx_train = shape->n_ctx_train;
    out->n_embd = shape->n_embd;
    out->n_layer = shape->n_layer;
    out->n_head = shape->n_head;
    out->n_head_kv = shape->n_head_kv;
    out->head_dim = out->head_dim_v = out->n_rot = shape->head_dim;
    out->n_ff = shape->n_ff;
    out->n_swa = shape->n_swa;
}

tm_status tm_plan_shape_memory(const tm_plan_shape *shape, uint64_t weights_bytes,
                               const tm_session_params *params, int32_t n_parallel,
                               tm_memory_estimate *out, tm_err *err)
{
    tm_session_params p = params ? *params : tm_session_params_default();
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return tm_fail(err, TM_E_ARG, "context %d, batch %d and threads %d must not be negative",
                       p.n_ctx, p.n_batch, p.n_threads);
    /* resolved as tm_session_params_resolve resolves them for a loaded model */
    if (p.n_ctx == 0)
        p.n_ctx = TM_MIN(shape->n_ctx_train, TM_DEFAULT_CTX);
    if (p.n_batch == 0)
        p.n_batch = 512;
    p.n_batch = TM_MIN(p.n_batch, p.n_ctx);
    p.n_threads = tm_pool_threads_for(p.n_threads);
    tm_hparams hp;
    tm_plan_shape_hparams(shape, &hp);
    tm_status st = tm_memory_estimate_hparams(&hp, &p, n_parallel, weights_bytes, out, err);
    if (st != TM_OK)
        tm_err_context(err, "%s", shape->name);
    return st;
}

/* Keys and values attention reads for one token at `depth`: every position in global
 * layers, the window in sliding-window ones (model/attention.c skips the rest). */
static uint64_t kv_read_bytes(const tm_hparams *hp, int32_t n_swa_layers, int64_t depth,
                              tm_kv_type type_k, tm_kv_type type_v)
{
    tm_kv_type tv = type_v == TM_KV_SAME ? type_k : type_v;
    uint64_t k_row = 0, v_row = 0;
    if (!tm_dtype_row_bytes((uint32_t)type_k, (int64_t)hp->n_head_kv * hp->head_dim, &k_row))
        k_row = 2ull * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    if (!tm_dtype_row_bytes((uint32_t)tv, (int64_t)hp->n_head_kv * hp->head_dim_v, &v_row))
        v_row = 2ull * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim_v;
    int64_t swa_depth = hp->n_swa > 0 ? TM_MIN(depth, (int64_t)hp->n_swa) : depth;
    uint64_t positions = (uint64_t)(hp->n_layer - n_swa_layers) * (uint64_t)depth +
                         (uint64_t)n_swa_layers * (uint64_t)swa_depth;
    return positions * (k_row + v_row);
}

uint64_t tm_plan_decode_bytes_model(const tm_model *model, int64_t depth, tm_kv_type type_k,
                                    tm_kv_type type_v)
{
    const tm_net *net = model->net;
    uint64_t weights = tm_model_weight_bytes(model);
    uint64_t embd_rest = net->token_embd.row_bytes * (uint64_t)(net->token_embd.n_rows - 1);
    if (net->output.data != net->token_embd.data) /* untied: one row of it is read */
        weights -= embd_rest;
    int32_t n_swa = 0;
    for (int32_t i = 0; i < net->hp.n_layer; i++) {
        const tm_layer *l = &net->layers[i];
        n_swa += l->swa;
        if (!l->exp_gate || net->hp.n_expert <= net->hp.n_expert_used)
            continue;
        /* a token runs n_expert_used of the n_expert experts (all of one size) */
        uint64_t experts = 0;
        for (int32_t e = 0; e < net->hp.n_expert; e++)
            experts += l->exp_gate[e].row_bytes * (uint64_t)l->exp_gate[e].n_rows +
                       l->exp_up[e].row_bytes * (uint64_t)l->exp_up[e].n_rows +
                       l->exp_down[e].row_bytes * (uint64_t)l->exp_down[e].n_rows;
        weights -= experts / (uint64_t)net->hp.n_expert *
                   (uint64_t)(net->hp.n_expert - net->hp.n_expert_used);
    }
    return weights + kv_read_bytes(&net->hp, n_swa, depth, type_k, type_v);
}

uint64_t tm_plan_decode_bytes_shape(const tm_plan_shape *shape, uint64_t weights_bytes, double bits,
                                    int64_t depth, tm_kv_type type_k, tm_kv_type type_v)
{
    tm_hparams hp;
    tm_plan_shape_hparams(shape, &hp);
    uint64_t weights = weights_bytes;
    if (!shape->tied) {
        double rest = (double)(shape->n_vocab - 1) * (double)shape->n_embd * bits / 8.0;
        weights -= TM_MIN(weights, (uint64_t)rest);
    }
    int32_t n_swa = 0;
    for (int32_t i = 0; shape->n_swa > 0 && i < shape->n_layer; i++)
        n_swa += (i + 1) % shape->swa_period != 0;
    return weights + kv_read_bytes(&hp, n_swa, depth, type_k, type_v);
}

int32_t tm_plan_max_ctx(int32_t cap, bool (*fits)(int32_t n_ctx, void *arg), void *arg)
{
    if (cap < 1 || !fits(1, arg))
        return 0;
    int32_t lo = 1, hi = cap; /* fits(lo) holds; the answer is in lo .. hi */
    while (lo < hi) {
        int32_t mid = lo + (hi - lo + 1) / 2;
        if (fits(mid, arg))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}
