/* The tensors of a Llama-like decoder, found by their GGUF names with the options an
 * architecture sets: biases on q/k/v, per-head q/k norms, fused QKV and gate-up matrices.
 * Fused matrices become views of row ranges, so the forward pass never sees the fusion. */
#include "arch.h"

#include <stdio.h>

/* Rows [first, first + n) of m as a matrix of its own. */
static tm_mat row_view(const tm_mat *m, int64_t first, int64_t n)
{
    tm_mat v = *m;
    v.data = (const uint8_t *)m->data + (uint64_t)first * m->row_bytes;
    v.n_rows = n;
    return v;
}

static tm_status layer_vec(const tm_gguf *g, int32_t il, const char *suffix, int64_t n,
                           bool optional, const float **out, tm_err *err)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s", il, suffix);
    return tm_weight_vec(g, name, n, optional, out, err);
}

static tm_status load_attention(const tm_gguf *g, const tm_kernels *k, const tm_hparams *hp,
                                const tm_decoder_opts *o, int32_t il, tm_layer *l, tm_err *err)
{
    int64_t q_width = (int64_t)hp->n_head * hp->head_dim;
    int64_t k_width = (int64_t)hp->n_head_kv * hp->head_dim;
    int64_t v_width = (int64_t)hp->n_head_kv * hp->head_dim_v;
    int64_t o_width = (int64_t)hp->n_head * hp->head_dim_v;
    tm_status st = TM_OK;
    if (o->fused_qkv) {
        tm_mat qkv;
        st = tm_weight_layer_mat(g, k, il, "attn_qkv.weight", hp->n_embd,
                                 q_width + k_width + v_width, false, &qkv, err);
        if (st != TM_OK)
            return st;
        l->wq = row_view(&qkv, 0, q_width);
        l->wk = row_view(&qkv, q_width, k_width);
        l->wv = row_view(&qkv, q_width + k_width, v_width);
    } else {
        st =
            tm_weight_layer_mat(g, k, il, "attn_q.weight", hp->n_embd, q_width, false, &l->wq, err);
        if (st == TM_OK)
            st = tm_weight_layer_mat(g, k, il, "attn_k.weight", hp->n_embd, k_width, false, &l->wk,
                                     err);
        if (st == TM_OK)
            st = tm_weight_layer_mat(g, k, il, "attn_v.weight", hp->n_embd, v_width, false, &l->wv,
                                     err);
    }
    if (st == TM_OK)
        st = tm_weight_layer_mat(g, k, il, "attn_output.weight", o_width, hp->n_embd, false, &l->wo,
                                 err);
    /* biases: required where the family has them, optional (absent) elsewhere */
    if (st == TM_OK)
        st = layer_vec(g, il, "attn_q.bias", q_width, !o->qkv_bias, &l->bq, err);
    if (st == TM_OK)
        st = layer_vec(g, il, "attn_k.bias", k_width, !o->qkv_bias, &l->bk, err);
    if (st == TM_OK)
        st = layer_vec(g, il, "attn_v.bias", v_width, !o->qkv_bias, &l->bv, err);
    if (st == TM_OK && o->qk_norm)
        st = layer_vec(g, il, "attn_q_norm.weight", hp->head_dim, false, &l->q_norm, err);
    if (st == TM_OK && o->qk_norm)
        st = layer_vec(g, il, "attn_k_norm.weight", hp->head_dim, false, &l->k_norm, err);
    return st;
}

static tm_status load_experts(const tm_gguf *g, const tm_kernels *k, const tm_hparams *hp,
                              const tm_decoder_opts *o, int32_t il, tm_layer *l, tm_err *err)
{
    int32_t ne = hp->n_expert;
    l->exp_gate = tm_calloc(3 * (size_t)ne, sizeof *l->exp_gate);
    if (!l->exp_gate)
        return tm_fail(err, TM_E_NOMEM, "%d experts", ne);
    l->exp_up = l->exp_gate + ne;
    l->exp_down = l->exp_up + ne;
    tm_status st = tm_weight_layer_mat(g, k, il, "ffn_gate_inp.weight", hp->n_embd, ne, false,
                                       &l->router, err);
    if (st == TM_OK)
        st = tm_weight_experts(g, k, il, "ffn_gate_exps.weight", hp->n_embd, hp->n_ff_exp, ne,
                               l->exp_gate, err);
    if (st == TM_OK)
        st = tm_weight_experts(g, k, il, "ffn_up_exps.weight", hp->n_embd, hp->n_ff_exp, ne,
                               l->exp_up, err);
    if (st == TM_OK)
        st = tm_weight_experts(g, k, il, "ffn_down_exps.weight", hp->n_ff_exp, hp->n_embd, ne,
                               l->exp_down, err);
    if (st == TM_OK && o->shared_expert) {
        st = tm_weight_layer_mat(g, k, il, "ffn_gate_shexp.weight", hp->n_embd, hp->n_ff_shexp,
                                 false, &l->sh_gate, err);
        if (st == TM_OK)
            st = tm_weight_layer_mat(g, k, il, "ffn_up_shexp.weight", hp->n_embd, hp->n_ff_shexp,
                                     false, &l->sh_up, err);
        if (st == TM_OK)
            st = tm_weight_layer_mat(g, k, il, "ffn_down_shexp.weight", hp->n_ff_shexp, hp->n_embd,
                                     false, &l->sh_down, err);
        if (st == TM_OK)
            st = layer_vec(g, il, "ffn_gate_inp_shexp.weight", hp->n_embd, false, &l->sh_gate_inp,
                           err);
    }
    return st;
}

