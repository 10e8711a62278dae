/* Context limits: the overflow policies and fitting a prompt to the context.
 *
 * A prompt longer than the context is an error unless the caller chose a policy that drops
 * tokens. Truncation keeps the start the caller names (n_keep: BOS, a system prompt) and
 * the end of the prompt, since the end is what generation continues from; it cuts more
 * than strictly needed so that generation has room (n_reserve, at most half the context),
 * otherwise the first generated token would meet a full context again. */
#include "engine.h"

#include <string.h>

static const char *const g_names[] = {
    [TM_OVERFLOW_ERROR] = "error",
    [TM_OVERFLOW_TRUNCATE_LEFT] = "truncate-left",
    [TM_OVERFLOW_SHIFT] = "shift",
};

bool tm_overflow_parse(const char *name, tm_overflow *out)
{
    for (size_t i = 0; i < TM_ARRAY_LEN(g_names); i++)
        if (strcmp(name, g_names[i]) == 0) {
            *out = (tm_overflow)i;
            return true;
        }
    return false;
}

const char *tm_overflow_name(tm_overflow overflow)
{
    if ((size_t)overflow >= TM_ARRAY_LEN(g_names))
        return "?";
    return g_names[overflow];
}

tm_status tm_prompt_fit(tm_overflow overflow, int32_t n_ctx, int32_t n_keep, int32_t n_reserve,
                        tm_token *tokens, int32_t *n_tokens, int32_t *n_dropped, tm_err *err)
{
    int32_t n = *n_tokens;
    if (n_ctx < 1 || n < 0 || n_keep < 0 || n_reserve < 0)
        return tm_fail(err, TM_E_ARG, "fitting %d tokens to a context of %d (keep %d, reserve %d)",
                       n, n_ctx, n_keep, n_reserve);
    if ((size_t)overflow >= TM_ARRAY_LEN(g_names))
        return tm_fail(err, TM_E_ARG, "overflow policy %d", (int)overflow);
    if (n <= n_ctx) {
        *n_dropped = 0;
        return TM_OK;
    }
    if (overflow == TM_OVERFLOW_ERROR)
        return tm_fail(err, TM_E_LIMIT, "the prompt has %d tokens, the context holds %d", n, n_ctx);
    int32_t budget = n_ctx - TM_MIN(n_reserve, n_ctx / 2);
    if (n_keep >= budget)
        return tm_fail(err, TM_E_LIMIT,
                       "keeping the first %d tokens leaves no room for the end of a %d-token "
                       "prompt in %d positions",
                       n_keep, n, budget);
    int32_t n_tail = budget - n_keep;
    memmove(tokens + n_keep, tokens + n - n_tail, (size_t)n_tail * sizeof *tokens);
    *n_tokens = budget;
    *n_dropped = n - budget;
    return TM_OK;
}
