/* Environment variables, read in one place. */
#include "base.h"

#include <stdlib.h>

const char *tm_getenv(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}
