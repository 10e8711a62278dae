/* tm_model: a GGUF file opened, its kernels chosen, its network and vocabulary read. A
 * file whose tokenizer is not supported still loads (token ids can be evaluated); asking it
 * to tokenize then explains why not. */
#include "engine.h"

#include <string.h>

tm_model_params tm_model_params_default(void)
{
    tm_model_params p;
    memset(&p, 0, sizeof p);
    p.use_mmap = true;
    p.kernels = tm_getenv("TM_KERNELS");
    p.float_activations = false;
    const char *repack = tm_getenv("TM_REPACK");
    p.repack = !(repack && strcmp(repack, "0") == 0);
    return p;
}

void tm_model_free(tm_model *model)
{
    if (!model)
        return;
    tm_net_free(model->net);
    tm_model_vocab_free(model);
    tm_model_chat_free(model);
    tm_gguf_close(model->gguf);
    tm_free(model);
}

tm_status tm_model_load(const char *path, const tm_model_params *params, tm_model **out,
                        tm_err *err)
{
    tm_model_params defaults = tm_model_params_default();
    if (!params)
        params = &defaults;
    tm_model *m = tm_calloc(1, sizeof *m);
    if (!m)
        return tm_fail(err, TM_E_NOMEM, "model");
    m->params = *params;
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    tm_status st = tm_kernels_init(&m->kernels, &cpu, params->kernels, err);
    if (st == TM_OK)
        st = tm_gguf_open(path, &m->gguf, err);
    if (st == TM_OK) {
        tm_model_fingerprint(m->gguf, m->fingerprint);
        st = tm_net_load(m->gguf, &m->kernels, &m->net, err);
    }
    if (st == TM_OK && params->repack)
        st = tm_net_pack(m->net, &m->kernels, tm_gguf_mapping(m->gguf), params->n_threads, err);
    if (st == TM_OK)
        st = tm_model_vocab_load(m, err);
    if (st == TM_OK)
        st = tm_model_chat_load(m, err);
    if (st != TM_OK) {
        tm_err_context(err, "loading '%s'", path);
        tm_model_free(m);
        return st;
    }
    *out = m;
    return TM_OK;
}

void tm_model_fingerprint(const tm_gguf *g, uint8_t out[32])
{
    tm_sha256 h;
    tm_sha256_init(&h);
    uint64_t size = tm_gguf_file_bytes(g);
    tm_sha256_update(&h, &size, sizeof size);
    for (int64_t i = 0; i < tm_gguf_n_kv(g); i++) {
        const char *key = tm_gguf_kv_at(g, i)->key;
        tm_sha256_update(&h, key, strlen(key) + 1);
    }
    for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(g, i);
        tm_sha256_update(&h, t->name, strlen(t->name) + 1);
        tm_sha256_update(&h, &t->type, sizeof t->type);
        tm_sha256_update(&h, t->ne, sizeof t->ne);
        tm_sha256_update(&h, &t->offset, sizeof t->offset);
        tm_sha256_update(&h, t->data, (size_t)TM_MIN(t->n_bytes, 4096));
    }
    tm_sha256_final(&h, out);
}

const tm_net *tm_model_net(const tm_model *model)
{
    return model->net;
}

const char *tm_model_arch(const tm_model *model)
{
    return model->net->hp.arch;
}

const char *tm_model_kernels(const tm_model *model)
{
    return model->kernels.isa;
}

int32_t tm_model_n_vocab(const tm_model *model)
{
    return model->net->hp.n_vocab;
}

int32_t tm_model_n_ctx_train(const tm_model *model)
{
    return model->net->hp.n_ctx_train;
}

int32_t tm_model_n_embd(const tm_model *model)
{
    return model->net->hp.n_embd;
}

int32_t tm_model_n_layer(const tm_model *model)
{
    return model->net->hp.n_layer;
}

uint64_t tm_model_n_params(const tm_model *model)
{
    return model->net->n_params;
}

uint64_t tm_model_weight_bytes(const tm_model *model)
{
    return model->net->weight_bytes;
}
