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
 * 4096 (training contexts reach 128k). */
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

/* The parameters of the cache a session without a shared one makes for itself. */
tm_kv_cache_params tm_session_cache_params(const tm_session_params *resolved);

/* ---- saved sequences (kv_file.c) --------------------------------------------------------- */

#define TM_KV_FILE_HEADER_BYTES 76
#define TM_KV_FILE_VERSION      1
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

#endif
