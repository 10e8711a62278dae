/* The list of subcommands, in the order `temoto --help` shows them. */
#include "apps.h"

#include <stddef.h>

const tm_app tm_apps[] = {
    {NULL, NULL, NULL},
};
