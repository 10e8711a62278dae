/* Reading memory as fast as a core can, for the bandwidth figure decode is measured against:
 * the reference version, plain 8-byte loads in four chains. */
#include "tensor.h"

#include <string.h>

uint64_t tm_read_sum_ref(const void *p, uint64_t bytes)
{
    const uint8_t *b = p;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
    for (; i + 32 <= bytes; i += 32) {
        uint64_t w[4];
        memcpy(w, b + i, sizeof w); /* any alignment; compiles to plain loads */
        s0 += w[0];
        s1 += w[1];
        s2 += w[2];
        s3 += w[3];
    }
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, sizeof w);
        s0 += w;
    }
    for (; i < bytes; i++)
        s0 += b[i];
    return s0 + s1 + s2 + s3;
}
