/* model: hyper-parameters, weights and the forward pass of decoder-only transformers.
 *
 * A tm_net is read from a GGUF file: an architecture (arch/<family>.c, listed in arch.c)
 * reads its hyper-parameters and finds its tensors by name; the forward pass (forward.c)
 * is shared by the families and switches features on from the hyper-parameters. Weights
 * stay in the file mapping (or are repacked at load). The keys and values live in a
 * tm_kv_store of fixed-size blocks that sequences name in block tables; a tm_net_state holds
 * a sequence's scratch buffers, sized for a batch. Every buffer is allocated when the store or
 * state is created, none per token.
 *
 * Batched prefill and one-token decode are the same code: a forward call takes n tokens at
 * consecutive positions, writes their keys and values to the cache and attends causally. */
#ifndef TM_MODEL_H
#define TM_MODEL_H

#include "../base/base.h"
#include "../gguf/gguf.h"
#include "../tensor/tensor.h"

#define TM_MAX_LAYERS 512

typedef enum tm_rope_kind {
    TM_ROPE_NORMAL, /* rotates adjacent pairs (2i, 2i + 1): Llama as converted to GGUF */
    TM_ROPE_NEOX,   /* rotates pairs (i, i + n_rot / 2): GPT-NeoX, Qwen, Phi, Gemma */
} tm_rope_kind;

typedef enum tm_ffn_act {
    TM_FFN_SILU,      /* SwiGLU: Llama, Qwen, Phi */
    TM_FFN_GELU_TANH, /* GeGLU with the tanh approximation of GELU: Gemma */
} tm_ffn_act;

typedef struct tm_hparams {
    char arch[32];   /* general.architecture */
    int32_t n_vocab; /* rows of token_embd */
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;   /* per-head width of q and k */
    int32_t head_dim_v; /* per-head width of v */
    int32_t n_ff;
    int32_t n_rot; /* dimensions rotated by RoPE, <= head_dim */
    float norm_eps;
    float rope_base;
    float rope_freq_scale; /* 1 / linear scaling factor; 1: none */
    tm_rope_kind rope_kind;
    /* sliding-window layers (tm_layer.swa) attend to the n_swa latest positions and have a
     * RoPE of their own (Gemma 3: base 10000, no scaling) */
    int32_t n_swa;
    float rope_base_swa, rope_freq_scale_swa;
    float embd_scale;    /* multiplies the token embeddings; 0: none (Gemma: sqrt(n_embd)) */
    float attn_softcap;  /* scores = cap * tanh(scores / cap); 0: none (Gemma 2) */
    float final_softcap; /* the same on the logits */
    tm_ffn_act ffn_act;
    /* mixture of experts: each token's feed-forward is the weighted sum of the n_expert_used
     * experts its router picks (softmax over n_expert, top-k, renormalised when
     * expert_norm); 0 experts: a dense feed-forward */
    int32_t n_expert, n_expert_used;
    int32_t n_ff_exp;   /* an expert's hidden size */
    int32_t n_ff_shexp; /* the shared expert's, 0: none (Qwen MoE) */
    bool expert_norm;
} tm_hparams;

typedef struct tm_layer {
    const float *attn_norm;    /* [n_embd] RMS norm gains */
    tm_mat wq, wk, wv;         /* rows: n_head * head_dim, n_head_kv * head_dim, ... * head_dim_v */
    const float *bq, *bk, *bv; /* biases of the q, k, v projections, or NULL (Qwen2) */
    const float *q_norm, *k_norm; /* [head_dim] RMS norm gains per head before RoPE, or
                                     NULL (Qwen3) */
    tm_mat wo;                    /* n_embd rows of n_head * head_dim_v */
    const float *attn_post_norm;  /* [n_embd] on the attention output, or NULL (Gemma) */
    const float *ffn_norm;        /* [n_embd] */
    const float *ffn_post_norm;   /* [n_embd] on the feed-forward output, or NULL (Gemma) */
    bool swa;                     /* a sliding-window layer */
    tm_mat w_gate, w_up;          /* n_ff rows of n_embd */
    /* gate and up packed together (pack.c), groups in pairs (16 gate rows, the same 16 up
     * rows), for the fused product on tiles; data NULL when not (then gate and up serve) */
    tm_mat w_gate_up;
    tm_mat w_down;                        /* n_embd rows of n_ff */
    tm_mat router;                        /* n_expert rows of n_embd (MoE) */
    tm_mat *exp_gate, *exp_up, *exp_down; /* [n_expert] slices of the 3-D expert tensors */
    tm_mat sh_gate, sh_up, sh_down;       /* the shared expert */
    const float *sh_gate_inp;             /* [n_embd]: sigmoid(. x) scales the shared expert */
} tm_layer;

