/* Qwen3: no biases; each head's q and k are RMS-normalised (attn_q_norm, attn_k_norm over
 * head_dim) after the projection and before NeoX-order RoPE. The head size comes from
 * attention.key_length, so q is wider than the embedding. Qwen3-MoE (qwen3moe) routes each
 * token to expert_used_count of expert_count experts and renormalises their weights
 * (norm_topk_prob); it has no shared expert. */
#include "../arch.h"

tm_status tm_arch_qwen3_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .qk_norm = true};
    return tm_decoder_load(g, k, "qwen3", &o, net, err);
}

tm_status tm_arch_qwen3moe_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .qk_norm = true, .expert_norm = true};
    return tm_decoder_load(g, k, "qwen3moe", &o, net, err);
}
