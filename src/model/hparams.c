/* Hyper-parameters from GGUF metadata: the "<arch>.*" keys that llama.cpp's converters
 * write (GGUF spec, "Standardized key-value pairs"). Optional keys take the defaults the
 * families use; every value is range-checked, so later code can trust the shapes. */
#include "arch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

tm_status tm_hparam_int(const tm_gguf *g, const char *arch, const char *suffix, bool required,
                        int32_t def, int32_t lo, int32_t hi, int32_t *out, tm_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!tm_gguf_find_kv(g, key)) {
        if (required)
            return tm_fail(err, TM_E_FORMAT, "missing key '%s'", key);
        *out = def;
        return TM_OK;
    }
    int64_t v = 0;
    tm_status st = tm_gguf_get_i64(g, key, &v, err);
    if (st != TM_OK)
        return st;
    if (v < lo || v > hi)
        return tm_fail(err, TM_E_FORMAT, "'%s' is %lld, allowed %d..%d", key, (long long)v, lo, hi);
    *out = (int32_t)v;
    return TM_OK;
}

tm_status tm_hparam_float(const tm_gguf *g, const char *arch, const char *suffix, float def,
                          double lo, double hi, float *out, tm_err *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!tm_gguf_find_kv(g, key)) {
        *out = def;
        return TM_OK;
    }
    double v = 0;
    tm_status st = tm_gguf_get_f64(g, key, &v, err);
    if (st != TM_OK)
        return st;
    if (!(v >= lo && v <= hi))
        return tm_fail(err, TM_E_FORMAT, "'%s' is %g, allowed %g..%g", key, v, lo, hi);
    *out = (float)v;
    return TM_OK;
}

tm_status tm_hparams_read(const tm_gguf *g, const char *arch, tm_hparams *hp, tm_err *err)
{
    memset(hp, 0, sizeof *hp);
    snprintf(hp->arch, sizeof hp->arch, "%s", arch);
    const int32_t big = 1 << 24;
    tm_status st =
        tm_hparam_int(g, arch, "context_length", false, 4096, 1, 1 << 30, &hp->n_ctx_train, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "embedding_length", true, 0, 1, big, &hp->n_embd, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "block_count", true, 0, 1, TM_MAX_LAYERS, &hp->n_layer, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "feed_forward_length", true, 0, 1, big, &hp->n_ff, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "attention.head_count", true, 0, 1, 4096, &hp->n_head, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "attention.head_count_kv", false, hp->n_head, 1, hp->n_head,
                           &hp->n_head_kv, err);
    if (st != TM_OK)
        return st;
    if (hp->n_head % hp->n_head_kv != 0)
        return tm_fail(err, TM_E_FORMAT, "%d attention heads do not divide into %d kv heads",
                       hp->n_head, hp->n_head_kv);
    /* Llama 2 configs carry no head size: it is n_embd / n_head */
    int32_t def_head_dim = hp->n_embd / hp->n_head;
    st = tm_hparam_int(g, arch, "attention.key_length", false, def_head_dim, 1, 65536,
                       &hp->head_dim, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "attention.value_length", false, hp->head_dim, 1, 65536,
                           &hp->head_dim_v, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "rope.dimension_count", false, hp->head_dim, 0, hp->head_dim,
                           &hp->n_rot, err);
    if (st == TM_OK)
        st = tm_hparam_float(g, arch, "attention.layer_norm_rms_epsilon", 1e-5f, 0, 1,
                             &hp->norm_eps, err);
    if (st == TM_OK)
        st = tm_hparam_float(g, arch, "rope.freq_base", 10000.0f, 1e-3, 1e12, &hp->rope_base, err);
    if (st != TM_OK)
        return st;
    if (hp->n_rot % 2 != 0)
        return tm_fail(err, TM_E_FORMAT, "'%s.rope.dimension_count' is %d, must be even", arch,
                       hp->n_rot);
    if (hp->head_dim < 1) /* the default from n_embd / n_head */
        return tm_fail(err, TM_E_FORMAT, "embedding length %d is smaller than %d heads", hp->n_embd,
                       hp->n_head);
    hp->rope_freq_scale = 1.0f;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    if (tm_gguf_find_kv(g, key)) {
        tm_gguf_str type;
        st = tm_gguf_get_str(g, key, &type, err);
        if (st != TM_OK)
            return st;
        if (tm_gguf_str_eq(type, "linear")) {
            float factor = 1;
            st = tm_hparam_float(g, arch, "rope.scaling.factor", 1.0f, 1e-3, 1e6, &factor, err);
            if (st != TM_OK)
                return st;
            hp->rope_freq_scale = 1.0f / factor;
        } else if (!tm_gguf_str_eq(type, "none")) {
            return tm_fail(err, TM_E_UNSUPPORTED, "rope scaling '%.*s' is not supported yet",
                           (int)TM_MIN(type.len, 32), type.ptr);
        }
    }
    /* sliding-window layers share the RoPE unless the file gives them a base of their own */
    hp->rope_base_swa = hp->rope_base;
    hp->rope_freq_scale_swa = hp->rope_freq_scale;
    snprintf(key, sizeof key, "%s.rope.freq_base_swa", arch);
    if (tm_gguf_find_kv(g, key)) {
        st = tm_hparam_float(g, arch, "rope.freq_base_swa", 10000.0f, 1e-3, 1e12,
                             &hp->rope_base_swa, err);
        hp->rope_freq_scale_swa = 1.0f;
    }
    return st;
}
