/* The suite's OpenAI-compatible backend: POST /v1/chat/completions with "stream": true
 * through libcurl, the reply read as server-sent events (suite_sse.c). The clock starts
 * just before the request is sent; the first token is the arrival of the first chunk
 * carrying content (or reasoning) and the end the arrival of the stream's last byte, so
 * both include the network and the server's queue, as a user of that server sees them.
 *
 * The request carries the fixed conditions the OpenAI API knows: max_tokens, temperature,
 * top_p, seed, and stream_options.include_usage so servers that support it report token
 * counts; without usage the reply's tokens are counted as content chunks (one token each
 * on llama.cpp's server and Ollama) and the prompt's are unknown. One connection is kept
 * for all requests (HTTP keep-alive), as a client would.
 *
 * Every answer is outside input: the response is capped (TM_SUITE_MAX_RESPONSE), a status
 * other than 2xx is an error carrying the server's message, and a stream that is malformed
 * or cut off is an error naming how. Without libcurl (or jansson, which reads the chunks)
 * the backend says so and the build still works. */
#include "suite.h"

#include "suite_sse.h"

#include <string.h>

#define TM_SUITE_MAX_RESPONSE ((size_t)16 << 20)
#define MAX_ERROR_BODY        ((size_t)64 << 10)
#define CONNECT_TIMEOUT_S     10L

#if TM_HAVE_CURL && TM_HAVE_JANSSON
#include <curl/curl.h>

typedef struct endpoint {
    const suite_args *a;
    char url[1024];
    CURL *curl;
    struct curl_slist *headers;
    bool global_init; /* curl_global_init succeeded: cleaned up with the endpoint */
} endpoint;

typedef struct xfer {
    endpoint *ep;
    tm_sse_reader sse;
    tm_buf error_body; /* of a status other than 2xx */
    long status;
    size_t n_bytes;
    int64_t t_first;
    tm_status st;
    tm_err err;
} xfer;

static void endpoint_free(void *self)
{
    endpoint *ep = self;
    if (!ep)
        return;
    curl_slist_free_all(ep->headers);
    if (ep->curl)
        curl_easy_cleanup(ep->curl);
    if (ep->global_init)
        curl_global_cleanup();
    tm_free(ep);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    if (x->status == 0)
        curl_easy_getinfo(x->ep->curl, CURLINFO_RESPONSE_CODE, &x->status);
    x->n_bytes += n;
    if (x->n_bytes > TM_SUITE_MAX_RESPONSE) {
        x->st = tm_fail(&x->err, TM_E_LIMIT, "the response is longer than %zu MiB",
                        TM_SUITE_MAX_RESPONSE >> 20);
        return 0; /* curl stops the transfer */
    }
    if (x->status < 200 || x->status > 299) {
        size_t room = MAX_ERROR_BODY - TM_MIN(x->error_body.len, MAX_ERROR_BODY);
        if (room > 0)
            tm_buf_append(&x->error_body, p, TM_MIN(n, room), NULL);
        return n;
    }
    x->st = tm_sse_feed(&x->sse, p, n, &x->err);
    if (x->st != TM_OK)
        return 0;
    if (x->t_first == 0 && x->sse.n_deltas > 0)
        x->t_first = tm_time_us();
    return n;
}

static tm_status request_body(const endpoint *ep, const suite_request *rq, tm_buf *b, tm_err *err)
{
    const suite_args *a = ep->a;
    tm_buf_init(b, rq->user_len * 2 + 4096);
    tm_status st = tm_buf_printf(b, err, "{\"model\": ");
    if (st == TM_OK)
        st = tm_buf_append_json_string(b, a->model_name, strlen(a->model_name), err);
    if (st == TM_OK)
        st = tm_buf_printf(b, err, ", \"messages\": [{\"role\": \"user\", \"content\": ");
    if (st == TM_OK)
        st = tm_buf_append_json_string(b, rq->user, rq->user_len, err);
    if (st == TM_OK)
        st = tm_buf_printf(b, err,
                           "}], \"stream\": true, \"stream_options\": {\"include_usage\": true}, "
                           "\"max_tokens\": %d, \"temperature\": %.4g, \"top_p\": %.4g, "
                           "\"seed\": %llu}",
                           rq->max_tokens, a->temperature, a->top_p, (unsigned long long)rq->seed);
    return st;
}

