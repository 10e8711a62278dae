/* Saved sequences (the prompt cache): a session's tokens and their keys and values in a file,
 * so a long fixed prompt costs nothing at the next start.
 *
 * Layout, little-endian:
 *   header (TM_KV_FILE_HEADER_BYTES): magic "TMKVSEQ1", u32 version, 32-byte model
 *     fingerprint (tm_model_fingerprint), u32 key type, u32 value type (GGUF type numbers),
 *     u32 layers, u64 bytes of a key row, u64 bytes of a value row, u32 positions n
 *   n i32 token ids
 *   per layer: for each kv head, its n key rows; then the same for the values (the
 *     cache's own encoding, no conversion)
 *   SHA-256 of everything before it
 * A file is checked before it is believed: its header against the session (same model,
 * types and row sizes; n within the context), its size against the header, its token ids
 * against the vocabulary, and its bytes against the checksum. */
#include "engine.h"

#include <stdio.h>
#include <string.h>

static const char k_magic[8] = {'T', 'M', 'K', 'V', 'S', 'E', 'Q', '1'};

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void tm_kv_file_header_write(const tm_kv_file_header *h, uint8_t out[TM_KV_FILE_HEADER_BYTES])
{
    memcpy(out, k_magic, 8);
    put_u32(out + 8, h->version);
    memcpy(out + 12, h->fingerprint, 32);
    put_u32(out + 44, h->type_k);
    put_u32(out + 48, h->type_v);
    put_u32(out + 52, h->n_layer);
    put_u64(out + 56, h->k_row_bytes);
    put_u64(out + 64, h->v_row_bytes);
    put_u32(out + 72, h->n_tokens);
}

static bool is_kv_type(uint32_t t)
{
    return t == TM_DTYPE_F32 || t == TM_DTYPE_F16 || t == TM_DTYPE_Q8_0 || t == TM_DTYPE_Q4_0;
}

tm_status tm_kv_file_header_parse(const uint8_t *buf, size_t n, tm_kv_file_header *out, tm_err *err)
{
    if (n < TM_KV_FILE_HEADER_BYTES || memcmp(buf, k_magic, 8) != 0)
        return tm_fail(err, TM_E_FORMAT, "not a temoto prompt cache (no TMKVSEQ1 header)");
    tm_kv_file_header h;
    h.version = get_u32(buf + 8);
    memcpy(h.fingerprint, buf + 12, 32);
    h.type_k = get_u32(buf + 44);
    h.type_v = get_u32(buf + 48);
    h.n_layer = get_u32(buf + 52);
    h.k_row_bytes = get_u64(buf + 56);
    h.v_row_bytes = get_u64(buf + 64);
    h.n_tokens = get_u32(buf + 72);
    if (h.version != TM_KV_FILE_VERSION)
        return tm_fail(err, TM_E_FORMAT, "prompt cache version %u (this build reads %u)", h.version,
                       TM_KV_FILE_VERSION);
    if (!is_kv_type(h.type_k) || !is_kv_type(h.type_v))
        return tm_fail(err, TM_E_FORMAT, "prompt cache of KV types %u/%u", h.type_k, h.type_v);
    if (h.n_layer < 1 || h.n_layer > TM_MAX_LAYERS || h.k_row_bytes < 1 ||
        h.k_row_bytes > (1u << 30) || h.v_row_bytes < 1 || h.v_row_bytes > (1u << 30) ||
        h.n_tokens < 1 || h.n_tokens > TM_KV_FILE_MAX_TOKENS)
        return tm_fail(err, TM_E_FORMAT,
                       "prompt cache header out of range: %u layers, rows of %llu and %llu "
                       "bytes, %u positions",
                       h.n_layer, (unsigned long long)h.k_row_bytes,
                       (unsigned long long)h.v_row_bytes, h.n_tokens);
    if (!tm_kv_file_bytes(&h, &h.file_bytes))
        return tm_fail(err, TM_E_FORMAT, "prompt cache sizes overflow");
    *out = h;
    return TM_OK;
}

bool tm_kv_file_bytes(const tm_kv_file_header *h, uint64_t *out)
{
    uint64_t row = 0, rows = 0, all = 0, tokens = (uint64_t)h->n_tokens * 4;
    return tm_add_u64(h->k_row_bytes, h->v_row_bytes, &row) &&
           tm_mul_u64(row, (uint64_t)h->n_tokens, &rows) &&
           tm_mul_u64(rows, (uint64_t)h->n_layer, &all) &&
           tm_add_u64(all, TM_KV_FILE_HEADER_BYTES + 32 + tokens, out);
}

