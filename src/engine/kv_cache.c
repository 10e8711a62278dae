/* tm_kv_cache: who holds which block of a tm_kv_store, and which blocks keep a reusable
 * prefix.
 *
 * A block is in one of three states: FREE (on the free list), USED (held by ref >= 1
 * sequences) or CACHED (held by none, on the LRU list, still holding n_tokens positions of
 * a known token chain). A block a sequence has filled is "registered": keyed in the hash
 * table by the chain key of all tokens up to its end (chain_key below: the key of the block
 * before it, mixed with its own tokens), so a later prompt with the same tokens finds it;
 * a registered block is never written again (a sequence that must write into one it shares
 * gets a copy). Each block also records its depth in the chain and the block before it, so
 * a match is checked exactly (same parent block, same tokens), not trusted to the hash.
 *
 * Evicting a block makes the blocks cached after it unreachable (their parent is gone), so
 * they are freed with it. Sequences give blocks back last first, so a chain's tail becomes
 * least recently used before its head and is evicted first.
 *
 * One mutex guards the bookkeeping; the keys and values themselves are written only by the
 * one sequence that holds a block unregistered, so forward passes run without the lock. */
#include "engine.h"

#include <string.h>

enum { BLOCK_FREE, BLOCK_USED, BLOCK_CACHED };

typedef struct kv_block {
    uint64_t key;       /* chain key, when registered */
    int32_t ref;        /* sequences holding it */
    int32_t n_tokens;   /* its first rows that hold known tokens' keys and values (their ids
                           in tm_kv_cache.tokens), settled: the holder writes only after them */
    int32_t depth;      /* its index in its sequence's block table */
    int32_t parent;     /* the block before it in the chain; -1 at depth 0 */
    int32_t hnext;      /* next block of its hash bucket; -1: none */
    int32_t prev, next; /* links of the free or LRU list; -1: none */
    uint8_t state;
    bool registered;
} kv_block;

typedef struct kv_list {
    int32_t head, tail; /* head: least recently added */
} kv_list;

struct tm_kv_cache {
    const tm_model *model;
    tm_kv_store *store;
    tm_mutex *mu;
    bool prefix_reuse;
    int32_t n_blocks, block_tokens;
    kv_block *blocks;   /* [n_blocks] */
    tm_token *tokens;   /* [n_blocks][block_tokens]: the tokens of cached and registered blocks */
    int32_t *buckets;   /* [n_buckets] first block of each hash bucket; -1: none */
    int32_t *stack;     /* [n_blocks] scratch for cascading evictions */
    uint32_t n_buckets; /* a power of two */
    kv_list free_list, lru;
    int32_t n_used, n_cached;
    uint64_t reused_tokens, evicted_blocks;
    uint64_t meta_bytes;
};

/* ---- sizes ------------------------------------------------------------------------------ */

static uint32_t bucket_count(int32_t n_blocks)
{
    uint32_t n = 16;
    while (n < 2u * (uint32_t)n_blocks && n < (1u << 30))
        n *= 2;
    return n;
}

uint64_t tm_kv_cache_meta_bytes(int32_t n_blocks, int32_t block_tokens)
{
    return (uint64_t)n_blocks * sizeof(kv_block) +
           (uint64_t)n_blocks * (uint64_t)block_tokens * sizeof(tm_token) +
           (uint64_t)bucket_count(n_blocks) * sizeof(int32_t) +
           (uint64_t)n_blocks * sizeof(int32_t);
}

tm_kv_cache_params tm_kv_cache_params_default(void)
{
    tm_kv_cache_params p;
    memset(&p, 0, sizeof p);
    p.type_k = TM_KV_F16;
    p.type_v = TM_KV_SAME;
    p.block_tokens = TM_KV_BLOCK_TOKENS;
    p.prefix_reuse = true;
    return p;
}

tm_status tm_kv_cache_plan(const tm_model *model, const tm_kv_cache_params *params,
                           tm_kv_store *store, tm_err *err)
{
    return tm_kv_cache_plan_hparams(&model->net->hp, tm_session_default_ctx(model), params, store,
                                    err);
}

