/* Phi-3 / Phi-4: one fused attn_qkv matrix (rows: q, then k, then v), one fused ffn_up
 * matrix (rows: gate, then up), NeoX-order RoPE. llama.cpp runs phi3 with full causal
 * attention even where attention.sliding_window is written, and so do we. Long-context
 * variants' rope factor tensors (rope_factors_long/short) are not supported yet. */
#include "../arch.h"

tm_status tm_arch_phi3_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    if (tm_gguf_find_tensor(g, "rope_factors_long.weight"))
        return tm_fail(err, TM_E_UNSUPPORTED,
                       "phi3 with long-context rope factors (rope_factors_long) is not "
                       "supported yet");
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .fused_qkv = true, .fused_gate_up = true};
    return tm_decoder_load(g, k, "phi3", &o, net, err);
}