/* The header a session's sequence is saved with (and a file must match to load into it). */
static tm_kv_file_header session_header(const tm_session *s, int32_t n_tokens)
{
    const tm_kv_store *kv = tm_kv_cache_store(s->cache);
    tm_kv_file_header h;
    memset(&h, 0, sizeof h);
    h.version = TM_KV_FILE_VERSION;
    memcpy(h.fingerprint, s->model->fingerprint, 32);
    h.type_k = kv->type_k;
    h.type_v = kv->type_v;
    h.n_layer = (uint32_t)kv->n_layer;
    h.k_row_bytes = kv->k_row_bytes;
    h.v_row_bytes = kv->v_row_bytes;
    h.n_tokens = (uint32_t)n_tokens;
    tm_kv_file_bytes(&h, &h.file_bytes);
    return h;
}

/* Reads (write false) or writes the rows of positions 0 .. n - 1 of one layer's keys
 * (keys true) or values, kv head by kv head and block by block within a head, feeding the
 * checksum. The file holds rows (each head's values of a position together) whatever the
 * store's own layout, through buf: one slab's rows. */
static bool rows_io(FILE *f, tm_sha256 *sum, const tm_session *s, int32_t layer, bool keys,
                    int32_t n, bool write, char *buf)
{
    tm_kv_store *kv = tm_kv_cache_store(s->cache);
    uint64_t head = keys ? kv->k_head_bytes : kv->v_head_bytes;
    for (int32_t h = 0; h < kv->n_head_kv; h++)
        for (int32_t pos = 0; pos < n;) {
            int32_t j = pos / kv->block_tokens, run = TM_MIN(n - pos, kv->block_tokens);
            int32_t b = s->seq.blocks[j];
            size_t bytes = (size_t)(head * (uint64_t)run);
            if (write) {
                tm_kv_store_get_rows(kv, keys, layer, b, h, 0, run, buf);
                if (fwrite(buf, 1, bytes, f) != bytes)
                    return false;
            } else {
                if (fread(buf, 1, bytes, f) != bytes)
                    return false;
                tm_kv_store_put_rows(kv, keys, layer, b, h, 0, run, buf);
            }
            tm_sha256_update(sum, buf, bytes);
            pos += run;
        }
    return true;
}

/* A buffer for one slab of keys or values, whichever is larger; NULL when out of memory. */
static char *slab_buffer(const tm_session *s)
{
    const tm_kv_store *kv = tm_kv_cache_store(s->cache);
    return tm_malloc((size_t)TM_MAX(kv->k_slab_bytes, kv->v_slab_bytes));
}

tm_status tm_session_save(tm_session *s, const char *path, tm_err *err)
{
    if (s->n_past < 1)
        return tm_fail(err, TM_E_ARG, "an empty sequence is not saved");
    tm_kv_file_header h = session_header(s, s->n_past);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return tm_fail(err, TM_E_ARG, "path too long: '%s'", path);
    FILE *f = tm_fopen(tmp, "wb");
    if (!f)
        return tm_fail(err, TM_E_IO, "cannot write '%s'", tmp);
    uint8_t head[TM_KV_FILE_HEADER_BYTES], digest[32];
    tm_kv_file_header_write(&h, head);
    tm_sha256 sum;
    tm_sha256_init(&sum);
    tm_sha256_update(&sum, head, sizeof head);
    bool ok = fwrite(head, 1, sizeof head, f) == sizeof head;
    for (int32_t i = 0; ok && i < s->n_past; i++) {
        uint8_t t[4];
        put_u32(t, (uint32_t)s->tokens[i]);
        tm_sha256_update(&sum, t, 4);
        ok = fwrite(t, 1, 4, f) == 4;
    }
    char *buf = slab_buffer(s);
    bool no_mem = !buf;
    ok = ok && buf;
    for (int32_t il = 0; ok && il < (int32_t)h.n_layer; il++)
        ok = rows_io(f, &sum, s, il, true, s->n_past, true, buf) &&
             rows_io(f, &sum, s, il, false, s->n_past, true, buf);
    tm_free(buf);
    tm_sha256_final(&sum, digest);
    ok = ok && fwrite(digest, 1, 32, f) == 32;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        remove(tmp);
        return no_mem ? tm_fail(err, TM_E_NOMEM, "saving '%s'", path)
                      : tm_fail(err, TM_E_IO, "writing '%s' failed (disk full?)", tmp);
    }
    tm_status st = tm_file_replace(tmp, path, err);
    if (st != TM_OK)
        remove(tmp);
    return st;
}

static const char *type_name(uint32_t t)
{
    return tm_dtype_name(t);
}