tm_status tm_kv_cache_plan_hparams(const tm_hparams *hp, int32_t default_ctx,
                                   const tm_kv_cache_params *params, tm_kv_store *store,
                                   tm_err *err)
{
    tm_kv_cache_params p = params ? *params : tm_kv_cache_params_default();
    tm_kv_type tv = p.type_v == TM_KV_SAME ? p.type_k : p.type_v;
    if (p.block_tokens <= 0 || p.n_blocks < 0 || p.n_ctx < 0 || p.n_parallel < 0)
        return tm_fail(err, TM_E_ARG, "KV cache of %d blocks of %d positions, %d x %d positions",
                       p.n_blocks, p.block_tokens, p.n_parallel, p.n_ctx);
    /* the sizes of one block decide how many fit a budget */
    tm_kv_store one;
    tm_status st =
        tm_kv_store_plan(hp, (uint32_t)p.type_k, (uint32_t)tv, p.block_tokens, 1, &one, err);
    if (st != TM_OK)
        return st;
    int64_t n_blocks = p.n_blocks;
    if (n_blocks == 0 && p.mem_bytes > 0) {
        n_blocks = (int64_t)TM_MIN(p.mem_bytes / one.bytes, (uint64_t)INT32_MAX);
        if (n_blocks == 0)
            return tm_fail(err, TM_E_ARG,
                           "a KV budget of %llu bytes holds no block of %d positions (%llu "
                           "bytes)",
                           (unsigned long long)p.mem_bytes, p.block_tokens,
                           (unsigned long long)one.bytes);
    } else if (n_blocks == 0) {
        int64_t n_ctx = p.n_ctx > 0 ? p.n_ctx : default_ctx;
        int64_t per_seq = (n_ctx + p.block_tokens - 1) / p.block_tokens;
        n_blocks = per_seq * TM_MAX(p.n_parallel, 1);
        if (n_blocks > INT32_MAX)
            return tm_fail(err, TM_E_LIMIT, "%d sequences of %lld positions", p.n_parallel,
                           (long long)n_ctx);
    }
    return tm_kv_store_plan(hp, (uint32_t)p.type_k, (uint32_t)tv, p.block_tokens, (int32_t)n_blocks,
                            store, err);
}

/* ---- lists and the hash table ------------------------------------------------------------ */

static void list_push(tm_kv_cache *c, kv_list *l, int32_t b)
{
    kv_block *k = &c->blocks[b];
    k->prev = l->tail;
    k->next = -1;
    if (l->tail >= 0)
        c->blocks[l->tail].next = b;
    else
        l->head = b;
    l->tail = b;
}

static void list_remove(tm_kv_cache *c, kv_list *l, int32_t b)
{
    kv_block *k = &c->blocks[b];
    if (k->prev >= 0)
        c->blocks[k->prev].next = k->next;
    else
        l->head = k->next;
    if (k->next >= 0)
        c->blocks[k->next].prev = k->prev;
    else
        l->tail = k->prev;
    k->prev = k->next = -1;
}

static void hash_insert(tm_kv_cache *c, int32_t b)
{
    kv_block *k = &c->blocks[b];
    uint32_t h = (uint32_t)k->key & (c->n_buckets - 1);
    k->hnext = c->buckets[h];
    c->buckets[h] = b;
    k->registered = true;
}

static void hash_remove(tm_kv_cache *c, int32_t b)
{
    kv_block *k = &c->blocks[b];
    if (!k->registered)
        return;
    int32_t *link = &c->buckets[(uint32_t)k->key & (c->n_buckets - 1)];
    while (*link != b)
        link = &c->blocks[*link].hnext;
    *link = k->hnext;
    k->hnext = -1;
    k->registered = false;
}

