/* Scale searches shared by the K-quant quantizers. Rounding each value with the plain
 * max-abs scale wastes codes; trying a few scales around it and refitting each by least
 * squares lowers the error markedly, at a cost only paid when a model is quantized. (The
 * idea is the one ggml's reference quantizers use; this is our own formulation.) */
#include "quant.h"

static inline int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

float tm_quant_fit_symmetric(int n, const float *x, const float *w, int qmin, int qmax, int8_t *q)
{
    float max = tm_signed_absmax(x, n);
    if (max == 0) {
        for (int i = 0; i < n; i++)
            q[i] = 0;
        return 0;
    }
    /* The value of largest magnitude maps to the most negative code: that side has one more
     * code than the positive side. */
    float best_scale = 0, best_err = INFINITY;
    int8_t trial[256];
    for (int step = -9; step <= 9; step++) {
        float iscale = ((float)qmin + 0.1f * (float)step) / max;
        double sxq = 0, sqq = 0;
        for (int i = 0; i < n; i++) {
            trial[i] = (int8_t)clamp_int(tm_round_even(iscale * x[i]), qmin, qmax);
            double wi = w ? w[i] : 1.0;
            sxq += wi * x[i] * trial[i];
            sqq += wi * trial[i] * trial[i];
        }
        if (sqq == 0)
            continue;
        float scale = (float)(sxq / sqq);
        double err = 0;
        for (int i = 0; i < n; i++) {
            double e = x[i] - scale * trial[i];
            err += (w ? w[i] : 1.0) * e * e;
        }
        if (err < best_err) {
            best_err = (float)err;
            best_scale = scale;
            for (int i = 0; i < n; i++)
                q[i] = trial[i];
        }
    }
    return best_scale;
}

float tm_quant_fit_affine(int n, const float *x, const float *w, int qmax, uint8_t *q, float *m)
{
    float lo = 0, hi = x[0];
    for (int i = 0; i < n; i++) {
        lo = TM_MIN(lo, x[i]);
        hi = TM_MAX(hi, x[i]);
    }
    if (hi <= lo) { /* all values equal (and <= 0): the offset alone represents them */
        for (int i = 0; i < n; i++)
            q[i] = 0;
        *m = -lo;
        return 0;
    }
    float best_scale = (hi - lo) / (float)qmax, best_off = lo;
    double best_err = INFINITY;
    uint8_t trial[256];
    for (int step = 0; step <= 20; step++) {
        float iscale = ((float)qmax - 1.0f + 0.1f * (float)step) / (hi - lo);
        double sw = 0, sq = 0, sqq = 0, sx = 0, sxq = 0;
        for (int i = 0; i < n; i++) {
            int v = clamp_int(tm_round_even(iscale * (x[i] - lo)), 0, qmax);
            trial[i] = (uint8_t)v;
            double wi = w ? w[i] : 1.0;
            sw += wi;
            sq += wi * v;
            sqq += wi * v * v;
            sx += wi * x[i];
            sxq += wi * x[i] * v;
        }
        /* least squares for x ~ scale * q + off; the format needs off <= 0 */
        double det = sw * sqq - sq * sq;
        if (det <= 0)
            continue;
        double scale = (sw * sxq - sq * sx) / det, off = (sqq * sx - sq * sxq) / det;
        if (off > 0) {
            off = 0;
            scale = sqq > 0 ? sxq / sqq : 0;
        }
        if (scale <= 0)
            continue;
        double err = 0;
        for (int i = 0; i < n; i++) {
            double e = x[i] - (scale * trial[i] + off);
            err += (w ? w[i] : 1.0) * e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = (float)scale;
            best_off = (float)off;
            for (int i = 0; i < n; i++)
                q[i] = trial[i];
        }
    }
    if (best_err == INFINITY) /* no candidate fitted: plain min/max codes */
        for (int i = 0; i < n; i++)
            q[i] = (uint8_t)clamp_int(tm_round_even((x[i] - lo) / best_scale), 0, qmax);
    *m = -best_off;
    return best_scale;
}

float tm_qk_affine_dot(const uint8_t q[TM_QK_K], const uint8_t scales[12], uint16_t d,
                       uint16_t dmin, const tm_block_q8_k *b)
{
    int32_t sum_q = 0, sum_m = 0;
    for (int g = 0; g < 8; g++) {
        uint8_t sc, m;
        tm_q4k_scale_min(g, scales, &sc, &m);
        int32_t s = 0;
        for (int l = 0; l < 32; l++)
            s += q[32 * g + l] * b->qs[32 * g + l];
        sum_q += sc * s;
        sum_m += m * (b->bsums[2 * g] + b->bsums[2 * g + 1]);
    }
    return b->d * (tm_f16_to_f32(d) * (float)sum_q - tm_f16_to_f32(dmin) * (float)sum_m);
}

int32_t tm_qk_groups16_dot(const int8_t q[TM_QK_K], const int *scale, const int8_t *y)
{
    int32_t sum = 0;
    for (int g = 0; g < 16; g++) {
        int32_t s = 0;
        for (int l = 0; l < 16; l++)
            s += q[16 * g + l] * y[16 * g + l];
        sum += scale[g] * s;
    }
    return sum;
}

float tm_q8_codes_32(const float *x, int8_t qs[32])
{
    float amax = 0;
    for (int j = 0; j < 32; j++)
        amax = TM_MAX(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < 32; j++)
        qs[j] = (int8_t)tm_round_even(x[j] * id);
    return d;
}
