/* engine: the public objects of temoto.h (tm_model, tm_session) built from the layers
 * below. Later: sequences, the continuous-batching scheduler and the model manager. */
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
};

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

/* Bytes of a session's token record: one id per position. */
static inline uint64_t tm_session_record_bytes(int32_t n_ctx)
{
    return (uint64_t)n_ctx * sizeof(tm_token);
}

/* The network of a model, for apps that drive the forward pass directly. */
const tm_net *tm_model_net(const tm_model *model);

#endif