uint64_t tm_kv_chain_key(uint64_t prev, const tm_token *tokens, int32_t n)
{
    /* FNV-1a over the token bytes, started from the previous key, then a final mix so keys
     * that differ in one token differ in every bit position of the bucket index */
    uint64_t h = prev ^ 0xcbf29ce484222325ull;
    for (int32_t i = 0; i < n; i++) {
        uint32_t t = (uint32_t)tokens[i];
        for (int s = 0; s < 32; s += 8) {
            h ^= (t >> s) & 0xFF;
            h *= 0x100000001b3ull;
        }
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* The registered block continuing parent at depth with these block_tokens tokens, or -1. */
static int32_t find_full(const tm_kv_cache *c, uint64_t key, int32_t parent, int32_t depth,
                         const tm_token *tokens)
{
    for (int32_t b = c->buckets[(uint32_t)key & (c->n_buckets - 1)]; b >= 0;
         b = c->blocks[b].hnext) {
        const kv_block *k = &c->blocks[b];
        if (k->key == key && k->parent == parent && k->depth == depth &&
            memcmp(c->tokens + (int64_t)b * c->block_tokens, tokens,
                   (size_t)c->block_tokens * sizeof *tokens) == 0)
            return b;
    }
    return -1;
}

/* ---- allocation and eviction ------------------------------------------------------------- */

static void set_free(tm_kv_cache *c, int32_t b)
{
    kv_block *k = &c->blocks[b];
    hash_remove(c, b);
    k->state = BLOCK_FREE;
    k->ref = 0;
    k->n_tokens = 0;
    k->depth = -1;
    k->parent = -1;
    list_push(c, &c->free_list, b);
}

/* Frees cached block b and the cached blocks that continue it (unreachable without it). */
static void evict(tm_kv_cache *c, int32_t b)
{
    int32_t n = 0;
    c->stack[n++] = b;
    list_remove(c, &c->lru, b);
    c->n_cached--;
    while (n > 0) {
        int32_t x = c->stack[--n];
        set_free(c, x);
        c->evicted_blocks++;
        for (int32_t y = 0; y < c->n_blocks; y++)
            if (c->blocks[y].state == BLOCK_CACHED && c->blocks[y].parent == x) {
                list_remove(c, &c->lru, y);
                c->n_cached--;
                c->blocks[y].state = BLOCK_FREE; /* not twice on the stack */
                c->stack[n++] = y;
            }
    }
}

/* An empty block for depth after parent, held once; -1 when every block is in use.
 * avoid: a cached block that must survive (the source of a copy), or -1. */
static int32_t alloc_block(tm_kv_cache *c, int32_t depth, int32_t parent, int32_t avoid)
{
    if (c->free_list.head < 0) {
        int32_t victim = c->lru.head;
        while (victim >= 0 && (victim == avoid || victim == parent))
            victim = c->blocks[victim].next;
        if (victim < 0)
            return -1;
        evict(c, victim);
    }
    int32_t b = c->free_list.head;
    if (b < 0)
        return -1;
    list_remove(c, &c->free_list, b);
    kv_block *k = &c->blocks[b];
    k->state = BLOCK_USED;
    k->ref = 1;
    k->depth = depth;
    k->parent = parent;
    k->n_tokens = 0;
    c->n_used++;
    return b;
}

/* Block dst continues as a copy of the first n rows of block src: keys, values and their
 * token ids (others may copy from dst in turn, matching those ids). */
static void copy_rows(tm_kv_cache *c, int32_t dst, int32_t src, int32_t n)
{
    tm_kv_store_copy(c->store, dst, src, n);
    memcpy(c->tokens + (int64_t)dst * c->block_tokens, c->tokens + (int64_t)src * c->block_tokens,
           (size_t)n * sizeof(tm_token));
    c->blocks[dst].n_tokens = n;
}

/* One more holder of cached or used block b. */
static void hold(tm_kv_cache *c, int32_t b)
{
    kv_block *k = &c->blocks[b];
    if (k->state == BLOCK_CACHED) {
        list_remove(c, &c->lru, b);
        c->n_cached--;
        c->n_used++;
        k->state = BLOCK_USED;
    }
    k->ref++;
}

/* One holder fewer. A block nobody holds is cached when it has reusable content, else free.
 * filled: positions of it the sequence had written, tokens: theirs. */
static void let_go(tm_kv_cache *c, int32_t b, const tm_token *tokens, int32_t filled)
{
    kv_block *k = &c->blocks[b];
    if (--k->ref > 0)
        return;
    c->n_used--;
    if (c->prefix_reuse && (k->registered || filled > 0)) {
        if (!k->registered) { /* a partial block: its tokens, for a copy of its start */
            memcpy(c->tokens + (int64_t)b * c->block_tokens, tokens,
                   (size_t)filled * sizeof *tokens);
            k->n_tokens = filled;
        }
        k->state = BLOCK_CACHED;
        list_push(c, &c->lru, b);
        c->n_cached++;
    } else {
        set_free(c, b);
    }
}

/* ---- the pool ---------------------------------------------------------------------------- */

static double gib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0 * 1024.0);
}

