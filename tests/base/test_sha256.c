#include "test.h"

static void hex(const uint8_t d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void digest_of(const char *s, size_t n, char out[65])
{
    tm_sha256 h;
    uint8_t d[32];
    tm_sha256_init(&h);
    tm_sha256_update(&h, s, n);
    tm_sha256_final(&h, d);
    hex(d, out);
}

/* FIPS 180-4 / NIST CSRC example vectors */
static void test_known_vectors(void)
{
    char out[65];
    digest_of("", 0, out);
    TM_CHECK_EQ_STR(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_of("abc", 3, out);
    TM_CHECK_EQ_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest_of(two, strlen(two), out);
    TM_CHECK_EQ_STR(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_chunked_updates_match_one_update(void)
{
    char data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (char)(i * 7);
    char whole[65], parts[65];
    digest_of(data, sizeof data, whole);
    tm_sha256 h;
    uint8_t d[32];
    tm_sha256_init(&h);
    size_t off = 0, step = 1;
    while (off < sizeof data) {
        size_t n = TM_MIN(step, sizeof data - off);
        tm_sha256_update(&h, data + off, n);
        off += n;
        step = step * 3 + 1;
    }
    tm_sha256_final(&h, d);
    hex(d, parts);
    TM_CHECK_EQ_STR(parts, whole);
}

static void test_million_a(void)
{
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    tm_sha256 h;
    uint8_t d[32];
    char out[65];
    tm_sha256_init(&h);
    for (int i = 0; i < 1000; i++)
        tm_sha256_update(&h, chunk, sizeof chunk);
    tm_sha256_final(&h, d);
    hex(d, out);
    TM_CHECK_EQ_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
    TM_RUN(test_known_vectors);
    TM_RUN(test_chunked_updates_match_one_update);
    TM_RUN(test_million_a);
    return tm_test_result();
}
