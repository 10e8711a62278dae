/* temoto logits: evaluate given token ids and write every position's logits, for checking
 * a model against reference implementations. The batched path (all ids in one forward
 * call) and --decode (one id per call, as generation does) must agree. */
#include "apps.h"
#include "cli.h"

#include "base/base.h"

#include <stdio.h>
#include <string.h>

#define MAX_TOKENS 65536

static void usage(FILE *out)
{
    fprintf(out, "usage: temoto logits -m MODEL.gguf --tokens ID,ID,... --out FILE.f32 [options]\n"
                 "\n"
                 "Evaluates the token ids and writes all logits as little-endian float32\n"
                 "[n_tokens x n_vocab]: row k holds the logits after token k.\n"
                 "\n"
                 "  -m, --model FILE     GGUF model\n"
                 "  --tokens LIST        comma-separated token ids\n"
                 "  --out FILE           where to write the logits\n"
                 "  --decode             evaluate one token at a time instead of one batch\n"
                 "  -t, --threads N      threads (default: one per core)\n"
                 "  --f32-act            exact float activations for quantized weights\n"
                 "  --kv-type T          KV cache type: f16 (default), q8_0, q4_0 or f32 (exact);\n"
                 "                       --kv-type-k T and --kv-type-v T set one of the two\n");
}

static int parse_tokens(const char *list, tm_token **out, int32_t *n_out)
{
    tm_token *ids = tm_malloc(MAX_TOKENS * sizeof *ids);
    if (!ids)
        return tm_cli_error("out of memory");
    int32_t n = 0;
    const char *p = list;
    while (*p) {
        char item[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || n == MAX_TOKENS) {
            tm_free(ids);
            return tm_cli_error("--tokens: bad list near '%.20s' (at most %d ids)", p, MAX_TOKENS);
        }
        memcpy(item, p, len);
        item[len] = '\0';
        int64_t v = 0;
        if (!tm_cli_int("--tokens", item, 0, INT32_MAX, &v)) {
            tm_free(ids);
            return 2;
        }
        ids[n++] = (tm_token)v;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n == 0) {
        tm_free(ids);
        return tm_cli_error("--tokens: no ids given");
    }
    *out = ids;
    *n_out = n;
    return 0;
}

int tm_app_logits_main(int argc, char **argv)
{
    const char *model_path = NULL, *tokens_arg = NULL, *out_path = NULL, *v = NULL;
    bool decode = false, f32_act = false, bad = false;
    tm_cli_kv kv = tm_cli_kv_default();
    int64_t n_threads = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (tm_cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (tm_cli_flag(argc, argv, &i, "-m", "--model", &model_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--tokens", &tokens_arg, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--out", &out_path, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--decode", NULL, &bad)) {
            decode = true;
        } else if (tm_cli_flag(argc, argv, &i, NULL, "--f32-act", NULL, &bad)) {
            f32_act = true;
        } else if (tm_cli_kv_flag(argc, argv, &i, &kv, &bad)) {
        } else if (tm_cli_flag(argc, argv, &i, "-t", "--threads", &v, &bad)) {
            bad = bad || !tm_cli_int(argv[i - 1], v, 0, 1024, &n_threads);
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", argv[i]);
            bad = true;
        }
    }
    if (!bad && (!model_path || !tokens_arg || !out_path)) {
        fprintf(stderr, "error: -m, --tokens and --out are required\n");
        bad = true;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    tm_token *ids = NULL;
    int32_t n = 0;
    int rc = parse_tokens(tokens_arg, &ids, &n);
    if (rc != 0)
        return rc;

    tm_err err = {0};
    tm_model *model = NULL;
    tm_session *session = NULL;
    float *logits = NULL;
    tm_model_params mp = tm_model_params_default();
    mp.float_activations = f32_act;
    tm_status st = tm_model_load(model_path, &mp, &model, &err);
    if (st == TM_OK) {
        tm_session_params sp = tm_session_params_default();
        sp.n_ctx = n;
        sp.n_batch = decode ? 1 : n;
        sp.n_threads = (int32_t)n_threads;
        sp.kv_type = kv.type_k;
        sp.kv_type_v = kv.type_v;
        st = tm_session_create(model, &sp, &session, &err);
    }
    int32_t n_vocab = model ? tm_model_n_vocab(model) : 0;
    if (st == TM_OK) {
        logits = tm_malloc((size_t)n * (size_t)n_vocab * sizeof *logits);
        if (!logits)
            st = tm_fail(&err, TM_E_NOMEM, "logits for %d tokens", n);
    }
    int64_t t0 = tm_time_us();
    if (st == TM_OK && !decode)
        st = tm_session_eval(session, ids, n, logits, true, &err);
    for (int32_t k = 0; st == TM_OK && decode && k < n; k++)
        st = tm_session_eval(session, &ids[k], 1, logits + (int64_t)k * n_vocab, false, &err);
    int64_t t1 = tm_time_us();
    if (st == TM_OK)
        st =
            tm_file_write_all(out_path, logits, (size_t)n * (size_t)n_vocab * sizeof *logits, &err);
    if (st == TM_OK)
        fprintf(stderr, "%d tokens x %d logits -> %s (%s, kernels %s, %.1f ms)\n", n, n_vocab,
                out_path, decode ? "one at a time" : "one batch", tm_model_kernels(model),
                (double)(t1 - t0) / 1000.0);
    tm_free(logits);
    tm_free(ids);
    tm_session_free(session);
    tm_model_free(model);
    if (st != TM_OK)
        return tm_cli_error("%s", err.msg);
    return 0;
}
