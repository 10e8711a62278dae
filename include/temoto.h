/* temoto: a local-AI runtime. This is the only header applications and bindings need.
 *
 * Conventions: every fallible function returns a tm_status and explains failures in a
 * caller-owned tm_err (which may be NULL); out-parameters are written only on success.
 * Objects made by tm_x_create / tm_x_load are released with tm_x_free, and tm_x_free(NULL)
 * does nothing. Same major version: source and ABI compatible; new fields of parameter
 * structs arrive with defaults through tm_x_params_default(). */
#ifndef TEMOTO_H
#define TEMOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_VERSION_MAJOR 0
#define TM_VERSION_MINOR 1
#define TM_VERSION_PATCH 0
#define TM_VERSION_NUM   ((TM_VERSION_MAJOR << 16) | (TM_VERSION_MINOR << 8) | TM_VERSION_PATCH)

#if defined(_WIN32) && defined(TM_BUILD_SHARED)
#define TM_API __declspec(dllexport)
#elif defined(__GNUC__)
#define TM_API __attribute__((visibility("default")))
#else
#define TM_API
#endif

/* One list makes the enum, tm_status_str() and the docs. */
#define TM_STATUS_LIST(X)              \
    X(TM_OK, "ok")                     \
    X(TM_E_ARG, "invalid argument")    \
    X(TM_E_FORMAT, "malformed input")  \
    X(TM_E_LIMIT, "limit exceeded")    \
    X(TM_E_NOMEM, "out of memory")     \
    X(TM_E_IO, "i/o error")            \
    X(TM_E_UNSUPPORTED, "unsupported") \
    X(TM_E_CANCELLED, "cancelled")     \
    X(TM_E_INTERNAL, "internal error")

typedef enum tm_status {
#define X(name, text) name,
    TM_STATUS_LIST(X)
#undef X
} tm_status;

typedef struct tm_err { /* owned by the caller, often on its stack */
    tm_status status;
    char msg[256]; /* one line, lower case, no final period */
} tm_err;

TM_API const char *tm_status_str(tm_status status);
TM_API uint32_t tm_version_num(void); /* compare with TM_VERSION_NUM at start-up */
TM_API const char *tm_version_str(void);

/* ---- models ---------------------------------------------------------------------------- */

typedef int32_t tm_token;
typedef struct tm_model tm_model; /* weights, hyper-parameters, tokenizer; read-only once loaded */

typedef struct tm_model_params {
    bool use_mmap; /* default true: weights stay in the page cache, shared between processes */
    const char *kernels;    /* NULL or "auto": best for this CPU; "ref", "avx2", "avx512",
                               "amx", "neon", "dotprod", "i8mm" force one table (default:
                               the TM_KERNELS environment variable, if set) */
    bool float_activations; /* default false. true: quantized weights are dequantized and
                               multiplied by float activations instead of 8-bit quantized ones:
                               slower, exact for the file's weights; for verification */
    bool repack;            /* default true (false when the TM_REPACK environment variable is
                               0): matrices the kernels have a GEMM for are rewritten at load
                               into their SIMD layout, in private memory, and the file's pages
                               released; false keeps every weight in the shared mapping */
    int32_t n_threads;      /* default 0: one per logical CPU. Threads that repack the weights
                               at load (they live only while it runs) */
} tm_model_params;

TM_API tm_model_params tm_model_params_default(void);
/* Opens a GGUF file. Errors name the file and what is wrong with it. */
TM_API tm_status tm_model_load(const char *path, const tm_model_params *params, tm_model **out,
                               tm_err *err);
TM_API void tm_model_free(tm_model *model);

TM_API const char *tm_model_arch(const tm_model *model);    /* "llama", ...; lives with the model */
TM_API const char *tm_model_kernels(const tm_model *model); /* chosen kernel table: "avx512" */
TM_API int32_t tm_model_n_vocab(const tm_model *model);
TM_API int32_t tm_model_n_ctx_train(const tm_model *model);
TM_API int32_t tm_model_n_embd(const tm_model *model);
TM_API int32_t tm_model_n_layer(const tm_model *model);
TM_API uint64_t tm_model_n_params(const tm_model *model);
TM_API uint64_t tm_model_weight_bytes(const tm_model *model);

/* ---- tokens ------------------------------------------------------------------------------ */

TM_API tm_token tm_model_bos(const tm_model *model); /* -1 when the vocabulary has none */
TM_API tm_token tm_model_eos(const tm_model *model);
TM_API bool tm_model_add_bos(const tm_model *model); /* does the vocabulary want BOS prepended */
TM_API bool tm_token_is_eog(const tm_model *model, tm_token token); /* end of generation */

