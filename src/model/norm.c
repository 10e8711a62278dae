/* RMSNorm (Zhang and Sennrich, 2019): y = x / sqrt(mean(x^2) + eps) * g. The mean of squares
 * is summed in double: rows are up to 16k wide and the result scales every value. */
#include "model.h"

#include <math.h>

void tm_rms_norm(float *y, const float *x, const float *g, int64_t n, int64_t n_rows, float eps)
{
    for (int64_t r = 0; r < n_rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double sum = 0;
        for (int64_t i = 0; i < n; i++)
            sum += (double)xr[i] * xr[i];
        float scale = (float)(1.0 / sqrt(sum / (double)n + (double)eps));
        for (int64_t i = 0; i < n; i++)
            yr[i] = xr[i] * scale * g[i];
    }
}
