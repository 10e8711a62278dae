/* engine: the public objects of temoto.h (tm_model, tm_kv_cache, tm_session) built from the
 * layers below. Later: the continuous-batching scheduler and the model manager. */
#ifndef TM_ENGINE_H
#define TM_ENGINE_H

#include "../model/model.h"

struct tm_model {
    tm_model_params params;
    tm_gguf *gguf; /* owns the mapping the weights point into */
    tm_kernels kernels;
    tm_net *net;
    struct tm_vocab *vocab;          /* NULL when the file's tokenizer is not supported */
    tm_err vocab_err;                /* why vocab is NULL */
    char *chat_template;             /* tokenizer.chat_template, NUL-terminated; NULL when absent */
    struct tm_template *chat_parsed; /* parsed at load; NULL (see chat_err) if it did not parse */
    tm_err chat_err;
    uint8_t fingerprint[32]; /* tm_model_fingerprint: which weights saved KV belongs to */
};

/* A SHA-256 of what decides a model's keys and values, computed at load (before repacking)
 * in a few milliseconds: the file's size, its metadata keys, every tensor's name, type,
 * shape and offset, and the first 4 KiB of every tensor's data (a fine-tune changes every
 * tensor; the same file always gives the same fingerprint). */
void tm_model_fingerprint(const tm_gguf *g, uint8_t out[32]);

/* Reads the model's vocabulary (tokens.c): an unsupported tokenizer is not an error, it
 * leaves model->vocab NULL and the reason in model->vocab_err. */
tm_status tm_model_vocab_load(tm_model *model, tm_err *err);
void tm_model_vocab_free(tm_model *model);
/* Reads and parses the chat template (chat.c): a template that does not parse is not a load
 * error; rendering it later reports why. */
tm_status tm_model_chat_load(tm_model *model, tm_err *err);
void tm_model_chat_free(tm_model *model);

/* Session parameters with every default filled in as tm_session_create fills them: n_ctx,
 * n_batch and n_threads (the pool's size) are positive afterwards; negative ones are
 * TM_E_ARG. Shared by session creation and the memory estimate so both agree. */
tm_status tm_session_params_resolve(const tm_model *model, const tm_session_params *params,
                                    tm_session_params *out, tm_err *err);

/* The context a session gets when its parameters do not say: the training context, at most
 * TM_DEFAULT_CTX (training contexts reach 128k). */
#define TM_DEFAULT_CTX 4096
int32_t tm_session_default_ctx(const tm_model *model);

/* ---- the KV cache (kv_cache.c) ----------------------------------------------------------- */

#define TM_KV_BLOCK_TOKENS 32 /* positions per block unless the caller says */

/* A sequence's view of the cache: its block table, and the chain key of each full block
 * (what a later prompt with the same tokens looks the next block up by). */
typedef struct tm_kv_seq {
    int32_t *blocks;    /* [max_blocks]: block of positions j * block_tokens .. */
    uint64_t *keys;     /* [max_blocks] */
    int32_t n_blocks;   /* held */
    int32_t max_blocks; /* the sequence's context in blocks */
} tm_kv_seq;

/* One sequence (session.c): its threads and scratch, its tokens, its blocks of a KV cache. */
struct tm_session {
    const tm_model *model;
    tm_pool *pool;
    tm_net_state *state;
    tm_kv_cache *cache;
    bool own_cache;
    tm_kv_seq seq;
    tm_token *tokens; /* [n_ctx]: the ids at positions 0 .. n_past - 1 */
    uint64_t record_bytes;
    int32_t n_ctx, n_past;
    int32_t n_reused; /* positions the last eval took from the cache */
};

/* The store a cache with these parameters allocates (the plan: sizes only). */
tm_status tm_kv_cache_plan(const tm_model *model, const tm_kv_cache_params *params,
                           tm_kv_store *store, tm_err *err);
/* The same from hyper-parameters alone (the planner's model shapes): default_ctx stands for
 * the model's default context when params->n_ctx is 0. */
tm_status tm_kv_cache_plan_hparams(const tm_hparams *hp, int32_t default_ctx,
                                   const tm_kv_cache_params *params, tm_kv_store *store,
                                   tm_err *err);
/* Bytes of a cache's bookkeeping for n_blocks blocks. */
uint64_t tm_kv_cache_meta_bytes(int32_t n_blocks, int32_t block_tokens);
tm_kv_store *tm_kv_cache_store(const tm_kv_cache *c);
const tm_model *tm_kv_cache_model(const tm_kv_cache *c);
int32_t tm_kv_cache_block_tokens(const tm_kv_cache *c);
/* The key of a block of n tokens following a block keyed prev (0 at position 0). */
uint64_t tm_kv_chain_key(uint64_t prev, const tm_token *tokens, int32_t n);

