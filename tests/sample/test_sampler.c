/* The sampler chain: greedy is argmax, draws follow the softmax, every filter keeps the
 * set it should, the seed makes runs repeatable, hostile parameters are refused. */
#include "sample/sample.h"
#include "test.h"

static tm_sampler *make(tm_sampler_params p, int32_t n_vocab)
{
    tm_err err = {0};
    tm_sampler *s = NULL;
    TM_CHECK_OK(tm_sampler_create(&p, n_vocab, &s, &err), &err);
    return s;
}

static void test_greedy(void)
{
    tm_sampler_params p = tm_sampler_params_default();
    p.temperature = 0;
    tm_sampler *s = make(p, 6);
    float logits[6] = {0.1f, 3.0f, -1.0f, 3.0f, NAN, 2.9f};
    TM_CHECK_EQ_INT(tm_sampler_sample(s, logits), 1); /* ties: lowest id; NaN never */
    tm_sampler_free(s);
    /* top_k = 1 is greedy at any temperature */
    p.temperature = 5.0f;
    p.top_k = 1;
    s = make(p, 6);
    for (int i = 0; i < 50; i++)
        TM_CHECK_EQ_INT(tm_sampler_sample(s, logits), 1);
    tm_sampler_free(s);
}

/* Frequencies over many draws match the softmax of logits / temperature within 4 sigma. */
static void test_distribution(void)
{
    tm_sampler_params p = tm_sampler_params_default();
    p.temperature = 0.7f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 11;
    float logits[5] = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f};
    double want[5], sum = 0;
    for (int i = 0; i < 5; i++)
        sum += want[i] = exp(logits[i] / 0.7);
    tm_sampler *s = make(p, 5);
    int counts[5] = {0};
    const int n = 20000;
    for (int i = 0; i < n; i++)
        counts[tm_sampler_sample(s, logits)]++;
    for (int i = 0; i < 5; i++) {
        double pi = want[i] / sum, sigma = sqrt(n * pi * (1 - pi));
        TM_CHECK_MSG(fabs(counts[i] - n * pi) <= 4 * sigma, "id %d: %d draws, expected %.0f", i,
                     counts[i], n * pi);
    }
    tm_sampler_free(s);
}

static void test_seed(void)
{
    tm_sampler_params p = tm_sampler_params_default();
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0;
    float flat[100] = {0};
    tm_token a[64], b[64], c[64];
    p.seed = 5;
    tm_sampler *s1 = make(p, 100), *s2 = make(p, 100);
    p.seed = 6;
    tm_sampler *s3 = make(p, 100);
    int same_as_other_seed = 0;
    for (int i = 0; i < 64; i++) {
        a[i] = tm_sampler_sample(s1, flat);
        b[i] = tm_sampler_sample(s2, flat);
        c[i] = tm_sampler_sample(s3, flat);
        TM_CHECK_EQ_INT(a[i], b[i]);
        same_as_other_seed += a[i] == c[i];
    }
    TM_CHECK(same_as_other_seed < 10);
    tm_sampler_reset(s1); /* reset restarts the seed's sequence */
    for (int i = 0; i < 64; i++)
        TM_CHECK_EQ_INT(tm_sampler_sample(s1, flat), a[i]);
    tm_sampler_free(s1);
    tm_sampler_free(s2);
    tm_sampler_free(s3);
}

