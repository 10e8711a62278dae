/* Hostile GGUF files (tests/gguf/hostile/, made by tools/make_hostile_gguf.py): each is
 * rejected with a message naming its defect (MANIFEST gives a fragment of it). Then every
 * truncation and every single-byte change of a valid file's header: rejected with a message
 * or read cleanly, never a crash (ASan in CI). */
#include "gguf/gguf.h"
#include "test.h"

#define DIR "tests/gguf/hostile/"

static void test_manifest(void)
{
    char *manifest = tm_test_read_file(DIR "MANIFEST", NULL);
    if (!manifest)
        return;
    int n = 0;
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *space = strchr(line, ' ');
        TM_CHECK(space != NULL);
        if (!space)
            continue;
        *space = '\0';
        const char *fragment = space + 1;
        char path[512];
        snprintf(path, sizeof path, DIR "%s", line);
        tm_err err = {0};
        tm_gguf *g = NULL;
        tm_status st = tm_gguf_open(path, &g, &err);
        fprintf(stderr, "  %-32s %s\n", line, err.msg);
        TM_CHECK_MSG(st != TM_OK && g == NULL, "%s was accepted", line);
        TM_CHECK_MSG(strstr(err.msg, fragment) != NULL, "%s: message '%s' lacks '%s'", line,
                     err.msg, fragment);
        tm_gguf_close(g);
        n++;
    }
    TM_CHECK(n >= 40);
    tm_free(manifest);
}

static void test_truncations_and_flips(void)
{
    size_t n = 0;
    char *valid = tm_test_read_file(DIR "valid.gguf.ok", &n);
    if (!valid)
        return;
    tm_err err = {0};
    tm_gguf *g = NULL;
    TM_CHECK_OK(tm_gguf_open_memory(valid, n, &g, &err), &err);
    TM_CHECK(g && tm_gguf_n_tensors(g) == 2 && tm_gguf_n_kv(g) == 4);
    tm_gguf_close(g);
    /* exact-size copies, so ASan sees any read past the end */
    for (size_t len = 0; len < n; len++) {
        char *copy = tm_malloc(len ? len : 1);
        memcpy(copy, valid, len);
        g = NULL;
        err.msg[0] = '\0';
        TM_CHECK_MSG(tm_gguf_open_memory(copy, len, &g, &err) != TM_OK && err.msg[0],
                     "truncated to %zu bytes: accepted or no message", len);
        tm_gguf_close(g);
        tm_free(copy);
    }
    size_t header = n - 324; /* the data section is the last 324 bytes */
    for (size_t at = 0; at < header; at++)
        for (int bit = 0; bit < 8; bit++) {
            char *copy = tm_malloc(n);
            memcpy(copy, valid, n);
            copy[at] ^= (char)(1 << bit);
            g = NULL;
            err.msg[0] = '\0';
            if (tm_gguf_open_memory(copy, n, &g, &err) == TM_OK)
                for (int64_t i = 0; i < tm_gguf_n_tensors(g); i++) /* touch every tensor */
                    TM_CHECK(tm_gguf_tensor_at(g, i)->data != NULL);
            else
                TM_CHECK_MSG(err.msg[0], "flip at %zu bit %d: no message", at, bit);
            tm_gguf_close(g);
            tm_free(copy);
        }
    tm_free(valid);
}

int main(void)
{
    TM_RUN(test_manifest);
    TM_RUN(test_truncations_and_flips);
    return tm_test_result();
}