/* tokens[] below is the sequence's whole token record, indexed by position. */
/* Shares the cached blocks that continue the sequence's n_past positions with tokens up to
 * limit (exclusive), and copies the longest matching start of the next one; returns the new
 * n_past. Does nothing unless n_past is a whole number of blocks the sequence holds. */
int32_t tm_kv_seq_attach(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t n_past,
                         int32_t limit);
/* Gives the sequence writable blocks for positions n_past .. end - 1: new blocks, and a
 * private copy of a block it shares. TM_E_LIMIT when the pool is full of held blocks or end
 * exceeds max_blocks; then the sequence holds what it held before (positions < n_past). */
tm_status tm_kv_seq_reserve(tm_kv_cache *c, tm_kv_seq *s, int32_t n_past, int32_t end, tm_err *err);
/* Registers the blocks that filled up while positions from .. to - 1 were written. */
void tm_kv_seq_seal(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t from, int32_t to);
/* Gives back the blocks a sequence of n_past positions no longer needs when it keeps keep. */
void tm_kv_seq_release(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t n_past,
                       int32_t keep);

/* What n_parallel sessions with caches of their own take, from hyper-parameters alone (the
 * computation tm_memory_estimate_get makes for a loaded model; the planner's shapes use it
 * too): p must be resolved (n_ctx, n_batch, n_threads positive, no shared cache);
 * weights_bytes is added as given. */
tm_status tm_memory_estimate_hparams(const tm_hparams *hp, const tm_session_params *p,
                                     int32_t n_parallel, uint64_t weights_bytes,
                                     tm_memory_estimate *out, tm_err *err);

/* The parameters of the cache a session without a shared one makes for itself. */
tm_kv_cache_params tm_session_cache_params(const tm_session_params *resolved);

/* ---- saved sequences (kv_file.c) --------------------------------------------------------- */

#define TM_KV_FILE_HEADER_BYTES 76
#define TM_KV_FILE_VERSION      2
#define TM_KV_FILE_MAX_TOKENS   (1u << 24)

typedef struct tm_kv_file_header {
    uint32_t version;
    uint8_t fingerprint[32];
    uint32_t type_k, type_v, n_layer;
    uint64_t k_row_bytes, v_row_bytes;
    uint32_t n_tokens;
    uint64_t file_bytes; /* the whole file, from the fields above (not stored) */
} tm_kv_file_header;

/* Reads and checks a header from the first n bytes of a file (TM_E_FORMAT with the reason:
 * magic, version, types, sizes out of range or overflowing). */
tm_status tm_kv_file_header_parse(const uint8_t *buf, size_t n, tm_kv_file_header *out,
                                  tm_err *err);
void tm_kv_file_header_write(const tm_kv_file_header *h, uint8_t out[TM_KV_FILE_HEADER_BYTES]);
/* The size of a file with this header; false on overflow. */
bool tm_kv_file_bytes(const tm_kv_file_header *h, uint64_t *out);

/* Bytes of a session's own records: its token ids, block table and block keys. */
static inline uint64_t tm_session_record_bytes(int32_t n_ctx, int32_t block_tokens)
{
    uint64_t n_blocks = ((uint64_t)n_ctx + (uint64_t)block_tokens - 1) / (uint64_t)block_tokens;
    return (uint64_t)n_ctx * sizeof(tm_token) + n_blocks * (sizeof(int32_t) + sizeof(uint64_t));
}

/* The network of a model, for apps that drive the forward pass directly. */
const tm_net *tm_model_net(const tm_model *model);

/* ---- planning: what fits, how fast (plan.c, plan_tables.c, plan_tiers.c) ----------------- */

/* A model's shape as far as memory and speed depend on it, from its published config
 * (plan_tables.c): enough hyper-parameters for the engine's own KV and scratch sizes. */
typedef struct tm_plan_shape {
    const char *name; /* "llama3-8b" */
    int32_t n_layer, n_head, n_head_kv, head_dim, n_embd, n_ff, n_vocab, n_ctx_train;
    int32_t n_swa;      /* sliding window of the local layers; 0: none */
    int32_t swa_period; /* with n_swa: layer i is global when (i + 1) % swa_period == 0 */
    bool tied;          /* the output matrix is the token embedding */
} tm_plan_shape;

/* A common model size and the shape that stands for it in the sizes table. */
typedef struct tm_plan_size {
    const char *label; /* "7B" */
    uint64_t n_params;
    const char *shape;
} tm_plan_size;

/* Case-insensitive lookups; NULL when unknown. _at(i) walks a table (NULL past its end). */
const tm_plan_shape *tm_plan_shape_find(const char *name);
const tm_plan_shape *tm_plan_shape_at(int i);
const tm_plan_size *tm_plan_size_at(int i);
/* The shape of the common size nearest n_params (on a log scale). */
const tm_plan_shape *tm_plan_shape_nearest(uint64_t n_params);
/* Bits per weight of a quantization name ("Q4_K_M", "f16"): false when unknown. */
bool tm_plan_quant_bits(const char *name, double *bits);
const char *tm_plan_quant_names(void); /* "F32, F16, ..." for messages */

