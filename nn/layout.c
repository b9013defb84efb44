/* layout.c — what every model needs around its layers: taking planned buffers from an arena
 * (measuring or real) and turning PyTorch's batch-first sequences into the time-major layout
 * the recurrent layers use. */
#include "nn.h"
#include "nn_internal.h"

#include <string.h>

StatusCode arena_take(Arena *a, float **p, size_t count, const char *who, Status *st)
{
    *p = arena_floats(a, count);
    if (a->base && !*p)
        return status_fail(st, TK_ENOMEM, "%s: arena of %zu bytes too small", who, a->capacity);
    return TK_OK;
}

void to_time_major(const float *x, float *xt, int B, int T, int F)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            memcpy(xt + ((size_t)t * B + b) * F, x + ((size_t)b * T + t) * F,
                   (size_t)F * sizeof(float));
}
