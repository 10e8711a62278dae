/* Status texts and the caller-owned error message (see temoto.h). Nothing here allocates:
 * a failure path must be able to report running out of memory. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#define TM_STRINGIFY2(x) #x
#define TM_STRINGIFY(x)  TM_STRINGIFY2(x)

const char *tm_status_str(tm_status status)
{
    switch (status) {
#define X(name, text) \
    case name:        \
        return text;
        TM_STATUS_LIST(X)
#undef X
    }
    return "unknown status";
}

uint32_t tm_version_num(void)
{
    return TM_VERSION_NUM;
}

const char *tm_version_str(void)
{
    return TM_STRINGIFY(TM_VERSION_MAJOR) "." TM_STRINGIFY(TM_VERSION_MINOR) "." TM_STRINGIFY(
        TM_VERSION_PATCH);
}

tm_status tm_fail(tm_err *err, tm_status status, const char *fmt, ...)
{
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void tm_err_context(tm_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char joined[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, sizeof joined, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* "<context>: <message>", cut to fit: the message is already in err, so copy by hand */
    size_t used = strlen(joined);
    const char *sep = ": ";
    for (size_t i = 0; sep[i] && used + 1 < sizeof joined; i++)
        joined[used++] = sep[i];
    size_t rest = strlen(err->msg);
    size_t take = TM_MIN(rest, sizeof joined - 1 - used);
    memcpy(joined + used, err->msg, take);
    joined[used + take] = '\0';
    memcpy(err->msg, joined, sizeof joined);
}
