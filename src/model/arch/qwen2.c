/* Qwen2 / Qwen2.5 (incl. Coder): the Llama layout with biases on the q, k and v
 * projections (none on the output projection) and NeoX-order RoPE. */
#include "../arch.h"

tm_status tm_arch_qwen2_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err)
{
    const tm_decoder_opts o = {.rope_kind = TM_ROPE_NEOX, .qkv_bias = true};
    return tm_decoder_load(g, k, "qwen2", &o, net, err);
}