/* A parameter count: "8B", "0.5b", "350M", "1.2T", "8e9", "7000000000" (K, M, B or G, T:
 * powers of 1000). TM_E_ARG naming the text for anything else, for zero and for more than
 * TM_PLAN_MAX_PARAMS. */
#define TM_PLAN_MAX_PARAMS 1000000000000000ull /* 10^15 */
tm_status tm_plan_params_parse(const char *text, uint64_t *out, tm_err *err);

/* Weights of n_params at bits per weight (0 < bits <= 64): n_params x bits / 8 bytes,
 * rounded to the nearest byte. */
tm_status tm_plan_weights_bytes(uint64_t n_params, double bits, uint64_t *out, tm_err *err);
/* The reference tables' convention: bytes x 1.10 (runtime overhead) in GiB, rounded to 0.1. */
double tm_plan_gib_with_overhead(uint64_t bytes);
/* The reference tables' KV: 2 x layers x KV heads x head width x n_ctx x bits / 8 (bits per
 * element: 16, 8, 4 nominal; the engine's Q8_0 and Q4_0 blocks take 8.5 and 4.5 bits). */
tm_status tm_plan_kv_nominal_bytes(const tm_plan_shape *shape, int64_t n_ctx, double bits,
                                   uint64_t *out, tm_err *err);

/* The hyper-parameters the engine's size computations read, filled from a shape. */
void tm_plan_shape_hparams(const tm_plan_shape *shape, tm_hparams *out);
/* What n_parallel sessions of a model of this shape would allocate (the engine's own
 * computation, tm_memory_estimate_hparams) with weights_bytes of weights. params: n_ctx 0 is
 * the shape's training context at most TM_DEFAULT_CTX, n_batch 0 is 512, n_threads 0 one
 * per core, as sessions resolve them; params->kv_cache must be NULL. */
tm_status tm_plan_shape_memory(const tm_plan_shape *shape, uint64_t weights_bytes,
                               const tm_session_params *params, int32_t n_parallel,
                               tm_memory_estimate *out, tm_err *err);

/* Bytes one generated token reads at `depth` positions of context: every weight matrix (of
 * a mixture of experts, the n_expert_used experts a token runs), one row of the token
 * embedding (all of it when it is also the output) and the keys and values of the positions
 * attention looks at (all of them, or the window in sliding-window layers). The model's tensors, or
 * for a shape weights_bytes at bits per weight. Types the heads cannot hold count as F16. */
uint64_t tm_plan_decode_bytes_model(const tm_model *model, int64_t depth, tm_kv_type type_k,
                                    tm_kv_type type_v);
uint64_t tm_plan_decode_bytes_shape(const tm_plan_shape *shape, uint64_t weights_bytes, double bits,
                                    int64_t depth, tm_kv_type type_k, tm_kv_type type_v);

/* The largest context in 1 .. cap for which fits() holds, by binary search (fits must not
 * turn true again once false as the context grows); 0 when not even 1 fits. */
int32_t tm_plan_max_ctx(int32_t cap, bool (*fits)(int32_t n_ctx, void *arg), void *arg);

/* A machine class the planner answers for (plan_tiers.c): the memory a model lives in and
 * how fast it is read, nominal figures with their sources in docs/plan.md. */
typedef struct tm_plan_tier {
    const char *name;        /* "a16" */
    const char *description; /* "Apple Silicon, 16 GB unified memory (M2/M3 class)" */
    uint64_t memory_bytes;   /* where the model lives: unified memory, system RAM or VRAM */
    double usable_fraction;  /* of memory_bytes, for the model, its KV cache and scratch */
    uint64_t system_bytes;   /* system RAM (the GPU tiers' assumption) */
    double bandwidth_gbs;    /* nominal peak read bandwidth of memory_bytes */
    int32_t n_cores;
    bool apple, gpu;
} tm_plan_tier;

const tm_plan_tier *tm_plan_tier_find(const char *name); /* NULL when unknown */
const tm_plan_tier *tm_plan_tier_at(int i);
const char *tm_plan_tier_names(void); /* "a16, a24, ..." for messages */
uint64_t tm_plan_tier_usable_bytes(const tm_plan_tier *tier);
/* The tier nearest a detected machine: by memory among the Apple tiers when apple, else by
 * cores and memory (log scale) among the CPU-only PC tiers. GPU tiers are never chosen:
 * temoto computes on the CPU. */
const tm_plan_tier *tm_plan_tier_nearest(bool apple, uint64_t memory_bytes, int32_t n_cores);

#endif