/* Tokenizes len bytes of UTF-8 text. add_special: prepend BOS (and append EOS) as the
 * vocabulary asks; parse_special: text such as "<s>" becomes its control token instead of
 * plain text. Writes at most cap ids to out and the full count to *n_out; a count above
 * cap is TM_E_LIMIT with *n_out set, so the caller can retry with a larger buffer. */
TM_API tm_status tm_tokenize(const tm_model *model, const char *text, size_t len, bool add_special,
                             bool parse_special, tm_token *out, int32_t cap, int32_t *n_out,
                             tm_err *err);
/* The bytes a token stands for (byte-fallback tokens give their raw byte, control tokens
 * nothing unless special is true). Returns the byte count, which may exceed cap: then only
 * cap bytes were written. Returns -1 for an id outside the vocabulary. */
TM_API int32_t tm_token_to_piece(const tm_model *model, tm_token token, bool special, char *buf,
                                 int32_t cap);

/* ---- chat templates ---------------------------------------------------------------------- */

/* The model's chat template (tokenizer.chat_template), NUL-terminated and owned by the
 * model; NULL when the file has none. */
TM_API const char *tm_model_chat_template(const tm_model *model);
/* Renders a chat template (the model's when template_src is NULL) with the members of the
 * JSON object context_json as its variables: messages, tools, add_generation_prompt, ...;
 * bos_token and eos_token default to the model's. Writes at most cap bytes to buf (no
 * terminator) and the full length to *n_out; a longer prompt is TM_E_LIMIT with *n_out
 * set. A template's raise_exception() is TM_E_ARG with its message. */
TM_API tm_status tm_chat_render(const tm_model *model, const char *template_src,
                                const char *context_json, size_t len, char *buf, size_t cap,
                                size_t *n_out, tm_err *err);

/* ---- the KV cache: blocks of positions, shared by sessions ------------------------------- */

typedef struct tm_session tm_session;
typedef struct tm_kv_cache tm_kv_cache;

/* The KV cache's element type (the numbers are GGUF's type numbers). F16 halves the memory
 * and the bandwidth of long contexts; F32 is exact (reference comparisons); Q8_0 (blocks of
 * 32 codes with a scale, 34 bytes) nearly halves F16 again, Q4_0 (18 bytes per 32) halves
 * it once more at a visible cost in quality; both for models whose heads are whole blocks of
 * 32 values. */
typedef enum tm_kv_type {
    TM_KV_SAME = -1, /* values only: the keys' type */
    TM_KV_F32 = 0,
    TM_KV_F16 = 1,
    TM_KV_Q4_0 = 2,
    TM_KV_Q8_0 = 8,
} tm_kv_type;

/* "f16" / "f32" / "q8_0" / "q4_0" to a tm_kv_type; false for anything else. */
TM_API bool tm_kv_type_parse(const char *name, tm_kv_type *out);
TM_API const char *tm_kv_type_name(tm_kv_type type); /* "q8_0"; "?" when unknown */

/* A pool of KV blocks (block_tokens positions of every layer's keys and values each) that
 * sessions take blocks from as their sequences grow and give back when they shrink or end.
 *
 * Prefix reuse: a block that a sequence has filled is keyed by a hash of all the tokens up to
 * its end, and stays in the pool after its sequence lets go of it. A session evaluating a
 * prompt that starts with cached blocks takes them (shared, reference-counted) instead of
 * computing them again, then continues from a copy of the longest matching part of the next
 * block (copy-on-write); only the rest is computed. Blocks no sequence holds are evicted
 * least recently used first when the pool runs out. A pool full of blocks in use makes an
 * evaluation fail with TM_E_LIMIT, naming the numbers, and leaves the session as it was.
 *
 * The functions are safe to call from several threads; each session is used by one thread
 * at a time. */
typedef struct tm_kv_cache_params {
    tm_kv_type type_k;    /* the keys' type; default TM_KV_F16 */
    tm_kv_type type_v;    /* the values'; default TM_KV_SAME (type_k) */
    int32_t block_tokens; /* positions per block; default 32 */
    /* The pool's size: n_blocks if positive; else the most blocks mem_bytes holds (keys and
     * values, not counting bookkeeping) if positive; else n_parallel sequences of n_ctx
     * positions (n_ctx 0: a session's default context; n_parallel 0: 1). */
    int32_t n_blocks;
    uint64_t mem_bytes;
    int32_t n_ctx, n_parallel;
    bool prefix_reuse; /* default true; false: blocks are freed as soon as released */
} tm_kv_cache_params;

typedef struct tm_kv_cache_stats {
    int32_t n_blocks, block_tokens;
    int32_t used;            /* blocks held by sequences */
    int32_t cached;          /* held by none, keeping tokens a later prompt may reuse */
    int32_t free;            /* empty */
    uint64_t kv_bytes;       /* the keys and values of all blocks */
    uint64_t meta_bytes;     /* the bookkeeping: per-block records, their tokens, hash table */
    uint64_t reused_tokens;  /* positions prompts took from the cache instead of computing */
    uint64_t evicted_blocks; /* cached blocks dropped to make room */
} tm_kv_cache_stats;