typedef struct tm_net {
    tm_hparams hp;
    tm_mat token_embd;        /* [n_vocab] rows of n_embd */
    const float *output_norm; /* [n_embd] */
    tm_mat output;            /* [n_vocab] rows of n_embd; token_embd when tied */
    const float *rope_freqs;  /* [n_rot / 2] divisors of the rope frequencies, or NULL */
    tm_layer *layers;         /* [n_layer] */
    uint64_t n_params;
    uint64_t weight_bytes;
    void *packed; /* the arena of the matrices tm_net_pack rewrote; owned */
    uint64_t packed_bytes;
} tm_net;

typedef struct tm_net_params {
    const tm_kernels *kernels; /* borrowed; lives as long as the net */
    bool float_activations;
} tm_net_params;

/* Reads hyper-parameters and finds the weights in g, which must outlive the net (the
 * weights point into its mapping). Unknown architectures, missing or mis-shaped tensors
 * and types the kernels cannot compute are errors naming the key or tensor. */
tm_status tm_net_load(const tm_gguf *g, const tm_kernels *kernels, tm_net **out, tm_err *err);
void tm_net_free(tm_net *net);
/* Rewrites the layer matrices whose type the kernels have a packed GEMM for into the packed
 * layout (tensor.h), in memory of the net's own, and releases their pages of map (may be
 * NULL) so the file's copy stops counting. Matrices the kernels cannot pack stay as they
 * are. n_threads (0: one per logical CPU, as tm_pool_create) share each matrix's groups.
 * Run once after tm_net_load, before any state is created. */
tm_status tm_net_pack(tm_net *net, const tm_kernels *kernels, tm_mmap *map, int n_threads,
                      tm_err *err);

/* ---- the KV store (kv_store.c) -----------------------------------------------------------
 * Keys and values of every layer in blocks of block_tokens positions. A sequence's block
 * table maps its positions to blocks: position p is row p % block_tokens of block
 * table[p / block_tokens]. Sequences may share blocks (a common prefix); who owns which
 * block is decided above this layer. */
typedef struct tm_kv_store {
    uint32_t type_k, type_v; /* tm_dtype: F32, F16, Q8_0 or Q4_0 */
    int32_t n_layer, n_head_kv, block_tokens, n_blocks;
    int64_t k_width, v_width;              /* elements per position: n_head_kv x head dim */
    uint64_t k_row_bytes, v_row_bytes;     /* bytes per position, all heads */
    uint64_t k_head_bytes, v_head_bytes;   /* bytes of one head of one position */
    uint64_t k_slab_bytes, v_slab_bytes;   /* one head's block_tokens positions */
    uint64_t k_block_bytes, v_block_bytes; /* bytes of one block of one layer */
    uint64_t k_layer_bytes, v_layer_bytes; /* all blocks of one layer */
    uint64_t k_head_stride, v_head_stride; /* one kv head's slabs of all blocks of a layer */
    uint64_t bytes;                        /* the whole store */
    int64_t head_dim;                      /* values of one head's key */
    /* F16 keys: a slab is [head_dim][block_tokens], dimension by dimension (kv_store.c);
     * other keys and all values: [block_tokens][head] */
    bool k_by_dim;
    /* [n_layer][n_head_kv][n_blocks][slab]: a kv head's slabs lie together, block after
     * block, so attention streams a head's keys and values through consecutive blocks as one
     * run the hardware prefetchers follow; NULL in a plan */
    char *k, *v;
} tm_kv_store;

/* The sizes of a store, without allocating it. Types other than the four, heads that are not
 * whole blocks of a quantized type and sizes that overflow are errors. */
