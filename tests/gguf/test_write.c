/* The writer: every value type (nested arrays too) and tensors of several types read back
 * exactly; copying a real file key by key and tensor by tensor gives the same file content;
 * misuse is refused with a message. */
#include "gguf/gguf.h"
#include "tensor/tensor.h"
#include "test.h"

static void test_every_value_type(void)
{
    tm_err err = {0};
    tm_gguf_writer *w = NULL;
    TM_CHECK_OK(tm_gguf_writer_create(&w, &err), &err);
    if (!w)
        return;
    const int32_t ints[3] = {-1, 0, 7};
    const char *strs[3] = {"a", "", "日本語"};
    TM_CHECK_OK(tm_gguf_writer_set_u32(w, "u32", 4000000000u, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_i32(w, "i32", -5, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_u64(w, "u64", UINT64_MAX, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_f32(w, "f32", 0.25f, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_bool(w, "bool", true, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_str(w, "str", "hello", &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_arr(w, "ints", TM_GGUF_INT32, ints, 3, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_arr_str(w, "strs", strs, NULL, 3, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_set_str(w, "str", "replaced", &err), &err); /* keeps position */
    TM_CHECK_OK(tm_gguf_writer_set_u32(w, "gone", 1, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_remove_kv(w, "gone", &err), &err);

    int64_t ne_a[2] = {32, 3}, ne_b[1] = {256}, ne_c[3] = {5, 2, 2};
    TM_CHECK_OK(tm_gguf_writer_add_tensor(w, "a", TM_DTYPE_Q8_0, 2, ne_a, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_add_tensor(w, "b", TM_DTYPE_Q4_K, 1, ne_b, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_add_tensor(w, "c", TM_DTYPE_F32, 3, ne_c, &err), &err);
    TM_CHECK_STATUS(tm_gguf_writer_add_tensor(w, "a", TM_DTYPE_F32, 1, ne_b, &err), TM_E_ARG, &err);
    int64_t bad_ne[1] = {33};
    TM_CHECK_STATUS(tm_gguf_writer_add_tensor(w, "d", TM_DTYPE_Q4_0, 1, bad_ne, &err), TM_E_ARG,
                    &err);

    uint8_t a[3 * 34], b[144];
    float c[20];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(255 - i);
    for (int i = 0; i < 20; i++)
        c[i] = (float)i / 3;
    const char *path = tm_test_tmp_path("write.gguf");
    TM_CHECK_OK(tm_gguf_writer_begin(w, path, &err), &err);
    TM_CHECK_STATUS(tm_gguf_writer_set_u32(w, "late", 1, &err), TM_E_ARG, &err);
    TM_CHECK_OK(tm_gguf_writer_write_data(w, a, 50, &err), &err); /* in pieces */
    TM_CHECK_OK(tm_gguf_writer_write_data(w, a + 50, sizeof a - 50, &err), &err);
    TM_CHECK_STATUS(tm_gguf_writer_finish(w, &err), TM_E_ARG, &err); /* b and c missing */
    TM_CHECK_OK(tm_gguf_writer_write_data(w, b, sizeof b, &err), &err);
    TM_CHECK_OK(tm_gguf_writer_write_data(w, c, sizeof c, &err), &err);
    TM_CHECK_STATUS(tm_gguf_writer_write_data(w, c, 1, &err), TM_E_ARG, &err);
    TM_CHECK_OK(tm_gguf_writer_finish(w, &err), &err);
    tm_gguf_writer_free(w);

    tm_gguf *g = NULL;
    TM_CHECK_OK(tm_gguf_open(path, &g, &err), &err);
    if (!g)
        return;
    TM_CHECK_EQ_INT(tm_gguf_n_kv(g), 8);
    TM_CHECK_EQ_STR(tm_gguf_kv_at(g, 5)->key, "str");
    uint32_t u32 = 0;
    int64_t i64 = 0;
    double f = 0;
    bool bl = false;
    tm_gguf_str s = {0};
    TM_CHECK_OK(tm_gguf_get_u32(g, "u32", &u32, &err), &err);
    TM_CHECK(u32 == 4000000000u);
    TM_CHECK_OK(tm_gguf_get_i64(g, "i32", &i64, &err), &err);
    TM_CHECK_EQ_INT(i64, -5);
    TM_CHECK(tm_gguf_find_kv(g, "u64")->value.v.u64 == UINT64_MAX);
    TM_CHECK_OK(tm_gguf_get_f64(g, "f32", &f, &err), &err);
    TM_CHECK(f == 0.25);
    TM_CHECK_OK(tm_gguf_get_bool(g, "bool", &bl, &err), &err);
    TM_CHECK(bl);
    TM_CHECK_OK(tm_gguf_get_str(g, "str", &s, &err), &err);
    TM_CHECK(tm_gguf_str_eq(s, "replaced"));
    const tm_gguf_array *arr = NULL;
    TM_CHECK_OK(tm_gguf_get_arr(g, "ints", TM_GGUF_INT32, &arr, &err), &err);
    TM_CHECK(arr && arr->n == 3 && tm_gguf_arr_i64(arr, 0) == -1 && tm_gguf_arr_i64(arr, 2) == 7);
    TM_CHECK_OK(tm_gguf_get_arr(g, "strs", TM_GGUF_STRING, &arr, &err), &err);
    TM_CHECK(arr && arr->n == 3 && tm_gguf_str_eq(arr->strs[2], "日本語") && arr->strs[1].len == 0);
    TM_CHECK(tm_gguf_find_kv(g, "gone") == NULL);

    const tm_gguf_tensor *ta = tm_gguf_find_tensor(g, "a"), *tb = tm_gguf_find_tensor(g, "b"),
                         *tc = tm_gguf_find_tensor(g, "c");
    TM_CHECK(ta && tb && tc);
    if (ta && tb && tc) {
        TM_CHECK(ta->n_bytes == sizeof a && memcmp(ta->data, a, sizeof a) == 0);
        TM_CHECK(tb->n_bytes == sizeof b && memcmp(tb->data, b, sizeof b) == 0);
        TM_CHECK(tc->n_bytes == sizeof c && memcmp(tc->data, c, sizeof c) == 0);
        TM_CHECK(tc->n_dims == 3 && tc->ne[0] == 5 && tc->ne[2] == 2 && tc->ne[3] == 1);
        TM_CHECK_EQ_INT(tb->offset % 32, 0);
    }
    tm_gguf_close(g);
    remove(path);
}

/* Copying every key (nested arrays included) and every tensor of a real file. */
static void test_copy_real_file(void)
{
    tm_err err = {0};
    tm_gguf *src = NULL;
    TM_CHECK_OK(tm_gguf_open(tm_test_data("models/stories260K-f32.v3.gguf"), &src, &err), &err);
    if (!src)
        return;
    tm_gguf_writer *w = NULL;
    TM_CHECK_OK(tm_gguf_writer_create(&w, &err), &err);
    for (int64_t i = 0; i < tm_gguf_n_kv(src); i++)
        TM_CHECK_OK(tm_gguf_writer_copy_kv(w, tm_gguf_kv_at(src, i), &err), &err);
    for (int64_t i = 0; i < tm_gguf_n_tensors(src); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(src, i);
        TM_CHECK_OK(tm_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, &err), &err);
    }
    const char *path = tm_test_tmp_path("copy.gguf");
    TM_CHECK_OK(tm_gguf_writer_begin(w, path, &err), &err);
    for (int64_t i = 0; i < tm_gguf_n_tensors(src); i++) {
        const tm_gguf_tensor *t = tm_gguf_tensor_at(src, i);
        TM_CHECK_OK(tm_gguf_writer_write_data(w, t->data, t->n_bytes, &err), &err);
    }
    TM_CHECK_OK(tm_gguf_writer_finish(w, &err), &err);
    tm_gguf_writer_free(w);

    tm_gguf *dst = NULL;
    TM_CHECK_OK(tm_gguf_open(path, &dst, &err), &err);
    if (dst) {
        TM_CHECK_EQ_INT(tm_gguf_n_kv(dst), tm_gguf_n_kv(src));
        for (int64_t i = 0; i < tm_gguf_n_kv(src); i++) {
            const tm_gguf_kv *a = tm_gguf_kv_at(src, i), *b = tm_gguf_kv_at(dst, i);
            TM_CHECK_EQ_STR(a->key, b->key);
            TM_CHECK_EQ_INT(a->value.type, b->value.type);
            if (a->value.type == TM_GGUF_ARRAY && a->value.v.arr.type == TM_GGUF_STRING) {
                TM_CHECK_EQ_INT(a->value.v.arr.n, b->value.v.arr.n);
                for (uint64_t k = 0; k < a->value.v.arr.n; k++)
                    TM_CHECK(a->value.v.arr.strs[k].len == b->value.v.arr.strs[k].len &&
                             memcmp(a->value.v.arr.strs[k].ptr, b->value.v.arr.strs[k].ptr,
                                    a->value.v.arr.strs[k].len) == 0);
            } else if (a->value.type == TM_GGUF_ARRAY) {
                TM_CHECK(a->value.v.arr.n == b->value.v.arr.n &&
                         memcmp(a->value.v.arr.data, b->value.v.arr.data, a->value.v.arr.n) == 0);
            } else if (a->value.type == TM_GGUF_STRING) {
                TM_CHECK(tm_gguf_str_eq(b->value.v.str, "") == (a->value.v.str.len == 0));
                TM_CHECK(memcmp(a->value.v.str.ptr, b->value.v.str.ptr, a->value.v.str.len) == 0);
            } else {
                TM_CHECK(a->value.v.u64 == b->value.v.u64);
            }
        }
        for (int64_t i = 0; i < tm_gguf_n_tensors(src); i++) {
            const tm_gguf_tensor *a = tm_gguf_tensor_at(src, i);
            const tm_gguf_tensor *b = tm_gguf_find_tensor(dst, a->name);
            TM_CHECK(b && b->n_bytes == a->n_bytes && memcmp(a->data, b->data, a->n_bytes) == 0);
        }
    }
    tm_gguf_close(dst);
    tm_gguf_close(src);
    remove(path);
}

/* Freeing an unfinished writer leaves no file behind. */
static void test_abandoned_writer(void)
{
    tm_err err = {0};
    tm_gguf_writer *w = NULL;
    TM_CHECK_OK(tm_gguf_writer_create(&w, &err), &err);
    int64_t ne[1] = {4};
    TM_CHECK_OK(tm_gguf_writer_add_tensor(w, "t", TM_DTYPE_F32, 1, ne, &err), &err);
    const char *path = tm_test_tmp_path("abandoned.gguf");
    TM_CHECK_OK(tm_gguf_writer_begin(w, path, &err), &err);
    tm_gguf_writer_free(w);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "rb");
    TM_CHECK(f == NULL);
    if (f)
        fclose(f);
    f = fopen(path, "rb");
    TM_CHECK(f == NULL);
    if (f)
        fclose(f);
}

int main(void)
{
    TM_RUN(test_every_value_type);
    TM_RUN(test_copy_real_file);
    TM_RUN(test_abandoned_writer);
    return tm_test_result();
}
