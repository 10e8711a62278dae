#include "test.h"

static void test_maps_a_file_and_an_empty_one(void)
{
    tm_err err = {0};
    const char *path = tm_test_tmp_path("mmap.bin");
    char data[5000];
    for (int i = 0; i < 5000; i++)
        data[i] = (char)i;
    TM_CHECK_OK(tm_file_write_all(path, data, sizeof data, &err), &err);
    tm_mmap *m = NULL;
    TM_CHECK_OK(tm_mmap_open(path, &m, &err), &err);
    if (m) {
        TM_CHECK_EQ_INT(tm_mmap_size(m), 5000);
        TM_CHECK(memcmp(tm_mmap_data(m), data, 5000) == 0);
        tm_mmap_release(m, 0, 5000);
        tm_mmap_prefetch(m);
        tm_mmap_close(m);
    }
    TM_CHECK_OK(tm_file_write_all(path, data, 0, &err), &err);
    m = NULL;
    TM_CHECK_OK(tm_mmap_open(path, &m, &err), &err);
    if (m) {
        TM_CHECK_EQ_INT(tm_mmap_size(m), 0);
        TM_CHECK(tm_mmap_data(m) != NULL);
        tm_mmap_close(m);
    }
    remove(path);
}

static void test_missing_file_is_an_io_error(void)
{
    tm_err err = {0};
    tm_mmap *m = NULL;
    TM_CHECK_STATUS(tm_mmap_open("/nonexistent/dir/file.gguf", &m, &err), TM_E_IO, &err);
    TM_CHECK(strstr(err.msg, "/nonexistent/dir/file.gguf") != NULL);
}

static void test_read_all_respects_the_limit(void)
{
    tm_err err = {0};
    const char *path = tm_test_tmp_path("read.bin");
    TM_CHECK_OK(tm_file_write_all(path, "hello", 5, &err), &err);
    char *buf = NULL;
    size_t n = 0;
    TM_CHECK_OK(tm_file_read_all(path, 100, &buf, &n, &err), &err);
    TM_CHECK_EQ_INT(n, 5);
    TM_CHECK_EQ_STR(buf, "hello");
    tm_free(buf);
    TM_CHECK_STATUS(tm_file_read_all(path, 4, &buf, &n, &err), TM_E_LIMIT, &err);
    remove(path);
}

int main(void)
{
    TM_RUN(test_maps_a_file_and_an_empty_one);
    TM_RUN(test_missing_file_is_an_io_error);
    TM_RUN(test_read_all_respects_the_limit);
    return tm_test_result();
}
