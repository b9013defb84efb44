/* data_check.c — the input check every clustering entry point starts with: non-empty, and no
 * NaN or infinity (named by row and column, since one bad cell poisons every distance). */
#include "cluster.h"

#include <math.h>

StatusCode cluster_check_data(const char *what, const float *x, int n, int d, Status *st)
{
    if (n < 1 || d < 1 || !x)
        return status_fail(st, TK_EINVAL, "%s: empty data (%d rows x %d columns)", what, n, d);
    for (long i = 0; i < (long)n * d; i++)
        if (!isfinite(x[i]))
            return status_fail(st, TK_EINVAL, "%s: row %ld column %ld: %s", what, i / d, i % d,
                               isnan(x[i]) ? "NaN" : "infinite value");
    return TK_OK;
}
