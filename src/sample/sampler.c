/* The sampler chain of include/temoto.h over the steps in candidates.c. All
 * memory is allocated at create: sampling a token allocates nothing. */
#include "sample.h"

#include <math.h>
#include <string.h>

struct tm_sampler {
    tm_sampler_params params;
    int32_t n_vocab;
    tm_candidate *cands;
    tm_token *recent; /* ring of the last repeat_last_n accepted tokens */
    int32_t n_recent, recent_pos;
    uint8_t *seen; /* per id: already penalised in this call (reset after use) */
    tm_rng rng;
};

tm_sampler_params tm_sampler_params_default(void)
{
    tm_sampler_params p = {
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = 64,
        .seed = 0,
    };
    return p;
}

void tm_sampler_free(tm_sampler *s)
{
    if (!s)
        return;
    tm_free(s->cands);
    tm_free(s->recent);
    tm_free(s->seen);
    tm_free(s);
}

tm_status tm_sampler_create(const tm_sampler_params *params, int32_t n_vocab, tm_sampler **out,
                            tm_err *err)
{
    tm_sampler_params p = params ? *params : tm_sampler_params_default();
    if (n_vocab <= 0)
        return tm_fail(err, TM_E_ARG, "sampler: vocabulary size %d", n_vocab);
    if (!(p.temperature == p.temperature)) /* NaN */
        return tm_fail(err, TM_E_ARG, "sampler: temperature is not a number");
    if (p.top_k < 0)
        return tm_fail(err, TM_E_ARG, "sampler: top_k %d is negative", p.top_k);
    if (!(p.top_p > 0 && p.top_p <= 1))
        return tm_fail(err, TM_E_ARG, "sampler: top_p %g is not in (0, 1]", (double)p.top_p);
    if (!(p.min_p >= 0 && p.min_p <= 1))
        return tm_fail(err, TM_E_ARG, "sampler: min_p %g is not in [0, 1]", (double)p.min_p);
    if (!(p.repeat_penalty > 0))
        return tm_fail(err, TM_E_ARG, "sampler: repeat_penalty %g must be above 0",
                       (double)p.repeat_penalty);
    if (p.repeat_last_n < 0)
        return tm_fail(err, TM_E_ARG, "sampler: repeat_last_n %d is negative", p.repeat_last_n);
    tm_sampler *s = tm_calloc(1, sizeof *s);
    if (!s)
        return tm_fail(err, TM_E_NOMEM, "sampler");
    s->params = p;
    s->n_vocab = n_vocab;
    s->cands = tm_malloc((size_t)n_vocab * sizeof *s->cands);
    s->recent = tm_malloc((size_t)TM_MAX(p.repeat_last_n, 1) * sizeof *s->recent);
    s->seen = tm_calloc((size_t)n_vocab, 1);
    if (!s->cands || !s->recent || !s->seen) {
        tm_sampler_free(s);
        return tm_fail(err, TM_E_NOMEM, "sampler for %d tokens", n_vocab);
    }
    tm_rng_seed(&s->rng, p.seed);
    *out = s;
    return TM_OK;
}

void tm_sampler_reset(tm_sampler *s)
{
    s->n_recent = 0;
    s->recent_pos = 0;
    tm_rng_seed(&s->rng, s->params.seed);
}

void tm_sampler_accept(tm_sampler *s, tm_token token)
{
    int32_t cap = s->params.repeat_last_n;
    if (cap <= 0 || token < 0 || token >= s->n_vocab)
        return;
    s->recent[s->recent_pos] = token;
    s->recent_pos = (s->recent_pos + 1) % cap;
    if (s->n_recent < cap)
        s->n_recent++;
}

/* Each recent token is penalised once, however often it occurred (as llama.cpp's
 * repeat penalty does): a positive logit is divided by the penalty, a negative multiplied. */
static void apply_repeat_penalty(tm_sampler *s, tm_candidate *c)
{
    float penalty = s->params.repeat_penalty;
    if (penalty == 1.0f || s->n_recent == 0)
        return;
    for (int32_t i = 0; i < s->n_recent; i++) {
        tm_token t = s->recent[i];
        if (s->seen[t])
            continue;
        s->seen[t] = 1;
        c[t].logit = c[t].logit > 0 ? c[t].logit / penalty : c[t].logit * penalty;
    }
    for (int32_t i = 0; i < s->n_recent; i++)
        s->seen[s->recent[i]] = 0;
}

tm_token tm_sampler_sample(tm_sampler *s, const float *logits)
{
    tm_candidate *c = s->cands;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        float l = logits[i];
        c[i].id = i;
        c[i].logit = l == l ? l : -INFINITY; /* NaN is never picked */
        c[i].p = 0;
    }
    apply_repeat_penalty(s, c);
    if (s->params.temperature <= 0) {
        int32_t best = 0;
        for (int32_t i = 1; i < s->n_vocab; i++)
            if (c[i].logit > c[best].logit)
                best = i;
        return best;
    }
    tm_cands cands = {c, s->n_vocab, false};
    tm_cands_top_k(&cands, s->params.top_k);
    if (cands.data[0].logit == -INFINITY) /* nothing finite to sample from */
        return cands.data[0].id;
    tm_cands_softmax(&cands);
    tm_cands_top_p(&cands, s->params.top_p);
    tm_cands_min_p(&cands, s->params.min_p);
    /* temperature last: it rescales the surviving logits */
    for (int32_t i = 0; i < cands.n; i++)
        cands.data[i].logit /= s->params.temperature;
    tm_cands_softmax(&cands);
    double r = tm_rng_uniform(&s->rng), acc = 0;
    for (int32_t i = 0; i < cands.n; i++) {
        acc += cands.data[i].p;
        if (r < acc)
            return cands.data[i].id;
    }
    return cands.data[cands.n - 1].id;
}