TM_API tm_kv_cache_params tm_kv_cache_params_default(void);
/* A pool for sessions of this model (which must outlive it). Types the model's heads cannot
 * hold and sizes of no block or that overflow are errors. */
TM_API tm_status tm_kv_cache_create(const tm_model *model, const tm_kv_cache_params *params,
                                    tm_kv_cache **out, tm_err *err);
/* Free every session using the cache first. */
TM_API void tm_kv_cache_free(tm_kv_cache *cache);
TM_API void tm_kv_cache_stats_get(tm_kv_cache *cache, tm_kv_cache_stats *out);
/* Drops every cached block (blocks held by sequences stay). */
TM_API void tm_kv_cache_clear(tm_kv_cache *cache);

/* ---- sessions: one sequence ---------------------------------------------------------------- */

typedef struct tm_session_params {
    int32_t n_ctx;         /* 0: the model's training context, at most 4096 */
    int32_t n_threads;     /* 0: one per core */
    int32_t n_batch;       /* tokens per forward pass when evaluating a prompt; default 512 */
    tm_kv_cache *kv_cache; /* NULL (default): a cache of the session's own, of n_ctx positions,
                              with kv_type and kv_type_v; else the shared cache to take blocks
                              from (borrowed; its types rule) */
    tm_kv_type kv_type;    /* keys (and values unless kv_type_v says); default TM_KV_F16 */
    tm_kv_type kv_type_v;  /* default TM_KV_SAME */
} tm_session_params;

TM_API tm_session_params tm_session_params_default(void);
/* The session borrows the model, which must outlive it. */
TM_API tm_status tm_session_create(const tm_model *model, const tm_session_params *params,
                                   tm_session **out, tm_err *err);
TM_API void tm_session_free(tm_session *session);

/* Appends n tokens to the sequence and evaluates them. logits: NULL, or room for
 * n_vocab floats (the last token's logits), or n * n_vocab when all_logits is true
 * (row k: the logits after token k). Tokens beyond the context are TM_E_LIMIT. */
TM_API tm_status tm_session_eval(tm_session *session, const tm_token *tokens, int32_t n,
                                 float *logits, bool all_logits, tm_err *err);
TM_API int32_t tm_session_n_past(const tm_session *session);
/* The tokens of the sequence: n_past ids, valid until the session next changes. */
TM_API const tm_token *tm_session_tokens(const tm_session *session);
/* The KV cache the session takes its blocks from (its own, or the shared one). */
TM_API tm_kv_cache *tm_session_kv_cache(tm_session *session);
/* Positions of the last tm_session_eval taken from the KV cache instead of computed. */
TM_API int32_t tm_session_n_reused(const tm_session *session);
TM_API int32_t tm_session_n_ctx(const tm_session *session);
/* Forgets the sequence: its blocks go back to the cache (where a later prompt may reuse
 * them); the session's own memory stays. */
TM_API void tm_session_reset(tm_session *session);
/* Keeps the first n tokens of the sequence and forgets the rest (a chat whose history was
 * rewritten continues from the common prefix). n at or above n_past changes nothing. */
TM_API void tm_session_truncate(tm_session *session, int32_t n);

/* ---- saved sequences: the prompt cache --------------------------------------------------- */

/* Writes the session's sequence, its tokens and their keys and values, to path (a new file
 * replaces an old one whole; a reader never sees half of it). About n_past x the KV bytes of
 * a position: 0.5 MiB per 16 positions of a 16-layer model with an F16 cache. */
TM_API tm_status tm_session_save(tm_session *session, const char *path, tm_err *err);
/* Replaces the session's sequence with one tm_session_save wrote from the same model file,
 * with the same key and value types, and no longer than the session's context. A file of
 * another model or types, or one truncated or corrupt (checked against its SHA-256), is an
 * error naming the reason; errors found before reading the keys and values leave the session
 * as it was, later ones leave it empty. The loaded blocks are reusable by other sessions of
 * the cache like blocks computed here. */
TM_API tm_status tm_session_load(tm_session *session, const char *path, tm_err *err);

/* ---- context limits ---------------------------------------------------------------------- */

/* What happens when tokens do not fit the context. Nothing is ever dropped unless the
 * caller asks for it. */
typedef enum tm_overflow {
    TM_OVERFLOW_ERROR = 0,         /* default: an error naming both numbers */
    TM_OVERFLOW_TRUNCATE_LEFT = 1, /* a prompt loses its oldest tokens after the kept start;
                                      generation stops when the context is full */
    TM_OVERFLOW_SHIFT = 2,         /* prompts as truncate-left; when generation fills the
                                      context, the older half after the kept start is dropped
                                      (tm_session_shift) and generation goes on */
} tm_overflow;

