/* Percentiles of the suite's samples (see suite.h for the method). The samples are few (the
 * runs of one class), so they are sorted in a copy on the stack. */
#include "suite.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double suite_percentile(const double *sorted, int n, double p)
{
    if (n <= 0)
        return -1;
    double h = (n - 1) * p;
    int lo = (int)h;
    if (lo >= n - 1)
        return sorted[n - 1];
    return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

void suite_stats_of(const double *x, int n, suite_stats *out)
{
    double s[SUITE_MAX_RUNS];
    int k = 0;
    for (int i = 0; i < n && k < SUITE_MAX_RUNS; i++)
        if (x[i] >= 0)
            s[k++] = x[i];
    memset(out, 0, sizeof *out);
    out->n = k;
    if (k == 0)
        return;
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    double sum = 0;
    for (int i = 0; i < k; i++)
        sum += s[i];
    out->min = s[0];
    out->max = s[k - 1];
    out->mean = sum / k;
    out->p50 = suite_percentile(s, k, 0.50);
    out->p95 = suite_percentile(s, k, 0.95);
}