tm_status tm_kv_store_plan(const tm_hparams *hp, uint32_t type_k, uint32_t type_v,
                           int32_t block_tokens, int32_t n_blocks, tm_kv_store *out, tm_err *err);
tm_status tm_kv_store_create(const tm_hparams *hp, uint32_t type_k, uint32_t type_v,
                             int32_t block_tokens, int32_t n_blocks, tm_kv_store **out,
                             tm_err *err);
void tm_kv_store_free(tm_kv_store *s);
/* The slab of kv head h in a block: keys and values. */
char *tm_kv_store_k_slab(const tm_kv_store *s, int32_t layer, int32_t block, int32_t h);
char *tm_kv_store_v_slab(const tm_kv_store *s, int32_t layer, int32_t block, int32_t h);
/* Head h of row `row` of a block: keys (not for k_by_dim keys, which have no rows) and values. */
char *tm_kv_store_k_at(const tm_kv_store *s, int32_t layer, int32_t block, int32_t row, int32_t h);
char *tm_kv_store_v_at(const tm_kv_store *s, int32_t layer, int32_t block, int32_t row, int32_t h);
/* Rows row0 .. row0 + n - 1 of kv head h of a block, keys (keys true) or values, out of the
 * store into rows / into the store from rows: one head's row after another, each as the cache
 * type lays a row out (k_head_bytes / v_head_bytes), whatever the store's own layout. */
void tm_kv_store_get_rows(const tm_kv_store *s, bool keys, int32_t layer, int32_t block, int32_t h,
                          int32_t row0, int32_t n, void *rows);
void tm_kv_store_put_rows(tm_kv_store *s, bool keys, int32_t layer, int32_t block, int32_t h,
                          int32_t row0, int32_t n, const void *rows);
/* Rows row0 .. row0 + n - 1 of dim values each out of / into a slab laid dimension by
 * dimension (block_tokens values per dimension; a slab pointer advanced by d * block_tokens
 * serves dimensions from d). */
void tm_kv_by_dim_get(const uint16_t *slab, int64_t block_tokens, int64_t row0, int64_t n,
                      int64_t dim, uint16_t *rows);
void tm_kv_by_dim_put(uint16_t *slab, int64_t block_tokens, int64_t row0, int64_t n, int64_t dim,
                      const uint16_t *rows);
/* Copies the first n_pos rows of block src to block dst in every layer (copy-on-write). */
void tm_kv_store_copy(tm_kv_store *s, int32_t dst, int32_t src, int32_t n_pos);

/* ---- per-sequence state and the forward pass (forward.c) --------------------------------- */

typedef struct tm_net_state tm_net_state;

/* Scratch for the forward calls of one sequence. n_ctx: the most positions it attends over;
 * n_batch: the most tokens one forward call takes; pool: the threads forward calls run on
 * (borrowed, must outlive the state). */
tm_status tm_net_state_create(const tm_net *net, const tm_net_params *params, int32_t n_ctx,
                              int32_t n_batch, tm_pool *pool, tm_net_state **out, tm_err *err);
void tm_net_state_free(tm_net_state *st);
int32_t tm_net_state_n_ctx(const tm_net_state *st);

/* Bytes tm_net_state_create would allocate for a net with these hyper-parameters, n_ctx,
 * n_batch and a pool of n_threads, computed without allocating from the same plan the state
 * is allocated from. Fails as tm_net_state_create would on sizes it refuses. */
tm_status tm_net_state_estimate(const tm_hparams *hp, int32_t n_ctx, int32_t n_batch, int n_threads,
                                uint64_t *out, tm_err *err);
/* What st allocated, counted buffer by buffer as it was allocated. */
uint64_t tm_net_state_allocated(const tm_net_state *st);
int32_t tm_net_state_n_batch(const tm_net_state *st);

/* Evaluates n (1..n_batch) tokens at positions pos0 .. pos0 + n - 1 (pos0 + n <= n_ctx) of
 * the sequence whose blocks of kv are listed in blocks[]: it must name a block for every
 * position up to pos0 + n - 1, whose rows before pos0 hold that sequence's keys and values
 * from earlier calls; the rows of the new positions are written. logits: NULL, or [n_vocab]
 * for the last token, or [n][n_vocab] when all_logits. Token ids outside the vocabulary are
 * TM_E_ARG. */
