/* GPUs this machine has, as far as the system tells without a vendor library.
 *
 * Linux: NVIDIA's driver lists each GPU in /proc/driver/nvidia/gpus/<pci address>/information
 * ("Model: NVIDIA GeForce ..."), without its memory (that needs NVML, which we do not load);
 * AMD's amdgpu driver gives /sys/class/drm/cardN/device/mem_info_vram_total (vendor 0x1002).
 * macOS on arm64: the Apple Silicon GPU, which shares the system's memory. Windows and other
 * systems: none reported yet. Only a report: temoto computes on the CPU. */
#define _GNU_SOURCE /* dirent's d_name under -std=c11 */
#include "base.h"

#include <stdio.h>
#include <string.h>

#if defined(__linux__)
#include <dirent.h>
#endif

static void add_gpu(tm_gpu *out, int cap, int *n, const char *vendor, const char *name,
                    uint64_t vram, bool unified)
{
    if (*n < cap) {
        tm_gpu *g = &out[*n];
        memset(g, 0, sizeof *g);
        snprintf(g->vendor, sizeof g->vendor, "%s", vendor);
        snprintf(g->name, sizeof g->name, "%s", name);
        g->vram_bytes = vram;
        g->unified = unified;
    }
    (*n)++;
}

#if defined(__linux__)
/* The first line of a small text file, without its newline; false when unreadable. */
static bool read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\r\n")] = '\0';
    return ok;
}

static void list_nvidia(tm_gpu *out, int cap, int *n)
{
    DIR *d = opendir("/proc/driver/nvidia/gpus");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[512], line[256], name[96] = "NVIDIA GPU";
        snprintf(path, sizeof path, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "Model:", 6) == 0) {
                const char *v = line + 6 + strspn(line + 6, " \t");
                snprintf(name, sizeof name, "%.*s", (int)strcspn(v, "\r\n"), v);
                break;
            }
        fclose(f);
        add_gpu(out, cap, n, "nvidia", name, 0, false);
    }
    closedir(d);
}

static void list_amd(tm_gpu *out, int cap, int *n)
{
    DIR *d = opendir("/sys/class/drm");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        /* cardN, not its connectors (cardN-HDMI-A-1) */
        if (strncmp(e->d_name, "card", 4) != 0 || strchr(e->d_name, '-'))
            continue;
        char path[512], vendor[32], vram[32], name[96] = "AMD GPU";
        snprintf(path, sizeof path, "/sys/class/drm/%s/device/vendor", e->d_name);
        if (!read_line(path, vendor, sizeof vendor) || strcmp(vendor, "0x1002") != 0)
            continue;
        snprintf(path, sizeof path, "/sys/class/drm/%s/device/mem_info_vram_total", e->d_name);
        uint64_t bytes = 0;
        if (read_line(path, vram, sizeof vram) && !tm_parse_u64(vram, &bytes))
            bytes = 0;
        snprintf(path, sizeof path, "/sys/class/drm/%s/device/product_name", e->d_name);
        char product[96];
        if (read_line(path, product, sizeof product) && product[0])
            snprintf(name, sizeof name, "%s", product);
        add_gpu(out, cap, n, "amd", name, bytes, false);
    }
    closedir(d);
}
#endif

int tm_gpu_list(tm_gpu *out, int cap)
{
    int n = 0;
#if defined(__linux__)
    list_nvidia(out, cap, &n);
    list_amd(out, cap, &n);
#elif defined(__APPLE__) && (defined(__aarch64__) || defined(__arm64__))
    add_gpu(out, cap, &n, "apple", "Apple Silicon GPU", 0, true);
#else
    (void)out;
    (void)cap;
    (void)add_gpu;
#endif
    return n;
}
