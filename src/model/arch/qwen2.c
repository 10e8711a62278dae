/* Qwen2 / Qwen2.5 (incl. Coder): the Llama layout with biases on the q, k and v
 * projections (none on the output projection) and NeoX-order RoPE. */
#include "../arch.h"

/* Qwen1.5-MoE / Qwen2-MoE: Qwen2's attention; each token's feed-forward is the sum of its
 * top-k routed experts, weighted by their softmax probabilities (not renormalised), and of
 * a shared expert scaled by sigmoid(ffn_gate_inp_shexp . x). */
tm_status tm_arch_qwen2moe_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .qkv_bias = true, .shared_expert = true};
    return tm_decoder_load(g, k, "qwen2moe", &o, net, err);
}

tm_status tm_arch_qwen2_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .qkv_bias = true};
    return tm_decoder_load(g, k, "qwen2", &o, net, err);
}
