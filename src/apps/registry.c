/* The list of subcommands, in the order `temoto --help` shows them. */
#include "apps.h"

#include <stddef.h>

const tm_app tm_apps[] = {
    {"run", "generate a continuation of a prompt", tm_app_run_main},
    {"tokenize", "print the token ids (or id and piece) of a text", tm_app_tokenize_main},
    {"chat", "talk with a model in the terminal through its chat template", tm_app_chat_main},
    {"template", "render a model's chat template for a conversation (JSON)", tm_app_template_main},
    {"bench", "measure prompt and generation speed against this machine's limit",
     tm_app_bench_main},
    {"info", "print a GGUF file's metadata and tensor table (--memory: what a run takes)",
     tm_app_info_main},
    {"plan", "which model and context fit this machine (or a tier), and how fast",
     tm_app_plan_main},
    {"logits", "evaluate token ids and write all logits (float32)", tm_app_logits_main},
    {"quantize", "rewrite a model with smaller weight types (Q4_K_M, Q8_0, ...)",
     tm_app_quantize_main},
    {"synth", "write a llama model with synthetic weights (no download needed)", tm_app_synth_main},
    {"convert-llama2c", "convert a llama2.c checkpoint and tokenizer to GGUF",
     tm_app_convert_llama2c_main},
    {"convert-tokenizer", "convert a Hugging Face tokenizer.json to GGUF tokenizer metadata",
     tm_app_convert_tokenizer_main},
    {NULL, NULL, NULL},
};
