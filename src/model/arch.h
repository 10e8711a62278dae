/* Inside the model folder: the architecture registry and the helpers architectures use to
 * read hyper-parameters and find their tensors. */
#ifndef TM_MODEL_ARCH_H
#define TM_MODEL_ARCH_H

#include "model.h"

typedef struct tm_arch {
    const char *name; /* general.architecture */
    /* Fills net->hp and the weights from g; net is zeroed, net->layers unallocated. */
    tm_status (*load)(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
} tm_arch;

/* NULL when no architecture of that name is built in. */
const tm_arch *tm_arch_find(const char *name);
/* "llama, ..." for error messages. */
const char *tm_arch_names(void);

tm_status tm_arch_llama_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_qwen2_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_qwen3_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_qwen3moe_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_phi3_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_qwen2moe_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_gemma2_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);
tm_status tm_arch_gemma3_load(const tm_gguf *g, const tm_kernels *k, tm_net *net, tm_err *err);

/* What distinguishes the Llama-like decoders (decoder.c). */
typedef struct tm_decoder_opts {
    tm_rope_kind rope_kind;
    bool qkv_bias;      /* attn_q/k/v.bias required */
    bool qk_norm;       /* attn_q_norm / attn_k_norm per head before RoPE */
    bool fused_qkv;     /* attn_qkv.weight instead of attn_q/k/v */
    bool fused_gate_up; /* ffn_up.weight holds gate and up rows; no ffn_gate */
    bool post_norms;    /* post_attention_norm and post_ffw_norm (Gemma 2 and 3) */
    bool expert_norm;   /* MoE: renormalise the chosen experts' weights (Mixtral) */
    bool shared_expert; /* MoE: a gated shared expert beside the routed ones (Qwen MoE) */
} tm_decoder_opts;

/* Reads "<arch>.*" hyper-parameters and every tensor of a Llama-like decoder. */
tm_status tm_decoder_load(const tm_gguf *g, const tm_kernels *k, const char *arch,
                          const tm_decoder_opts *o, tm_net *net, tm_err *err);

/* Reads the "<arch>.*" hyper-parameters every decoder has (hparams.c). n_vocab is left to
 * the caller (from token_embd's shape). */
tm_status tm_hparams_read(const tm_gguf *g, const char *arch, tm_hparams *hp, tm_err *err);

/* One "<arch>.<suffix>" value: absent gives def (or an error when required); out of
 * [lo, hi] is an error naming the key. */
tm_status tm_hparam_int(const tm_gguf *g, const char *arch, const char *suffix, bool required,
                        int32_t def, int32_t lo, int32_t hi, int32_t *out, tm_err *err);
tm_status tm_hparam_float(const tm_gguf *g, const char *arch, const char *suffix, float def,
                          double lo, double hi, float *out, tm_err *err);

/* Finds a weight matrix of n_rows rows of n_cols, of a type the kernels can multiply
 * (weights.c). Missing: TM_E_FORMAT naming it, or, when optional, TM_OK with out zeroed. */
tm_status tm_weight_mat(const tm_gguf *g, const tm_kernels *k, const char *name, int64_t n_cols,
                        int64_t n_rows, bool optional, tm_mat *out, tm_err *err);
/* The n_expert [n_rows x n_cols] slices of the 3-D tensor "blk.<layer>.<suffix>". */
tm_status tm_weight_experts(const tm_gguf *g, const tm_kernels *k, int32_t layer,
                            const char *suffix, int64_t n_cols, int64_t n_rows, int32_t n_expert,
                            tm_mat *out, tm_err *err);
/* Finds an F32 vector of n values (norm gains, biases, rope factors). */
tm_status tm_weight_vec(const tm_gguf *g, const char *name, int64_t n, bool optional,
                        const float **out, tm_err *err);
/* The same for "blk.<layer>.<suffix>". */
tm_status tm_weight_layer_mat(const tm_gguf *g, const tm_kernels *k, int32_t layer,
                              const char *suffix, int64_t n_cols, int64_t n_rows, bool optional,
                              tm_mat *out, tm_err *err);

#endif