/* The failure of a finished transfer, as the user should read it. */
static tm_status transfer_error(endpoint *ep, xfer *x, CURLcode rc, const char *curl_msg,
                                tm_err *err)
{
    if (x->st != TM_OK) { /* ours: the reader or a cap stopped it */
        *err = x->err;
        return x->st;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return tm_fail(err, TM_E_IO, "%s did not answer within %lld s (--timeout)", ep->url,
                       (long long)ep->a->timeout_s);
    return tm_fail(err, TM_E_IO, "%s: %s", ep->url,
                   curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
}

static tm_status endpoint_complete(void *self, const suite_request *rq, suite_reply *out,
                                   tm_err *err)
{
    endpoint *ep = self;
    tm_buf body;
    tm_status st = request_body(ep, rq, &body, err);
    if (st != TM_OK) {
        tm_buf_fini(&body);
        return st;
    }
    xfer x;
    memset(&x, 0, sizeof x);
    x.ep = ep;
    tm_sse_init(&x.sse);
    tm_buf_init(&x.error_body, MAX_ERROR_BODY + 1);
    char curl_msg[CURL_ERROR_SIZE] = "";
    CURL *c = ep->curl;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
    int64_t t0 = tm_time_us();
    CURLcode rc = curl_easy_perform(c);
    int64_t t_end = tm_time_us();
    if (x.status == 0)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
    if (rc != CURLE_OK) {
        st = transfer_error(ep, &x, rc, curl_msg, err);
    } else if (x.status < 200 || x.status > 299) {
        char msg[128];
        tm_sse_error_message(x.error_body.data ? x.error_body.data : "", x.error_body.len, msg,
                             sizeof msg);
        st = tm_fail(err, x.status >= 400 && x.status < 500 ? TM_E_ARG : TM_E_IO,
                     "%s answered HTTP %ld: %s", ep->url, x.status, msg[0] ? msg : "(no body)");
    } else {
        st = tm_sse_finish(&x.sse, err);
        if (st != TM_OK) {
            char *type = NULL;
            curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
            tm_err_context(err, "the answer of %s (Content-Type %s)", ep->url,
                           type ? type : "none");
        }
    }
    if (st == TM_OK)
        st = tm_buf_append(&out->text, x.sse.text.data ? x.sse.text.data : "", x.sse.text.len, err);
    if (st == TM_OK) {
        suite_sample *s = &out->s;
        s->e2e_ms = (double)(t_end - t0) / 1e3;
        s->ttft_ms = x.t_first ? (double)(x.t_first - t0) / 1e3 : -1;
        s->n_gen_exact = x.sse.completion_tokens >= 0;
        s->n_gen = (int32_t)(s->n_gen_exact ? x.sse.completion_tokens : x.sse.n_deltas);
        s->n_prompt_exact = x.sse.prompt_tokens >= 0;
        s->n_prompt = (int32_t)(s->n_prompt_exact ? x.sse.prompt_tokens : -1);
        if (s->n_prompt > 0 && s->ttft_ms > 0)
            s->prompt_tps = s->n_prompt / (s->ttft_ms / 1e3);
        if (s->n_gen >= 2 && s->ttft_ms > 0 && s->e2e_ms > s->ttft_ms)
            s->gen_tps = (s->n_gen - 1) / ((s->e2e_ms - s->ttft_ms) / 1e3);
    }
    tm_sse_fini(&x.sse);
    tm_buf_fini(&x.error_body);
    tm_buf_fini(&body);
    return st;
}

static int32_t endpoint_count_tokens(void *self, const char *user, size_t len)
{
    (void)self;
    (void)user;
    (void)len;
    return -1; /* the server's tokenizer is not ours */
}

/* base (http://host:port, .../v1, or .../v1/chat/completions) to the completions URL. */
static bool completions_url(const char *base, char *out, size_t cap)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    const char *tail = "/v1/chat/completions";
    if (n >= 17 && strncmp(base + n - 17, "/chat/completions", 17) == 0)
        tail = "";
    else if (n >= 3 && strncmp(base + n - 3, "/v1", 3) == 0)
        tail = "/chat/completions";
    int k = snprintf(out, cap, "%.*s%s", (int)n, base, tail);
    return k > 0 && (size_t)k < cap;
}

tm_status suite_endpoint_create(const suite_args *a, suite_backend *out, tm_err *err)
{
    endpoint *ep = tm_calloc(1, sizeof *ep);
    if (!ep)
        return tm_fail(err, TM_E_NOMEM, "endpoint");
    ep->a = a;
    tm_status st = TM_OK;
    if (!completions_url(a->endpoint, ep->url, sizeof ep->url))
        st = tm_fail(err, TM_E_ARG, "--endpoint: the URL is longer than %zu bytes",
                     sizeof ep->url - 32);
    if (st == TM_OK && !(ep->global_init = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK))
        st = tm_fail(err, TM_E_INTERNAL, "libcurl did not initialise");
    if (st == TM_OK && !(ep->curl = curl_easy_init()))
        st = tm_fail(err, TM_E_NOMEM, "libcurl handle");
    char auth[600];
    if (st == TM_OK) {
        ep->headers = curl_slist_append(NULL, "Content-Type: application/json");
        ep->headers = curl_slist_append(ep->headers, "Accept: text/event-stream");
        if (a->api_key) {
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->api_key);
            ep->headers = curl_slist_append(ep->headers, auth);
        }
        if (!ep->headers)
            st = tm_fail(err, TM_E_NOMEM, "request headers");
    }
    if (st == TM_OK) {
        CURL *c = ep->curl;
        curl_easy_setopt(c, CURLOPT_URL, ep->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, ep->headers);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)a->timeout_s);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "temoto-bench-suite");
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 replaced the bit mask by names */
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    }
    if (st != TM_OK) {
        endpoint_free(ep);
        return st;
    }
    *out = (suite_backend){
        .self = ep,
        .kind = "endpoint",
        .complete = endpoint_complete,
        .count_tokens = endpoint_count_tokens,
        .reserve = NULL,
        .free = endpoint_free,
        .n_ctx = (int32_t)a->n_ctx, /* -c: the server's context, if the user knows it */
    };
    return TM_OK;
}

#else

#if TM_HAVE_JANSSON
#define MISSING "libcurl"
#else
#define MISSING "libcurl or jansson"
#endif

tm_status suite_endpoint_create(const suite_args *a, suite_backend *out, tm_err *err)
{
    (void)a;
    (void)out;
    return tm_fail(err, TM_E_UNSUPPORTED,
                   "this temoto was built without " MISSING ": --endpoint is not available "
                   "(install libcurl4-openssl-dev and libjansson-dev, then build again)");
}

#endif