tm_status tm_kv_cache_create(const tm_model *model, const tm_kv_cache_params *params,
                             tm_kv_cache **out, tm_err *err)
{
    tm_kv_cache_params p = params ? *params : tm_kv_cache_params_default();
    tm_kv_store plan;
    tm_status st = tm_kv_cache_plan(model, &p, &plan, err);
    if (st != TM_OK)
        return st;
    /* The store's pages become resident only as positions are written, so a cache the machine
     * cannot hold would be allocated all the same and fail much later, the OS killing the
     * process (and every session it serves) as the context fills. */
    tm_sysmem mem;
    uint64_t weights = tm_model_weight_bytes(model);
    if (tm_sysmem_get(&mem) && mem.total_bytes > 0 &&
        plan.bytes > mem.total_bytes - TM_MIN(weights, mem.total_bytes))
        return tm_fail(err, TM_E_NOMEM,
                       "a KV cache of %lld positions takes %.1f GiB, which with the weights' %.1f "
                       "GiB is more than this machine's %.1f GiB of memory (a smaller context, "
                       "a KV budget or a q8_0 or q4_0 cache takes less)",
                       (long long)plan.n_blocks * plan.block_tokens, gib(plan.bytes), gib(weights),
                       gib(mem.total_bytes));
    tm_kv_cache *c = tm_calloc(1, sizeof *c);
    if (!c)
        return tm_fail(err, TM_E_NOMEM, "KV cache");
    c->model = model;
    c->prefix_reuse = p.prefix_reuse;
    c->n_blocks = plan.n_blocks;
    c->block_tokens = plan.block_tokens;
    c->n_buckets = bucket_count(plan.n_blocks);
    c->meta_bytes = tm_kv_cache_meta_bytes(plan.n_blocks, plan.block_tokens);
    st = tm_mutex_create(&c->mu, err);
    if (st == TM_OK)
        st = tm_kv_store_create(&model->net->hp, plan.type_k, plan.type_v, plan.block_tokens,
                                plan.n_blocks, &c->store, err);
    if (st == TM_OK) {
        c->blocks = tm_malloc((size_t)c->n_blocks * sizeof *c->blocks);
        c->tokens = tm_malloc((size_t)c->n_blocks * (size_t)c->block_tokens * sizeof(tm_token));
        c->buckets = tm_malloc((size_t)c->n_buckets * sizeof *c->buckets);
        c->stack = tm_malloc((size_t)c->n_blocks * sizeof *c->stack);
        if (!c->blocks || !c->tokens || !c->buckets || !c->stack)
            st = tm_fail(err, TM_E_NOMEM, "bookkeeping of %d KV blocks", c->n_blocks);
    }
    if (st != TM_OK) {
        tm_kv_cache_free(c);
        return st;
    }
    for (uint32_t i = 0; i < c->n_buckets; i++)
        c->buckets[i] = -1;
    c->free_list.head = c->free_list.tail = c->lru.head = c->lru.tail = -1;
    for (int32_t b = 0; b < c->n_blocks; b++) {
        memset(&c->blocks[b], 0, sizeof c->blocks[b]);
        c->blocks[b].hnext = c->blocks[b].prev = c->blocks[b].next = -1;
        set_free(c, b);
    }
    *out = c;
    return TM_OK;
}

void tm_kv_cache_free(tm_kv_cache *c)
{
    if (!c)
        return;
    tm_kv_store_free(c->store);
    tm_mutex_free(c->mu);
    tm_free(c->blocks);
    tm_free(c->tokens);
    tm_free(c->buckets);
    tm_free(c->stack);
    tm_free(c);
}

