/* Whole-file reads and writes, with UTF-8 paths on every platform. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/stat.h>
#endif

bool tm_mkdir(const char *path)
{
#ifdef _WIN32
    wchar_t wpath[1024];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1024))
        return false;
    return CreateDirectoryW(wpath, NULL) || GetLastError() == ERROR_ALREADY_EXISTS;
#else
    return mkdir(path, 0755) == 0 || errno == EEXIST;
#endif
}

FILE *tm_fopen(const char *path, const char *mode)
{
#ifdef _WIN32
    wchar_t wpath[1024], wmode[16];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1024) ||
        !MultiByteToWideChar(CP_UTF8, 0, mode, -1, wmode, 16))
        return NULL;
    return _wfopen(wpath, wmode);
#else
    return fopen(path, mode);
#endif
}

tm_status tm_file_read_all(const char *path, size_t max_bytes, char **out, size_t *n_bytes,
                           tm_err *err)
{
    FILE *f = tm_fopen(path, "rb");
    if (!f)
        return tm_fail(err, TM_E_IO, "cannot open '%s': %s", path, strerror(errno));
    tm_buf b;
    tm_buf_init(&b, max_bytes);
    char chunk[65536];
    tm_status st = TM_OK;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0)
            st = tm_buf_append(&b, chunk, n, err);
        if (st != TM_OK || n < sizeof chunk)
            break;
    }
    if (st == TM_OK && ferror(f))
        st = tm_fail(err, TM_E_IO, "reading '%s' failed", path);
    if (st == TM_OK && !b.data)
        st = tm_buf_append(&b, "", 0, err); /* an empty file still gets a terminator */
    fclose(f);
    if (st != TM_OK) {
        if (st == TM_E_LIMIT)
            tm_fail(err, TM_E_LIMIT, "'%s' is larger than %zu bytes", path, max_bytes);
        tm_buf_fini(&b);
        return st;
    }
    *out = b.data;
    *n_bytes = b.len;
    return TM_OK;
}

tm_status tm_file_write_all(const char *path, const void *data, size_t n_bytes, tm_err *err)
{
    FILE *f = tm_fopen(path, "wb");
    if (!f)
        return tm_fail(err, TM_E_IO, "cannot create '%s': %s", path, strerror(errno));
    size_t n = n_bytes ? fwrite(data, 1, n_bytes, f) : 0;
    int closed = fclose(f);
    if (n != n_bytes || closed != 0)
        return tm_fail(err, TM_E_IO, "writing '%s' failed", path);
    return TM_OK;
}

tm_status tm_file_replace(const char *from, const char *to, tm_err *err)
{
#ifdef _WIN32
    wchar_t wfrom[1024], wto[1024];
    if (!MultiByteToWideChar(CP_UTF8, 0, from, -1, wfrom, 1024) ||
        !MultiByteToWideChar(CP_UTF8, 0, to, -1, wto, 1024))
        return tm_fail(err, TM_E_ARG, "path '%s' is not UTF-8 or too long", to);
    if (!MoveFileExW(wfrom, wto, MOVEFILE_REPLACE_EXISTING))
        return tm_fail(err, TM_E_IO, "cannot replace '%s' (error %lu)", to,
                       (unsigned long)GetLastError());
#else
    if (rename(from, to) != 0)
        return tm_fail(err, TM_E_IO, "cannot replace '%s': %s", to, strerror(errno));
#endif
    return TM_OK;
}
