/* Llama (and the families that share its GGUF layout: Llama 1/2/3.x, Mistral, TinyLlama,
 * llama2.c exports): RMSNorm, RoPE on adjacent pairs (GGUF llama files were permuted by
 * the converter for it), grouped-query attention, SwiGLU feed-forward, output matrix
 * separate or tied to the token embedding, Llama 3 frequency factors in rope_freqs.weight. */
#include "../arch.h"

tm_status tm_arch_llama_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    /* Mixtral is "llama" with experts; its top-2 weights are renormalised */
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NORMAL, .expert_norm = true};
    return tm_decoder_load(g, k, "llama", &o, net, err);
}
