/* Gemma 2 and Gemma 3: the Llama layout with NeoX RoPE, token embeddings scaled by
 * sqrt(n_embd), RMS norms also after attention and after the feed-forward (post_attention_norm,
 * post_ffw_norm), GeGLU with tanh-GELU, tied output, and sliding-window attention on most
 * layers. Gemma 2: every other layer (0, 2, ...) is local; attention scores and the final
 * logits are soft-capped. Gemma 3: per-head q/k norms; layers il % 6 < 5 are local and use
 * rope.freq_base_swa without scaling, the others the global base and scaling; no caps.
 * (The norms' "1 + w" is folded into the weights by the converter.) */
#include "../arch.h"

#include <math.h>

static tm_status gemma_load(const tm_gguf *g, const tm_kernels *k, const char *arch, bool qk_norm,
                            int period, tm_net *net, tm_err *err)
{
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .qk_norm = qk_norm, .post_norms = true};
    tm_status st = tm_decoder_load(g, k, arch, &o, net, err);
    tm_hparams *hp = &net->hp;
    if (st == TM_OK)
        st = tm_hparam_int(g, arch, "attention.sliding_window", false, 4096, 1, 1 << 30, &hp->n_swa,
                           err);
    if (st == TM_OK)
        st = tm_hparam_float(g, arch, "attn_logit_softcapping", 0.0f, 0, 1e6, &hp->attn_softcap,
                             err);
    if (st == TM_OK)
        st = tm_hparam_float(g, arch, "final_logit_softcapping", 0.0f, 0, 1e6, &hp->final_softcap,
                             err);
    if (st != TM_OK)
        return st;
    hp->ffn_act = TM_FFN_GELU_TANH;
    hp->embd_scale = sqrtf((float)hp->n_embd);
    for (int32_t il = 0; il < hp->n_layer; il++)
        net->layers[il].swa = il % period < period - 1;
    return TM_OK;
}

tm_status tm_arch_gemma2_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    return gemma_load(g, k, "gemma2", false, 2, net, err);
}

tm_status tm_arch_gemma3_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    return gemma_load(g, k, "gemma3", true, 6, net, err);
}
