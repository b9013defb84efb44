/* scale.c — min-max and standard scalers as scikit-learn's MinMaxScaler / StandardScaler:
 * statistics in double, a constant column gets scale 1 (so it maps to lo, or to 0, instead of
 * dividing by zero), and both reduce to x' = x * scale + shift per column. */
#include "cluster.h"

#include <math.h>
#include <stdlib.h>

static StatusCode scaler_alloc(Scaler *s, int d, Status *st)
{
    s->d = d;
    s->scale = malloc((size_t)d * sizeof *s->scale);
    s->shift = malloc((size_t)d * sizeof *s->shift);
    if (!s->scale || !s->shift) {
        scaler_free(s);
        return status_fail(st, TK_ENOMEM, "scaler: cannot allocate %d columns", d);
    }
    return TK_OK;
}

StatusCode scaler_fit_minmax(Scaler *s, const float *x, int n, int d, double lo, double hi,
                             Status *st)
{
    StatusCode rc = cluster_check_data("min-max scaler", x, n, d, st);
    if (rc != TK_OK)
        return rc;
    if (!(lo < hi))
        return status_fail(st, TK_EINVAL, "min-max scaler: range [%g, %g] is empty", lo, hi);
    if ((rc = scaler_alloc(s, d, st)) != TK_OK)
        return rc;
    for (int j = 0; j < d; j++) {
        double mn = x[j], mx = x[j];
        for (int i = 1; i < n; i++) {
            const double v = x[(size_t)i * d + j];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        const double range = mx - mn;
        s->scale[j] = (hi - lo) / (range > 0.0 ? range : 1.0);
        s->shift[j] = lo - mn * s->scale[j];
    }
    return TK_OK;
}

StatusCode scaler_fit_standard(Scaler *s, const float *x, int n, int d, Status *st)
{
    StatusCode rc = cluster_check_data("standard scaler", x, n, d, st);
    if (rc != TK_OK || (rc = scaler_alloc(s, d, st)) != TK_OK)
        return rc;
    for (int j = 0; j < d; j++) {
        double mean = 0.0, m2 = 0.0;
        for (int i = 0; i < n; i++)
            mean += x[(size_t)i * d + j];
        mean /= n;
        for (int i = 0; i < n; i++) {
            const double t = x[(size_t)i * d + j] - mean;
            m2 += t * t;
        }
        const double sd = sqrt(m2 / n);
        s->scale[j] = 1.0 / (sd > 0.0 ? sd : 1.0);
        s->shift[j] = -mean * s->scale[j];
    }
    return TK_OK;
}

void scaler_transform(const Scaler *s, const float *x, int n, float *out)
{
    const int d = s->d;
    for (size_t i = 0; i < (size_t)n; i++)
        for (int j = 0; j < d; j++)
            out[i * d + j] = (float)(x[i * d + j] * s->scale[j] + s->shift[j]);
}

void scaler_inverse(const Scaler *s, const float *x, int n, float *out)
{
    const int d = s->d;
    for (size_t i = 0; i < (size_t)n; i++)
        for (int j = 0; j < d; j++)
            out[i * d + j] = (float)((x[i * d + j] - s->shift[j]) / s->scale[j]);
}

void scaler_free(Scaler *s)
{
    free(s->scale);
    free(s->shift);
    s->scale = s->shift = NULL;
}