void tm_kv_cache_stats_get(tm_kv_cache *c, tm_kv_cache_stats *out)
{
    tm_mutex_lock(c->mu);
    memset(out, 0, sizeof *out);
    out->n_blocks = c->n_blocks;
    out->block_tokens = c->block_tokens;
    out->used = c->n_used;
    out->cached = c->n_cached;
    out->free = c->n_blocks - c->n_used - c->n_cached;
    out->kv_bytes = c->store->bytes;
    out->meta_bytes = c->meta_bytes;
    out->reused_tokens = c->reused_tokens;
    out->evicted_blocks = c->evicted_blocks;
    tm_mutex_unlock(c->mu);
}

void tm_kv_cache_clear(tm_kv_cache *c)
{
    tm_mutex_lock(c->mu);
    while (c->lru.head >= 0)
        evict(c, c->lru.head);
    tm_mutex_unlock(c->mu);
}

tm_kv_store *tm_kv_cache_store(const tm_kv_cache *c)
{
    return c->store;
}

const tm_model *tm_kv_cache_model(const tm_kv_cache *c)
{
    return c->model;
}

int32_t tm_kv_cache_block_tokens(const tm_kv_cache *c)
{
    return c->block_tokens;
}

/* ---- sequences ----------------------------------------------------------------------------- */

/* Takes the longest prefix of tokens[n_past, limit) that the cache holds after the sequence's
 * n_past positions (n_past a whole number of blocks the sequence holds): whole registered
 * blocks shared, then a copy of the best partial match. Returns the new n_past. */
int32_t tm_kv_seq_attach(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t n_past,
                         int32_t limit)
{
    int32_t bt = c->block_tokens;
    if (!c->prefix_reuse || n_past % bt != 0 || s->n_blocks != n_past / bt || limit <= n_past)
        return n_past;
    tm_mutex_lock(c->mu);
    int32_t start = n_past;
    int32_t j = n_past / bt;
    while ((j + 1) * bt <= limit && j < s->max_blocks) {
        uint64_t key = tm_kv_chain_key(j > 0 ? s->keys[j - 1] : 0, tokens + (int64_t)j * bt, bt);
        int32_t b = find_full(c, key, j > 0 ? s->blocks[j - 1] : -1, j, tokens + (int64_t)j * bt);
        if (b < 0)
            break;
        hold(c, b);
        s->blocks[j] = b;
        s->keys[j] = key;
        s->n_blocks = ++j;
        n_past = j * bt;
    }
    /* the longest start of the next block among the blocks that continue this chain: full ones
     * that diverge later, partial ones cached or still being filled by another sequence (its
     * first n_tokens rows are settled: it writes only after them, and lowers n_tokens here,
     * under the lock, before it writes earlier rows again) */
    int32_t parent = j > 0 ? s->blocks[j - 1] : -1, best = -1, best_m = 0;
    if (n_past < limit && j < s->max_blocks) {
        const tm_token *want = tokens + n_past;
        int32_t n_want = TM_MIN(limit - n_past, bt);
        for (int32_t b = 0; b < c->n_blocks; b++) {
            const kv_block *k = &c->blocks[b];
            if (k->state == BLOCK_FREE || k->depth != j || k->parent != parent)
                continue;
            const tm_token *have = c->tokens + (int64_t)b * bt;
            int32_t m = 0, n = TM_MIN(n_want, k->n_tokens);
            while (m < n && have[m] == want[m])
                m++;
            if (m > best_m) {
                best_m = m;
                best = b;
            }
        }
    }
    if (best >= 0) {
        int32_t b = alloc_block(c, j, parent, best);
        if (b >= 0) {
            copy_rows(c, b, best, best_m);
            s->blocks[j] = b;
            s->n_blocks = j + 1;
            n_past += best_m;
        }
    }
    c->reused_tokens += (uint64_t)(n_past - start);
    tm_mutex_unlock(c->mu);
    return n_past;
}

/* Gives back blocks j >= first of a sequence of n_past positions, last first. */
static void release_from(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t n_past,
                         int32_t first)
{
    int32_t bt = c->block_tokens;
    for (int32_t j = s->n_blocks - 1; j >= first; j--) {
        int32_t filled = TM_MAX(0, TM_MIN(bt, n_past - j * bt));
        let_go(c, s->blocks[j], tokens + (int64_t)j * bt, filled);
        s->blocks[j] = -1;
    }
    s->n_blocks = TM_MIN(s->n_blocks, first);
}

