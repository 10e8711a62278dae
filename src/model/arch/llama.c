/* Llama (and the families that share its GGUF layout: Llama 1/2/3.x, Mistral, TinyLlama,
 * llama2.c exports): RMSNorm, RoPE on adjacent pairs (GGUF llama files were permuted by
 * the converter for it), grouped-query attention, SwiGLU feed-forward, output matrix
 * separate or tied to the token embedding, Llama 3 frequency factors in rope_freqs.weight. */
#include "../arch.h"

#include <string.h>

static tm_status load_layer(const tm_gguf *g, const tm_kernels *k, const tm_hparams *hp, int32_t il,
                            tm_layer *l, tm_err *err)
{
    char name[96];
    int64_t q_width = (int64_t)hp->n_head * hp->head_dim;
    int64_t k_width = (int64_t)hp->n_head_kv * hp->head_dim;
    int64_t v_width = (int64_t)hp->n_head_kv * hp->head_dim_v;
    int64_t o_width = (int64_t)hp->n_head * hp->head_dim_v;
    snprintf(name, sizeof name, "blk.%d.attn_norm.weight", il);
    tm_status st = tm_weight_vec(g, name, hp->n_embd, false, &l->attn_norm, err);
    if (st == TM_OK)
        st =
            tm_weight_layer_mat(g, k, il, "attn_q.weight", hp->n_embd, q_width, false, &l->wq, err);
    if (st == TM_OK)
        st =
            tm_weight_layer_mat(g, k, il, "attn_k.weight", hp->n_embd, k_width, false, &l->wk, err);
    if (st == TM_OK)
        st =
            tm_weight_layer_mat(g, k, il, "attn_v.weight", hp->n_embd, v_width, false, &l->wv, err);
    if (st == TM_OK)
        st = tm_weight_layer_mat(g, k, il, "attn_output.weight", o_width, hp->n_embd, false, &l->wo,
                                 err);
    if (st == TM_OK) {
        snprintf(name, sizeof name, "blk.%d.ffn_norm.weight", il);
        st = tm_weight_vec(g, name, hp->n_embd, false, &l->ffn_norm, err);
    }
    if (st == TM_OK)
        st = tm_weight_layer_mat(g, k, il, "ffn_gate.weight", hp->n_embd, hp->n_ff, false,
                                 &l->w_gate, err);
    if (st == TM_OK)
        st = tm_weight_layer_mat(g, k, il, "ffn_up.weight", hp->n_embd, hp->n_ff, false, &l->w_up,
                                 err);
    if (st == TM_OK)
        st = tm_weight_layer_mat(g, k, il, "ffn_down.weight", hp->n_ff, hp->n_embd, false,
                                 &l->w_down, err);
    return st;
}

tm_status tm_arch_llama_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    tm_hparams *hp = &net->hp;
    tm_status st = tm_hparams_read(g, "llama", hp, err);
    if (st != TM_OK)
        return st;
    hp->rope_kind = TM_ROPE_NORMAL;
    const tm_gguf_tensor *embd = tm_gguf_find_tensor(g, "token_embd.weight");
    if (!embd)
        return tm_fail(err, TM_E_FORMAT, "missing tensor 'token_embd.weight'");
    if (embd->ne[1] < 1 || embd->ne[1] > (1 << 24))
        return tm_fail(err, TM_E_FORMAT, "'token_embd.weight' has %lld rows, allowed 1..%d",
                       (long long)embd->ne[1], 1 << 24);
    hp->n_vocab = (int32_t)embd->ne[1];
    st = tm_weight_mat(g, k, "token_embd.weight", hp->n_embd, hp->n_vocab, false, &net->token_embd,
                       err);
    if (st == TM_OK)
        st = tm_weight_vec(g, "output_norm.weight", hp->n_embd, false, &net->output_norm, err);
    if (st == TM_OK)
        st = tm_weight_mat(g, k, "output.weight", hp->n_embd, hp->n_vocab, true, &net->output, err);
    if (st == TM_OK && !net->output.data)
        net->output = net->token_embd; /* tied embeddings */
    if (st == TM_OK)
        st = tm_weight_vec(g, "rope_freqs.weight", hp->n_rot / 2, true, &net->rope_freqs, err);
    if (st != TM_OK)
        return st;
    net->layers = tm_calloc((size_t)hp->n_layer, sizeof *net->layers);
    if (!net->layers)
        return tm_fail(err, TM_E_NOMEM, "%d layers", hp->n_layer);
    for (int32_t il = 0; il < hp->n_layer && st == TM_OK; il++)
        st = load_layer(g, k, hp, il, &net->layers[il], err);
    return st;
}
