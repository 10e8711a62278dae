/* text: vocabularies and tokenizers: SentencePiece-style vocabularies (GGUF
 * tokenizer.ggml.model "llama", and llama2.c's tokenizer.bin) with score-ordered merges and
 * byte fallback; byte-level BPE ("gpt2") with the pre-tokenizer of each model family; the
 * conversion of Hugging Face tokenizer.json files to GGUF metadata; chat templates.
 *
 * A tm_vocab owns copies of everything it needs: the GGUF file may be closed after load. */
#ifndef TM_TEXT_H
#define TM_TEXT_H

#include "../base/base.h"
#include "../gguf/gguf.h"

typedef enum tm_token_type { /* tokenizer.ggml.token_type values */
                             TM_TOKEN_UNDEFINED = 0,
                             TM_TOKEN_NORMAL = 1,
                             TM_TOKEN_UNKNOWN = 2,
                             TM_TOKEN_CONTROL = 3,
                             TM_TOKEN_USER_DEFINED = 4,
                             TM_TOKEN_UNUSED = 5,
                             TM_TOKEN_BYTE = 6,
} tm_token_type;

typedef struct tm_vocab tm_vocab;

/* Reads tokenizer.ggml.* from a GGUF file. A tokenizer model this build does not know
 * (e.g. "gpt2") is TM_E_UNSUPPORTED naming it; malformed metadata is TM_E_FORMAT. */
tm_status tm_vocab_from_gguf(const tm_gguf *g, tm_vocab **out, tm_err *err);
/* Reads llama2.c's tokenizer.bin (int32 max_token_len; per token: f32 score, int32 length,
 * bytes). Its pieces spell the word-start mark as ' '; they are stored with U+2581 like
 * every SentencePiece vocabulary. Ids 0-2 are <unk>, <s>, </s>. */
tm_status tm_vocab_from_llama2c(const void *data, size_t n_bytes, tm_vocab **out, tm_err *err);
void tm_vocab_free(tm_vocab *v);

int32_t tm_vocab_n_tokens(const tm_vocab *v);
/* The token's text as stored (with U+2581 for spaces); *len gets its byte length. */
const char *tm_vocab_text(const tm_vocab *v, int32_t id, size_t *len);
float tm_vocab_score(const tm_vocab *v, int32_t id);
tm_token_type tm_vocab_type(const tm_vocab *v, int32_t id);
int32_t tm_vocab_find(const tm_vocab *v, const char *text, size_t len); /* -1 if absent */

typedef struct tm_vocab_special {
    int32_t bos, eos, unk, pad, eot, eom; /* -1 when the vocabulary has none */
    bool add_bos, add_eos, add_space_prefix;
} tm_vocab_special;
const tm_vocab_special *tm_vocab_special_ids(const tm_vocab *v);
bool tm_vocab_is_eog(const tm_vocab *v, int32_t id);

/* Encodes len bytes of text (any bytes: invalid UTF-8 falls back to byte tokens). add_special:
 * BOS/EOS as the vocabulary asks; parse_special: control tokens spelled in the text become
 * those tokens (user-defined tokens always do). Writes at most cap ids, the full count to
 * *n_out; more than cap is TM_E_LIMIT with *n_out set. */
tm_status tm_vocab_encode(const tm_vocab *v, const char *text, size_t len, bool add_special,
                          bool parse_special, int32_t *out, int32_t cap, int32_t *n_out,
                          tm_err *err);

/* The bytes a token stands for: U+2581 becomes ' ', byte tokens their byte, control and
 * unknown tokens nothing unless special. Returns the byte count (which may exceed cap: then
 * cap bytes were written), -1 for an id outside the vocabulary. */
int32_t tm_vocab_piece(const tm_vocab *v, int32_t id, bool special, char *buf, int32_t cap);

/* Hugging Face tokenizer files to GGUF metadata: sets tokenizer.ggml.* (and
 * tokenizer.chat_template) on w from the text of tokenizer.json and, when config_json is not
 * NULL, tokenizer_config.json. Byte-level BPE and SentencePiece-style (byte-fallback) BPE are
 * understood; anything else is TM_E_UNSUPPORTED naming it, malformed input TM_E_FORMAT.
 * A build without jansson returns TM_E_UNSUPPORTED. */
tm_status tm_hf_tokenizer_to_gguf(const char *tokenizer_json, size_t tokenizer_len,
                                  const char *config_json, size_t config_len, tm_gguf_writer *w,
                                  tm_err *err);

/* Chat templates (tokenizer.chat_template): the Jinja subset real GGUF files use (if/for/
 * set/macro, namespaces, loop variables, filters such as trim and tojson, string and dict
 * methods, raise_exception), with the whitespace rules Hugging Face renders them with
 * (trim_blocks, lstrip_blocks). Something outside the subset is an error naming it. */
typedef struct tm_template tm_template;
tm_status tm_template_parse(const char *src, size_t len, tm_template **out, tm_err *err);
void tm_template_free(tm_template *t);
/* Renders with the members of a JSON object as variables (messages, tools,
 * add_generation_prompt, bos_token, ...), appending to out (whose max_bytes bounds it).
 * defaults_json (NUL-terminated JSON object, or NULL) gives members the context lacks. A
 * template's raise_exception() is TM_E_ARG with its message. */
tm_status tm_template_render(const tm_template *t, const char *context_json, size_t len,
                             const char *defaults_json, tm_buf *out, tm_err *err);

/* Streaming text out of tokens without ever splitting a UTF-8 character: bytes of an
 * incomplete character wait for the next token. */
typedef struct tm_utf8_stream {
    char pending[4];
    int n_pending;
} tm_utf8_stream;
/* Appends n bytes; writes to out (room for n + 4) the bytes that end on a character
 * boundary and returns their count. Invalid sequences pass through unchanged. */
size_t tm_utf8_stream_push(tm_utf8_stream *s, const char *bytes, size_t n, char *out);
/* Whatever is pending at the end (an incomplete character): returns its count. */
size_t tm_utf8_stream_flush(tm_utf8_stream *s, char *out);

#endif
