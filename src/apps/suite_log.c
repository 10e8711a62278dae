/* The suite's run log: which build ran, on what machine, on which model file. The commit is
 * baked in by CMake at configure time (TM_GIT_COMMIT, re-read when HEAD moves); "unknown"
 * outside a git checkout. The model file's SHA-256 is read after the measurements, so that
 * reading the whole file does not warm the page cache for the cold load. */
#include "suite.h"

#include "engine/engine.h"
#include "machine.h"

#include <string.h>

#ifndef TM_GIT_COMMIT
#define TM_GIT_COMMIT "unknown"
#endif

#define SHA_CHUNK_BYTES ((size_t)1 << 20)

void suite_log_machine(suite_log *log, int64_t n_threads)
{
    snprintf(log->version, sizeof log->version, "%s", tm_version_str());
    snprintf(log->commit, sizeof log->commit, "%s", TM_GIT_COMMIT);
    tm_cpu cpu;
    tm_cpu_detect(&cpu);
    snprintf(log->cpu, sizeof log->cpu, "%s", cpu.brand[0] ? cpu.brand : "unknown");
    tm_machine_isa(&cpu, log->isa, sizeof log->isa);
    log->n_logical = cpu.n_logical;
    tm_sysmem mem;
    log->ram_bytes = tm_sysmem_get(&mem) ? mem.total_bytes : 0;
    log->n_threads = (int32_t)(n_threads > 0 ? n_threads : tm_pool_threads_for(0));
    tm_strftime_now(log->started, sizeof log->started, "%Y-%m-%dT%H:%M:%S");
}

/* llama.cpp's LLAMA_FTYPE numbers as general.file_type stores them (the GGUF spec's list). */
const char *suite_quant_name(uint32_t file_type)
{
    static const struct {
        uint32_t ft;
        const char *name;
    } names[] = {
        {0, "F32"},      {1, "F16"},      {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
        {8, "Q5_0"},     {9, "Q5_1"},     {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
        {13, "Q3_K_L"},  {14, "Q4_K_S"},  {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
        {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"}, {22, "IQ3_XS"},
        {23, "IQ3_XXS"}, {24, "IQ1_S"},   {25, "IQ4_NL"}, {26, "IQ3_S"},  {27, "IQ3_M"},
        {28, "IQ2_S"},   {29, "IQ2_M"},   {30, "IQ4_XS"}, {31, "IQ1_M"},  {32, "BF16"},
    };
    for (size_t i = 0; i < TM_ARRAY_LEN(names); i++)
        if (names[i].ft == file_type)
            return names[i].name;
    return NULL;
}

/* The quant: general.file_type's name; without one, the type of most bytes of the matrices
 * ("q4_0 (most bytes)"). */
static void model_quant(const tm_model *m, char *buf, size_t cap)
{
    uint32_t ft = 0;
    const char *name = NULL;
    if (tm_gguf_find_kv(m->gguf, "general.file_type") &&
        tm_gguf_get_u32(m->gguf, "general.file_type", &ft, NULL) == TM_OK)
        name = suite_quant_name(ft);
    if (name) {
        snprintf(buf, cap, "%s", name);
        return;
    }
    uint64_t bytes[64] = {0};
    for (int64_t i = 0; i < tm_gguf_n_tensors(m->gguf); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(m->gguf, i);
        if (t->n_dims >= 2 && t->type < TM_ARRAY_LEN(bytes))
            bytes[t->type] += t->n_bytes;
    }
    uint32_t best = 0;
    for (uint32_t t = 1; t < TM_ARRAY_LEN(bytes); t++)
        if (bytes[t] > bytes[best])
            best = t;
    snprintf(buf, cap, "%s (most bytes)", tm_dtype_name(best));
}

void suite_log_model(suite_log *log, const char *path, const tm_model *m)
{
    snprintf(log->model_path, sizeof log->model_path, "%s", path);
    snprintf(log->arch, sizeof log->arch, "%s", tm_model_arch(m));
    snprintf(log->kernels, sizeof log->kernels, "%s", tm_model_kernels(m));
    model_quant(m, log->quant, sizeof log->quant);
    log->model_bytes = tm_gguf_file_bytes(m->gguf);
    log->n_params = tm_model_n_params(m);
    log->n_ctx_train = tm_model_n_ctx_train(m);
    log->chat_template = tm_model_chat_template(m) != NULL;
}

tm_status suite_log_model_file(suite_log *log, const char *path, tm_err *err)
{
    FILE *f = tm_fopen(path, "rb");
    if (!f)
        return tm_fail(err, TM_E_IO, "cannot open '%s' to hash it", path);
    char *buf = tm_malloc(SHA_CHUNK_BYTES);
    if (!buf) {
        fclose(f);
        return tm_fail(err, TM_E_NOMEM, "hash buffer");
    }
    tm_sha256 sum;
    tm_sha256_init(&sum);
    size_t n;
    while ((n = fread(buf, 1, SHA_CHUNK_BYTES, f)) > 0)
        tm_sha256_update(&sum, buf, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    tm_free(buf);
    if (bad)
        return tm_fail(err, TM_E_IO, "reading '%s' to hash it", path);
    uint8_t d[32];
    tm_sha256_final(&sum, d);
    for (int i = 0; i < 32; i++)
        snprintf(log->model_sha256 + 2 * i, 3, "%02x", d[i]);
    return TM_OK;
}