static void test_filters(void)
{
    enum { N = 1000 };
    static tm_candidate data[N];
    tm_rng rng;
    tm_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++)
        data[i] = (tm_candidate){i, (float)(tm_rng_uniform(&rng) * 10), 0};
    data[500].logit = 20.0f;
    data[77].logit = 19.0f;
    tm_cands c = {data, N, false};
    tm_cands_top_k(&c, 40);
    TM_CHECK_EQ_INT(c.n, 40);
    TM_CHECK_EQ_INT(c.data[0].id, 500);
    TM_CHECK_EQ_INT(c.data[1].id, 77);
    for (int i = 1; i < c.n; i++)
        TM_CHECK(c.data[i - 1].logit >= c.data[i].logit);

    /* probabilities 0.5, 0.25, 0.125, ...: top_p 0.8 keeps 3 (0.875), min_p 0.2 keeps 3 */
    tm_candidate geo[8];
    for (int i = 0; i < 8; i++)
        geo[i] = (tm_candidate){i, (float)(-i * log(2.0)), 0};
    tm_cands g = {geo, 8, false};
    tm_cands_softmax(&g);
    tm_cands_top_p(&g, 0.8f);
    TM_CHECK_EQ_INT(g.n, 3);
    TM_CHECK_NEAR(g.data[0].p, 0.5 / 0.875, 1e-5);
    g.n = 8;
    for (int i = 0; i < 8; i++)
        geo[i] = (tm_candidate){i, (float)(-i * log(2.0)), 0};
    g.sorted = false;
    tm_cands_softmax(&g);
    tm_cands_min_p(&g, 0.2f);
    TM_CHECK_EQ_INT(g.n, 3); /* 0.125 / 0.5 = 0.25 >= 0.2; 0.0625 / 0.5 < 0.2 */
}

static void test_repeat_penalty(void)
{
    tm_sampler_params p = tm_sampler_params_default();
    p.temperature = 0;
    p.repeat_penalty = 2.0f;
    tm_sampler *s = make(p, 4);
    float logits[4] = {4.0f, 3.0f, -1.0f, -1.5f};
    TM_CHECK_EQ_INT(tm_sampler_sample(s, logits), 0);
    tm_sampler_accept(s, 0);
    tm_sampler_accept(s, 0);                          /* penalised once however often it occurred */
    TM_CHECK_EQ_INT(tm_sampler_sample(s, logits), 1); /* 4 / 2 = 2 < 3 */
    tm_sampler_accept(s, 1);                          /* 3 / 2 = 1.5 < 2 */
    TM_CHECK_EQ_INT(tm_sampler_sample(s, logits), 0);
    float neg[4] = {-1.0f, -1.5f, -5, -5};
    tm_sampler_reset(s);
    tm_sampler_accept(s, 0); /* negative logits are multiplied: -2 < -1.5 */
    TM_CHECK_EQ_INT(tm_sampler_sample(s, neg), 1);
    TM_CHECK(logits[0] == 4.0f); /* the caller's logits are not modified */
    tm_sampler_free(s);
}

static void test_bad_params(void)
{
    tm_err err = {0};
    tm_sampler *s = NULL;
    tm_sampler_params p = tm_sampler_params_default();
    TM_CHECK_STATUS(tm_sampler_create(&p, 0, &s, &err), TM_E_ARG, &err);
    p.top_k = -1;
    TM_CHECK_STATUS(tm_sampler_create(&p, 10, &s, &err), TM_E_ARG, &err);
    p = tm_sampler_params_default();
    p.top_p = 0;
    TM_CHECK_STATUS(tm_sampler_create(&p, 10, &s, &err), TM_E_ARG, &err);
    p = tm_sampler_params_default();
    p.min_p = 1.5f;
    TM_CHECK_STATUS(tm_sampler_create(&p, 10, &s, &err), TM_E_ARG, &err);
    p = tm_sampler_params_default();
    p.repeat_penalty = 0;
    TM_CHECK_STATUS(tm_sampler_create(&p, 10, &s, &err), TM_E_ARG, &err);
    p = tm_sampler_params_default();
    p.temperature = NAN;
    TM_CHECK_STATUS(tm_sampler_create(&p, 10, &s, &err), TM_E_ARG, &err);
    TM_CHECK(s == NULL);
    /* all -inf logits: a token, not a crash */
    p = tm_sampler_params_default();
    s = make(p, 3);
    float dead[3] = {-INFINITY, -INFINITY, NAN};
    tm_token t = tm_sampler_sample(s, dead);
    TM_CHECK(t >= 0 && t < 3);
    tm_sampler_free(s);
}

int main(void)
{
    TM_RUN(test_greedy);
    TM_RUN(test_distribution);
    TM_RUN(test_seed);
    TM_RUN(test_filters);
    TM_RUN(test_repeat_penalty);
    TM_RUN(test_bad_params);
    return tm_test_result();
}
