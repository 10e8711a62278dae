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

/* The network of a model, for apps that drive the forward pass directly. */
const tm_net *tm_model_net(const tm_model *model);

#endif