tm_status tm_net_forward(const tm_net *net, tm_net_state *st, tm_kv_store *kv,
                         const int32_t *blocks, const int32_t *tokens, int32_t n, int32_t pos0,
                         float *logits, bool all_logits, tm_err *err);

/* ---- building blocks (norm.c, rope.c, attention.c) ---------------------------------------- */

/* y = x / sqrt(mean(x^2) + eps) * g, for n_rows rows of n (y may be x). */
void tm_rms_norm(float *y, const float *x, const float *g, int64_t n, int64_t n_rows, float eps);

/* cos/sin of every rotated pair for each position: cs[t][i] = {cos, sin} of
 * pos[t] * base^(-2i / n_rot) * freq_scale / freqs[i] (freqs may be NULL). */
void tm_rope_table(float *cs, const int32_t *pos, int64_t n_tokens, int32_t n_rot, float base,
                   float freq_scale, const float *freqs);
/* Rotates the first n_rot values of each head of x[n_tokens][n_heads * head_dim]. */
void tm_rope_apply(float *x, const float *cs, int64_t n_tokens, int32_t n_heads, int32_t head_dim,
                   int32_t n_rot, tm_rope_kind kind);

/* Picks a token's k experts from its router logits (moe.c): ids[k] and their weights. */
void tm_moe_route(const float *logits, int32_t n_expert, int32_t k, bool renorm, int32_t *ids,
                  float *weights);

/* Causal multi-head attention of n_tokens queries at positions pos0 .. pos0 + n_tokens - 1
 * over the cached keys and values of positions 0 .. (own position), read through a block
 * table. Query head h reads kv head h / (n_head / n_head_kv) (grouped-query attention). */
typedef struct tm_attn_args {
    const float *q; /* [n_tokens][q_stride]: head h at h * head_dim */
    int64_t q_stride;
    const char *k_base, *v_base;           /* the layer's block 0, kv head 0 in the store */
    uint64_t k_block_bytes, v_block_bytes; /* from a kv head's slab of one block to the next */
    uint64_t k_row_bytes, v_row_bytes;     /* from one position of a head to the next */
    uint64_t k_head_bytes, v_head_bytes;   /* from one kv head's slabs to the next's */
    int64_t kv_stride, v_stride;           /* the kernels' strides, in elements */
    bool k_by_dim; /* keys laid dimension by dimension (F16; kv_store.c): kv_stride = block_tokens,
                      k_row_bytes = 2, scores_fn the by-dimension kernel */
    const int32_t *blocks; /* the sequence's block table */
    int32_t block_tokens;
    tm_attn_scores_fn scores_fn;
    tm_attn_values_fn values_fn;
    tm_exp_sum_fn exp_sum;
    float *out; /* [n_tokens][out_stride]: head h at h * head_dim_v */
    int64_t out_stride;
    int32_t n_tokens, pos0, n_head, n_head_kv, head_dim, head_dim_v;
    float scale;               /* multiplies q.k before the softmax: 1 / sqrt(head_dim) */
    float softcap;             /* scores = softcap * tanh(scores / softcap); 0: none */
    int32_t window;            /* a query sees the window latest positions; 0: all */
    float *scores;             /* scratch [n_threads][scores_per_thread] */
    int64_t scores_per_thread; /* >= (n_head / n_head_kv) * (pos0 + n_tokens + 1) */
    /* prompts on tiles (AMX), when the kernels have them and the head dims suit them:
     * NULL tile_fn or tiles: the rows above serve every batch */
    tm_attn_kv_tiles_fn kv_tiles_fn;
    tm_attn_tile_fn tile_fn;
    uint32_t k_type, v_type; /* the cache rows' types */
    void *tiles;             /* one kv head's key and value tiles for every position */
    uint64_t tiles_bytes;
    uint8_t *tile_scratch; /* [n_threads][TM_ATTN_TILE_SCRATCH] */
} tm_attn_args;

/* Whether prompts of heads of these dims can attend on tiles. */
bool tm_attention_tiles_fit(int32_t head_dim, int32_t head_dim_v);

void tm_attention(tm_pool *pool, const tm_attn_args *a);

#endif
