/* Helpers for the golden-logit tests: comparing logit arrays and running a model over ids
 * with every kernel table this CPU has. */
#ifndef TM_TEST_MODEL_GOLDEN_H
#define TM_TEST_MODEL_GOLDEN_H

#include "tensor/tensor.h"
#include "test.h"

/* Compares n values; prints max and mean |diff| under a label; checks both tolerances. */
static inline void golden_compare(const char *label, const float *got, const float *want, int64_t n,
                                  double tol_max, double tol_mean)
{
    double max = 0, sum = 0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= max)) { /* also catches NaN */
            max = isnan(d) ? INFINITY : d;
            worst = i;
        }
        sum += d;
    }
    double mean = sum / (double)n;
    fprintf(stderr, "  %-48s max|diff| %.3g (at %lld)  mean %.3g  (tolerance %.3g / %.3g)\n", label,
            max, (long long)worst, mean, tol_max, tol_mean);
    TM_CHECK_MSG(max <= tol_max, "%s: max|diff| %.6g > %.6g", label, max, tol_max);
    TM_CHECK_MSG(mean <= tol_mean, "%s: mean|diff| %.6g > %.6g", label, mean, tol_mean);
}

/* Whether name is one of the comma-separated names in list. */
static inline bool golden_listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* The kernel tables the golden tests run: every table this CPU runs, or only those of them
 * named in TM_TEST_KERNELS (comma-separated; the test is skipped if none of them runs here).
 * Emulated builds register the golden tests once per table with it (tests/model/
 * CMakeLists.txt): under QEMU each table costs minutes. */
static inline int golden_tables(const char **names, int cap)
{
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    const char *all[8];
    int n_all = tm_kernels_available(&cpu, all, 8), n = 0;
    const char *only = tm_getenv("TM_TEST_KERNELS");
    for (int i = 0; i < n_all && n < cap; i++)
        if (!only || golden_listed(only, all[i]))
            names[n++] = all[i];
    if (n == 0) /* the tables asked for do not run here: missing hardware */
        tm_test_skip("no kernel table of TM_TEST_KERNELS runs on this CPU");
    return n;
}

/* Logits of ids[0..n) through the public API: one batch, or one token at a time. */
static inline bool golden_eval(const char *path, const char *kernels, bool float_act,
                               const tm_token *ids, int32_t n, bool one_by_one, float *logits)
{
    tm_err err = {0};
    tm_model_params mp = tm_model_params_default();
    mp.kernels = kernels;
    mp.float_activations = float_act;
    tm_model *model = NULL;
    TM_CHECK_OK(tm_model_load(path, &mp, &model, &err), &err);
    if (!model)
        return false;
    tm_session_params sp = tm_session_params_default();
    sp.kv_type = TM_KV_F32; /* the references were computed with an F32 cache */
    sp.n_ctx = n;
    sp.n_batch = one_by_one ? 1 : n;
    sp.n_threads = 2;
    tm_session *s = NULL;
    TM_CHECK_OK(tm_session_create(model, &sp, &s, &err), &err);
    bool ok = s != NULL;
    int32_t n_vocab = tm_model_n_vocab(model);
    if (ok && !one_by_one) {
        TM_CHECK_OK(tm_session_eval(s, ids, n, logits, true, &err), &err);
    }
    for (int32_t k = 0; ok && one_by_one && k < n; k++)
        TM_CHECK_OK(tm_session_eval(s, &ids[k], 1, logits + (int64_t)k * n_vocab, false, &err),
                    &err);
    tm_session_free(s);
    tm_model_free(model);
    return ok;
}

#endif
