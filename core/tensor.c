/* tensor.c — float32 views of up to four dimensions; storage belongs to an arena or caller. */
#include "core.h"

#include <stdio.h>

Tensor tensor_view(float *data, int ndim, const int *shape)
{
    Tensor t = {.data = data, .ndim = ndim};
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        t.shape[i] = i < ndim ? shape[i] : 1;
    return t;
}

Tensor tensor_2d(float *data, int rows, int cols)
{
    int shape[2] = {rows, cols};
    return tensor_view(data, 2, shape);
}

size_t tensor_count(const Tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

StatusCode tensor_alloc(Tensor *t, Arena *a, int ndim, const int *shape, Status *st)
{
    if (ndim < 1 || ndim > TENSOR_MAX_DIMS)
        return status_fail(st, TK_EINVAL, "tensor: %d dimensions (1 to %d allowed)", ndim,
                           TENSOR_MAX_DIMS);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return status_fail(st, TK_EINVAL, "tensor: dimension %d is %d", i, shape[i]);
        if (n > SIZE_MAX / sizeof(float) / (size_t)shape[i])
            return status_fail(st, TK_EINVAL, "tensor: shape overflows memory");
        n *= (size_t)shape[i];
    }
    *t = tensor_view(NULL, ndim, shape);
    t->data = arena_floats(a, n);
    if (!t->data && a->base)
        return status_fail(st, TK_ENOMEM, "tensor: arena full (%zu of %zu bytes used, %zu more needed)",
                           a->used, a->capacity, n * sizeof(float));
    return TK_OK;
}

int tensor_same_shape(const Tensor *a, const Tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

const char *tensor_shape_str(const Tensor *t, char *buf, size_t bufsize)
{
    size_t used = 0;
    if (bufsize)
        buf[0] = '\0';
    for (int i = 0; i < t->ndim && used < bufsize; i++) {
        int w = snprintf(buf + used, bufsize - used, i ? "x%d" : "%d", t->shape[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}
