/* The tokens section of temoto.h over the text layer. A model whose tokenizer this build
 * cannot read still loads, so its token ids can be evaluated; tokenizing then fails with
 * the reason kept at load. */
#include "engine.h"

#include "text/text.h"

tm_status tm_model_vocab_load(tm_model *model, tm_err *err)
{
    if (!tm_gguf_find_kv(model->gguf, "tokenizer.ggml.model")) {
        tm_fail(&model->vocab_err, TM_E_UNSUPPORTED, "the model file has no tokenizer");
        return TM_OK;
    }
    tm_status st = tm_vocab_from_gguf(model->gguf, &model->vocab, &model->vocab_err);
    if (st == TM_E_UNSUPPORTED)
        return TM_OK;
    if (st != TM_OK) {
        *err = model->vocab_err;
        tm_err_context(err, "tokenizer");
        return st;
    }
    if (tm_vocab_n_tokens(model->vocab) > tm_model_n_vocab(model))
        return tm_fail(err, TM_E_FORMAT, "the tokenizer has %d tokens, the output layer %d",
                       tm_vocab_n_tokens(model->vocab), tm_model_n_vocab(model));
    return TM_OK;
}

void tm_model_vocab_free(tm_model *model)
{
    tm_vocab_free(model->vocab);
    model->vocab = NULL;
}

tm_token tm_model_bos(const tm_model *model)
{
    return model->vocab ? tm_vocab_special_ids(model->vocab)->bos : -1;
}

tm_token tm_model_eos(const tm_model *model)
{
    return model->vocab ? tm_vocab_special_ids(model->vocab)->eos : -1;
}

bool tm_model_add_bos(const tm_model *model)
{
    return model->vocab && tm_vocab_special_ids(model->vocab)->add_bos;
}

bool tm_token_is_eog(const tm_model *model, tm_token token)
{
    return model->vocab && tm_vocab_is_eog(model->vocab, token);
}

tm_status tm_tokenize(const tm_model *model, const char *text, size_t len, bool add_special,
                      bool parse_special, tm_token *out, int32_t cap, int32_t *n_out, tm_err *err)
{
    if (!model->vocab) {
        if (err)
            *err = model->vocab_err;
        return model->vocab_err.status != TM_OK ? model->vocab_err.status : TM_E_UNSUPPORTED;
    }
    return tm_vocab_encode(model->vocab, text, len, add_special, parse_special, out, cap, n_out,
                           err);
}

int32_t tm_token_to_piece(const tm_model *model, tm_token token, bool special, char *buf,
                          int32_t cap)
{
    if (!model->vocab)
        return -1;
    return tm_vocab_piece(model->vocab, token, special, buf, cap);
}
