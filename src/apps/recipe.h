/* Which type each tensor gets when a model is quantized to a named file type ("Q4_K_M"),
 * shared by `temoto quantize` and `temoto synth` so a synthetic file has the byte mix of the
 * files users download. The rules reproduce llama.cpp's choices for llama-family models
 * (checked against llama.cpp-quantized files in tests/apps/quantize.sh). */
#ifndef TM_APPS_RECIPE_H
#define TM_APPS_RECIPE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tm_recipe {
    const char *name;   /* "Q4_K_M" */
    uint32_t base_type; /* tm_dtype of most matrices */
    uint32_t file_type; /* general.file_type (llama.cpp's LLAMA_FTYPE numbers) */
} tm_recipe;

/* Case-insensitive; false for an unknown name. */
bool tm_recipe_find(const char *name, tm_recipe *out);
/* "F32, F16, BF16, Q4_0, ..." for messages. */
const char *tm_recipe_names(void);

typedef struct tm_recipe_model {
    int32_t n_layer;
    int32_t n_head, n_head_kv;
    bool has_output; /* a separate output.weight (else token_embd is also the output) */
} tm_recipe_model;

/* The type of one tensor: 1-D tensors stay F32; a row length the chosen type cannot hold
 * falls back to a type that can (as llama.cpp does, with Q4_0 standing in for IQ4_NL). */
uint32_t tm_recipe_tensor_type(const tm_recipe *r, const tm_recipe_model *m, const char *name,
                               int32_t n_dims, const int64_t *ne);

#endif