/* "error" / "truncate-left" / "shift" to a tm_overflow; false for anything else. */
TM_API bool tm_overflow_parse(const char *name, tm_overflow *out);
TM_API const char *tm_overflow_name(tm_overflow overflow); /* "shift"; "?" when unknown */

/* Fits a prompt of *n_tokens tokens to a context of n_ctx positions. A prompt that fits is
 * left alone (*n_dropped = 0). One that does not is TM_E_LIMIT naming both numbers under
 * TM_OVERFLOW_ERROR; otherwise it keeps its first n_keep tokens (BOS, a system prompt) and
 * as many of its last tokens as leave n_reserve positions free for generation (at most
 * n_ctx / 2 are reserved), moves them together in tokens[], and sets *n_tokens and
 * *n_dropped. An n_keep that leaves no room for the prompt's end is TM_E_LIMIT. */
TM_API tm_status tm_prompt_fit(tm_overflow overflow, int32_t n_ctx, int32_t n_keep,
                               int32_t n_reserve, tm_token *tokens, int32_t *n_tokens,
                               int32_t *n_dropped, tm_err *err);

/* Context shift: keeps the first n_keep tokens of the sequence, forgets the n_discard after
 * them and moves the rest down to follow the kept ones. Their keys were rotated for their
 * old positions, so they are evaluated again at the new ones: the session ends up as if it
 * had been given the remaining tokens from the start (up to the summation order of other
 * batch shapes), at the cost of one prompt evaluation of n_past - n_keep - n_discard
 * tokens. n_keep + n_discard must not exceed n_past (TM_E_ARG). */
TM_API tm_status tm_session_shift(tm_session *session, int32_t n_keep, int32_t n_discard,
                                  tm_err *err);

/* ---- memory accounting ------------------------------------------------------------------- */

/* Bytes of memory a model and its sessions take. */
typedef struct tm_memory_estimate {
    uint64_t weights_bytes; /* the model's tensor data (mapped, or repacked in its place) */
    uint64_t kv_bytes;      /* the KV cache(s): keys and values */
    uint64_t scratch_bytes; /* everything else sessions allocate: activations, attention and
                               matrix scratch, the token record and block table, the KV
                               caches' bookkeeping */
    uint64_t total_bytes;   /* the sum of the three */
    int32_t n_ctx, n_batch, n_threads; /* the session parameters, defaults filled in */
} tm_memory_estimate;

/* What n_parallel sessions created with params (NULL: defaults) on this model allocate,
 * computed without allocating, from the same size computation the sessions are allocated
 * from: it equals tm_session_memory's figures exactly. Sessions with caches of their own
 * take n_parallel of them; sessions sharing params->kv_cache count it once (its size was
 * chosen when it was made: tm_kv_cache_params). Not counted: the vocabulary, the
 * threads' stacks, allocator overhead and the few hundred bytes of bookkeeping structs.
 * Parameters a session would refuse are refused with the same error. */
TM_API tm_status tm_memory_estimate_get(const tm_model *model, const tm_session_params *params,
                                        int32_t n_parallel, tm_memory_estimate *out, tm_err *err);
/* What one session allocated, counted as it allocated it: scratch_bytes, kv_bytes of its own
 * cache or of the shared cache it uses, the model's weights_bytes (shared by all its
 * sessions) and their total. */
TM_API void tm_session_memory(const tm_session *session, tm_memory_estimate *out);

/* ---- sampling ---------------------------------------------------------------------------- */

typedef struct tm_sampler tm_sampler;

typedef struct tm_sampler_params {
    float temperature;     /* default 0.8; 0 or below: greedy (argmax) */
    int32_t top_k;         /* default 40; 0: off */
    float top_p;           /* default 0.95; 1: off */
    float min_p;           /* default 0.05; 0: off */
    float repeat_penalty;  /* default 1.0 (off) */
    int32_t repeat_last_n; /* tokens the penalty looks back over; default 64 */
    uint64_t seed;         /* same seed, same logits: same tokens */
} tm_sampler_params;

TM_API tm_sampler_params tm_sampler_params_default(void);
TM_API tm_status tm_sampler_create(const tm_sampler_params *params, int32_t n_vocab,
                                   tm_sampler **out, tm_err *err);
TM_API void tm_sampler_free(tm_sampler *sampler);
/* Picks the next token from logits[n_vocab] (not modified). */
TM_API tm_token tm_sampler_sample(tm_sampler *sampler, const float *logits);
/* Records a token of the sequence (prompt or generated) for the repetition penalty. */
TM_API void tm_sampler_accept(tm_sampler *sampler, tm_token token);
TM_API void tm_sampler_reset(tm_sampler *sampler);

#ifdef __cplusplus
}
#endif
#endif
