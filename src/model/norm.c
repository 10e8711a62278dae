/* RMSNorm (Zhang and Sennrich, 2019): y = x / sqrt(mean(x^2) + eps) * g. The mean of squares
 * is summed in double: rows are up to 16k wide and the result scales every value. */
#include "model.h"

#include <math.h>

void tm_rms_norm(float *y, const float *x, const float *g, int64_t n, int64_t n_rows, float eps)
{
    for (int64_t r = 0; r < n_rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        /* eight partial sums: independent chains the compiler can keep in vector lanes
         * (one sum in order would be a chain of dependent additions) */
        double part[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int l = 0; l < 8; l++)
                part[l] += (double)xr[i + l] * xr[i + l];
        double sum = 0;
        for (; i < n; i++)
            sum += (double)xr[i] * xr[i];
        for (int l = 0; l < 8; l++)
            sum += part[l];
        float scale = (float)(1.0 / sqrt(sum / (double)n + (double)eps));
        for (int64_t k = 0; k < n; k++)
            yr[k] = xr[k] * scale * g[k];
    }
}
