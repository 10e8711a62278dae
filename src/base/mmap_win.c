/* Read-only file mappings on Windows. */
#include "base.h"

#include <windows.h>

struct tm_mmap {
    uint8_t *data;
    uint64_t size;
    HANDLE file;
    HANDLE mapping;
};

static uint8_t g_empty_mapping[1]; /* what an empty file maps to: constant, never written */

tm_status tm_mmap_open(const char *path, tm_mmap **out, tm_err *err)
{
    wchar_t wpath[1024];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1024))
        return tm_fail(err, TM_E_ARG, "path '%s' is not valid UTF-8 or too long", path);
    HANDLE file = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return tm_fail(err, TM_E_IO, "cannot open '%s' (error %lu)", path, GetLastError());
    LARGE_INTEGER size;
    if (!GetFileSizeEx(file, &size)) {
        CloseHandle(file);
        return tm_fail(err, TM_E_IO, "cannot read the size of '%s'", path);
    }
    tm_mmap *m = tm_calloc(1, sizeof *m);
    if (!m) {
        CloseHandle(file);
        return tm_fail(err, TM_E_NOMEM, "mapping '%s'", path);
    }
    m->file = file;
    m->size = (uint64_t)size.QuadPart;
    if (m->size == 0) {
        m->data = g_empty_mapping;
    } else {
        m->mapping = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
        m->data = m->mapping ? MapViewOfFile(m->mapping, FILE_MAP_READ, 0, 0, 0) : NULL;
        if (!m->data) {
            DWORD e = GetLastError();
            if (m->mapping)
                CloseHandle(m->mapping);
            CloseHandle(file);
            tm_free(m);
            return tm_fail(err, TM_E_IO, "cannot map '%s' (error %lu)", path, e);
        }
    }
    *out = m;
    return TM_OK;
}

void tm_mmap_close(tm_mmap *m)
{
    if (!m)
        return;
    if (m->size) {
        UnmapViewOfFile(m->data);
        CloseHandle(m->mapping);
    }
    CloseHandle(m->file);
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
    /* A read-only view cannot drop pages selectively here; the working set trims them. */
    (void)m;
    (void)offset;
    (void)n_bytes;
}

void tm_mmap_prefetch(tm_mmap *m)
{
    (void)m;
}

void tm_mem_advise_huge(void *p, uint64_t n_bytes)
{
    /* large pages on Windows need a privilege most users lack: ordinary pages */
    (void)p;
    (void)n_bytes;
}
