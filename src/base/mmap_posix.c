/* Read-only file mappings on POSIX systems. Weights are used straight from the mapping, so a
 * model costs page cache that other processes share instead of private memory. */
#define _GNU_SOURCE /* clock_gettime, madvise, sched_getaffinity under -std=c11 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct tm_mmap {
    uint8_t *data;
    uint64_t size;
};

static uint8_t g_empty_mapping[1]; /* what an empty file maps to: constant, never written */

tm_status tm_mmap_open(const char *path, tm_mmap **out, tm_err *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return tm_fail(err, TM_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return tm_fail(err, TM_E_IO, "'%s' is not a regular file", path);
    }
    tm_mmap *m = tm_calloc(1, sizeof *m);
    if (!m) {
        close(fd);
        return tm_fail(err, TM_E_NOMEM, "mapping '%s'", path);
    }
    m->size = (uint64_t)sb.st_size;
    if (m->size == 0) {
        m->data = g_empty_mapping;
    } else {
        if ((uint64_t)(size_t)m->size != m->size) {
            close(fd);
            tm_free(m);
            return tm_fail(err, TM_E_LIMIT, "'%s' is too large to map", path);
        }
        void *p = mmap(NULL, (size_t)m->size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            tm_free(m);
            return tm_fail(err, TM_E_IO, "cannot map '%s': %s", path, strerror(e));
        }
        m->data = p;
    }
    close(fd); /* the mapping keeps the file alive */
    *out = m;
    return TM_OK;
}

void tm_mmap_close(tm_mmap *m)
{
    if (!m)
        return;
    if (m->size)
        munmap(m->data, (size_t)m->size);
    tm_free(m);
}

const uint8_t *tm_mmap_data(const tm_mmap *m)
{
    return m->data;
}

uint64_t tm_mmap_size(const tm_mmap *m)
{
    return m->size;
}

void tm_mmap_release(tm_mmap *m, uint64_t offset, uint64_t n_bytes)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || offset >= m->size)
        return;
    uint64_t end = TM_MIN(offset + n_bytes, m->size);
    /* only whole pages inside the range: neighbours may still be in use */
    uint64_t first = tm_align_up_u64(offset, (uint64_t)page);
    uint64_t last = end & ~((uint64_t)page - 1);
    if (last > first)
        madvise(m->data + first, (size_t)(last - first), MADV_DONTNEED);
}

void tm_mmap_prefetch(tm_mmap *m)
{
    if (m->size)
        madvise(m->data, (size_t)m->size, MADV_WILLNEED);
}

void tm_mem_advise_huge(void *p, uint64_t n_bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, (size_t)n_bytes, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n_bytes;
#endif
}