static tm_status load_ffn(const tm_gguf *g, const tm_kernels *k, const tm_hparams *hp,
                          const tm_decoder_opts *o, int32_t il, tm_layer *l, tm_err *err)
{
    if (hp->n_expert > 0)
        return load_experts(g, k, hp, o, il, l, err);
    tm_status st = TM_OK;
    if (o->fused_gate_up) { /* rows 0..n_ff are the gate, n_ff..2 n_ff the up projection */
        tm_mat gate_up;
        st = tm_weight_layer_mat(g, k, il, "ffn_up.weight", hp->n_embd, 2 * (int64_t)hp->n_ff,
                                 false, &gate_up, err);
        if (st != TM_OK)
            return st;
        l->w_gate = row_view(&gate_up, 0, hp->n_ff);
        l->w_up = row_view(&gate_up, hp->n_ff, hp->n_ff);
    } else {
        st = tm_weight_layer_mat(g, k, il, "ffn_gate.weight", hp->n_embd, hp->n_ff, false,
                                 &l->w_gate, err);
        if (st == TM_OK)
            st = tm_weight_layer_mat(g, k, il, "ffn_up.weight", hp->n_embd, hp->n_ff, false,
                                     &l->w_up, err);
    }
    if (st == TM_OK)
        st = tm_weight_layer_mat(g, k, il, "ffn_down.weight", hp->n_ff, hp->n_embd, false,
                                 &l->w_down, err);
    return st;
}

/* Experts: "<arch>.expert_count" and friends; absent for dense models. */
static tm_status read_expert_hparams(const tm_gguf *g, const char *arch, const tm_decoder_opts *o,
                                     tm_hparams *hp, tm_err *err)
{
    tm_status st = tm_hparam_int(g, arch, "expert_count", false, 0, 0, 1024, &hp->n_expert, err);
    if (st != TM_OK || hp->n_expert == 0)
        return st;
    st = tm_hparam_int(g, arch, "expert_used_count", true, 0, 1, hp->n_expert, &hp->n_expert_used,
                       err);
    if (st == TM_OK) /* Mixtral's feed_forward_length is the expert size */
        st = tm_hparam_int(g, arch, "expert_feed_forward_length", false, hp->n_ff, 1, 1 << 24,
                           &hp->n_ff_exp, err);
    if (st == TM_OK && o->shared_expert)
        st = tm_hparam_int(g, arch, "expert_shared_feed_forward_length", true, 0, 1, 1 << 24,
                           &hp->n_ff_shexp, err);
    hp->expert_norm = o->expert_norm;
    return st;
}

tm_status tm_decoder_load(const tm_gguf *g, const tm_kernels *k, const char *arch,
                          const tm_decoder_opts *o, tm_net *net, tm_err *err)
{
    tm_hparams *hp = &net->hp;
    tm_status st = tm_hparams_read(g, arch, hp, err);
    if (st != TM_OK)
        return st;
    hp->rope_kind = o->rope_kind;
    st = read_expert_hparams(g, arch, o, hp, err);
    if (st != TM_OK)
        return st;
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
    for (int32_t il = 0; il < hp->n_layer && st == TM_OK; il++) {
        tm_layer *l = &net->layers[il];
        st = layer_vec(g, il, "attn_norm.weight", hp->n_embd, false, &l->attn_norm, err);
        if (st == TM_OK)
            st = load_attention(g, k, hp, o, il, l, err);
        if (st == TM_OK && o->post_norms)
            st = layer_vec(g, il, "post_attention_norm.weight", hp->n_embd, false,
                           &l->attn_post_norm, err);
        if (st == TM_OK)
            st = layer_vec(g, il, "ffn_norm.weight", hp->n_embd, false, &l->ffn_norm, err);
        if (st == TM_OK && o->post_norms)
            st =
                layer_vec(g, il, "post_ffw_norm.weight", hp->n_embd, false, &l->ffn_post_norm, err);
        if (st == TM_OK)
            st = load_ffn(g, k, hp, o, il, l, err);
    }
    return st;
}