tm_status tm_kv_seq_reserve(tm_kv_cache *c, tm_kv_seq *s, int32_t n_past, int32_t end, tm_err *err)
{
    int32_t bt = c->block_tokens;
    int32_t need = (end + bt - 1) / bt;
    if (need > s->max_blocks)
        return tm_fail(err, TM_E_LIMIT, "%d positions do not fit a sequence of %d blocks of %d",
                       end, s->max_blocks, bt);
    tm_status st = TM_OK;
    tm_mutex_lock(c->mu);
    int32_t j = n_past / bt;
    if (j < s->n_blocks && n_past % bt != 0) { /* writing into a block the sequence holds */
        int32_t b = s->blocks[j];
        kv_block *k = &c->blocks[b];
        if (k->ref == 1) {
            /* rows from n_past on are about to change: it stops being the registered chain,
             * and others may copy only the rows before */
            hash_remove(c, b);
            k->n_tokens = TM_MIN(k->n_tokens, n_past % bt);
        } else { /* shared: continue in a copy of its first rows */
            int32_t nb = alloc_block(c, j, k->parent, b);
            if (nb < 0) {
                st = tm_fail(err, TM_E_LIMIT,
                             "the KV cache is full: %d blocks of %d positions, %d in use",
                             c->n_blocks, bt, c->n_used);
            } else {
                copy_rows(c, nb, b, n_past % bt);
                k->ref--; /* still held by the others */
                s->blocks[j] = nb;
            }
        }
    }
    for (j = s->n_blocks; st == TM_OK && j < need; j++) {
        int32_t b = alloc_block(c, j, j > 0 ? s->blocks[j - 1] : -1, -1);
        if (b < 0) {
            st = tm_fail(err, TM_E_LIMIT,
                         "the KV cache is full: %d blocks of %d positions, %d held by sequences "
                         "and none cached to evict; %d positions need %d blocks",
                         c->n_blocks, bt, c->n_used, end, need);
            break;
        }
        s->blocks[j] = b;
        s->n_blocks = j + 1;
    }
    if (st != TM_OK) /* nothing written yet: give back what this call took */
        release_from(c, s, NULL, 0, TM_MAX((n_past + bt - 1) / bt, 0));
    tm_mutex_unlock(c->mu);
    return st;
}

void tm_kv_seq_seal(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t from, int32_t to)
{
    int32_t bt = c->block_tokens;
    if (!c->prefix_reuse || to <= from)
        return;
    tm_mutex_lock(c->mu);
    for (int32_t j = from / bt; j < to / bt; j++) {
        const tm_token *tk = tokens + (int64_t)j * bt;
        int32_t b = s->blocks[j], parent = j > 0 ? s->blocks[j - 1] : -1;
        uint64_t key = tm_kv_chain_key(j > 0 ? s->keys[j - 1] : 0, tk, bt);
        s->keys[j] = key;
        kv_block *k = &c->blocks[b];
        memcpy(c->tokens + (int64_t)b * bt, tk, (size_t)bt * sizeof *tk);
        k->n_tokens = bt;
        if (k->registered || find_full(c, key, parent, j, tk) >= 0)
            continue; /* an equal block is registered already (another sequence's) */
        k->key = key;
        hash_insert(c, b);
    }
    if (to % bt != 0) { /* the partial last block: what others may copy the start of */
        int32_t j = to / bt, b = s->blocks[j];
        int32_t lo = TM_MAX(from, j * bt) - j * bt;
        memcpy(c->tokens + (int64_t)b * bt + lo, tokens + (int64_t)j * bt + lo,
               (size_t)(to % bt - lo) * sizeof *tokens);
        c->blocks[b].n_tokens = to % bt;
    }
    tm_mutex_unlock(c->mu);
}

void tm_kv_seq_release(tm_kv_cache *c, tm_kv_seq *s, const tm_token *tokens, int32_t n_past,
                       int32_t keep)
{
    int32_t bt = c->block_tokens;
    tm_mutex_lock(c->mu);
    release_from(c, s, tokens, n_past, (keep + bt - 1) / bt);
    tm_mutex_unlock(c->mu);
}
