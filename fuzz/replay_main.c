/* Runs a fuzz target's function over the files named on the command line, so a corpus is
 * replayed by ctest (under ASan in the sanitizer build) without libFuzzer. */
#include "base/base.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char *data = NULL;
        size_t size = 0;
        tm_err err;
        if (tm_file_read_all(argv[i], (size_t)1 << 30, &data, &size, &err) != TM_OK) {
            fprintf(stderr, "error: %s\n", err.msg);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)data, size);
        tm_free(data);
        n++;
    }
    fprintf(stderr, "replayed %d inputs\n", n);
    return 0;
}
