/* linear.c — the fully connected layer y = x W^T + b, forward and backward side by side. */
#include "nn.h"

/* x [n x in], W [out x in] -> y [n x out] */
void linear_forward(const Linear *l, const float *x, float *y, int n)
{
    sgemm(GEMM_N, GEMM_T, n, l->out, l->in, 1.0f, x, l->in, l->w, l->in, 0.0f, y, l->out);
    vec_add_bias(y, l->b, n, l->out);
}

/* dW [out x in] += dy^T [out x n] x [n x in];  db += column sums of dy;  dx = dy W */
void linear_backward(const Linear *l, const float *x, const float *dy, float *dx, int n)
{
    sgemm(GEMM_T, GEMM_N, l->out, l->in, n, 1.0f, dy, l->out, x, l->in, 1.0f, l->dw, l->in);
    vec_sum_rows(l->db, dy, n, l->out);
    if (dx)
        sgemm(GEMM_N, GEMM_N, n, l->in, l->out, 1.0f, dy, l->out, l->w, l->in, 0.0f, dx, l->in);
}