/* Does a file's header fit this session? Explains the first difference. */
static tm_status check_header(const tm_session *s, const tm_kv_file_header *h, const char *path,
                              tm_err *err)
{
    tm_kv_file_header want = session_header(s, (int32_t)TM_MIN(h->n_tokens, (uint32_t)INT32_MAX));
    if (memcmp(h->fingerprint, want.fingerprint, 32) != 0)
        return tm_fail(err, TM_E_ARG, "'%s' was saved from another model", path);
    if (h->type_k != want.type_k || h->type_v != want.type_v)
        return tm_fail(err, TM_E_ARG,
                       "'%s' holds %s keys and %s values; this session's cache has %s and %s", path,
                       type_name(h->type_k), type_name(h->type_v), type_name(want.type_k),
                       type_name(want.type_v));
    if (h->n_layer != want.n_layer || h->k_row_bytes != want.k_row_bytes ||
        h->v_row_bytes != want.v_row_bytes)
        return tm_fail(err, TM_E_ARG, "'%s' has rows of another shape than this model's", path);
    if (h->n_tokens > (uint32_t)s->n_ctx)
        return tm_fail(err, TM_E_LIMIT, "'%s' holds %u positions; the context holds %d", path,
                       h->n_tokens, s->n_ctx);
    return TM_OK;
}

static tm_status load_body(tm_session *s, FILE *f, tm_sha256 *sum, const tm_kv_file_header *h,
                           const char *path, tm_err *err)
{
    int32_t n = (int32_t)h->n_tokens, n_vocab = s->model->net->hp.n_vocab;
    for (int32_t i = 0; i < n; i++) {
        uint8_t t[4];
        if (fread(t, 1, 4, f) != 4)
            return tm_fail(err, TM_E_FORMAT, "'%s' is truncated", path);
        tm_sha256_update(sum, t, 4);
        uint32_t id = get_u32(t);
        if (id >= (uint32_t)n_vocab)
            return tm_fail(err, TM_E_FORMAT,
                           "'%s': token id %u at position %d is outside the "
                           "vocabulary of %d",
                           path, id, i, n_vocab);
        s->tokens[i] = (tm_token)id;
    }
    tm_status st = tm_kv_seq_reserve(s->cache, &s->seq, 0, n, err);
    if (st != TM_OK)
        return st;
    char *buf = slab_buffer(s);
    if (!buf)
        return tm_fail(err, TM_E_NOMEM, "loading '%s'", path);
    bool ok = true;
    for (int32_t il = 0; ok && il < (int32_t)h->n_layer; il++)
        ok = rows_io(f, sum, s, il, true, n, false, buf) &&
             rows_io(f, sum, s, il, false, n, false, buf);
    tm_free(buf);
    if (!ok)
        return tm_fail(err, TM_E_FORMAT, "'%s' is truncated", path);
    uint8_t want[32], got[32];
    tm_sha256_final(sum, want);
    if (fread(got, 1, 32, f) != 32)
        return tm_fail(err, TM_E_FORMAT, "'%s' is truncated", path);
    if (memcmp(want, got, 32) != 0)
        return tm_fail(err, TM_E_FORMAT, "'%s' is corrupt (its checksum does not match)", path);
    if (fgetc(f) != EOF)
        return tm_fail(err, TM_E_FORMAT, "'%s' has bytes after its end (%llu bytes)", path,
                       (unsigned long long)h->file_bytes);
    return TM_OK;
}

tm_status tm_session_load(tm_session *s, const char *path, tm_err *err)
{
    FILE *f = tm_fopen(path, "rb");
    if (!f)
        return tm_fail(err, TM_E_IO, "cannot open '%s'", path);
    uint8_t head[TM_KV_FILE_HEADER_BYTES];
    tm_kv_file_header h;
    tm_status st = fread(head, 1, sizeof head, f) == sizeof head
                       ? tm_kv_file_header_parse(head, sizeof head, &h, err)
                       : tm_fail(err, TM_E_FORMAT, "'%s' is not a temoto prompt cache", path);
    if (st == TM_OK)
        st = check_header(s, &h, path, err);
    if (st == TM_OK) {
        tm_session_reset(s);
        tm_sha256 sum;
        tm_sha256_init(&sum);
        tm_sha256_update(&sum, head, sizeof head);
        st = load_body(s, f, &sum, &h, path, err);
        if (st == TM_OK) {
            s->n_past = (int32_t)h.n_tokens;
            tm_kv_seq_seal(s->cache, &s->seq, s->tokens, 0, s->n_past);
        } else { /* the blocks read so far are junk: give them back empty */
            tm_kv_seq_release(s->cache, &s->seq, s->tokens, 0, 0);
        }
    }
    fclose(f);
    return st;
}
