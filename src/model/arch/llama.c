/* Llama (and the families that share its GGUF layout: Llama 1/2/3.x, Mistral, TinyLlama,
 * llama2.c exports): RMSNorm, RoPE on adjacent pairs (GGUF llama files were permuted by
 * the converter for it), grouped-query attention, SwiGLU feed-forward, output matrix
 * separate or tied to the token embedding, Llama 3 frequency factors in rope_freqs.weight.
 * A file with llama.attention.sliding_window (Mistral 7B v0.1's 4096) gets local attention
 * on every layer. */
#include "../arch.h"

tm_status tm_arch_llama_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    /* Mixtral is "llama" with experts; its top-2 weights are renormalised */
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NORMAL, .expert_norm = true};
    tm_status st = tm_decoder_load(g, k, "llama", &o, net, err);
    if (st == TM_OK)
        st = tm_hparam_int(g, "llama", "attention.sliding_window", false, 0, 0, 1 << 30,
                           &net->hp.n_swa, err);
    for (int32_t il = 0; st == TM_OK && net->hp.n_swa > 0 && il < net->hp.n_layer; il++)
        net->layers[il].swa = true;
    return st;
}
