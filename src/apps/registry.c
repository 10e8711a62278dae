/* The list of subcommands, in the order `temoto --help` shows them. */
#include "apps.h"

#include <stddef.h>

const tm_app tm_apps[] = {
    {"run", "generate a continuation of a prompt", tm_app_run_main},
    {"info", "print a GGUF file's metadata and tensor table", tm_app_info_main},
    {"logits", "evaluate token ids and write all logits (float32)", tm_app_logits_main},
    {NULL, NULL, NULL},
};
