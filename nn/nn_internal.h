/* nn_internal.h — private to nn/: the SIMD twins of nn's kernels (dispatched by simd_active(),
 * compared with their scalar twins by tests/test_nn_kernels.c) and helpers the models share. */
#ifndef TAKT_NN_INTERNAL_H
#define TAKT_NN_INTERNAL_H

/* out[b][n] = ((init ? init[b][n] : 0) + (bias ? bias[n] : 0)) + sum_k h[b][k] w[k][n], the
 * k terms added in order; rows at strides ldh, ldw, ldi, ldo; init may be out itself (in
 * place). The bias joins the starting value while it is in registers (a separate pass over
 * the step's gates costs a round trip through memory), and a starting value read from
 * elsewhere spares copying a constant input's projection to every step. K may be 0. The AVX2
 * twin needs N % 8 == 0. */
void rnn_matmul(const float *h, int ldh, const float *w, int ldw, const float *init, int ldi,
                const float *bias, float *out, int ldo, int B, int K, int N);
void rnn_matmul_scalar(const float *h, int ldh, const float *w, int ldw, const float *init,
                       int ldi, const float *bias, float *out, int ldo, int B, int K, int N);
void rnn_matmul_avx2(const float *h, int ldh, const float *w, int ldw, const float *init,
                     int ldi, const float *bias, float *out, int ldo, int B, int K, int N);

/* The element-wise part of one recurrent step for B rows, fused (recurrent_cell.c); the AVX2
 * twins need H % 8 == 0 and are compared with the scalar ones by tests/test_nn_kernels.c.
 * LSTM forward: g [B x 4H] pre-activations [i f g o] -> activated in place; c_prev [B x H]
 * (NULL at the first step: zero), c and tc = tanh(c) [B x H]; h rows at stride ldh. */
void lstm_cell_forward(float *g, const float *c_prev, float *c, float *tc, float *h, int ldh,
                       int B, int H);
void lstm_cell_forward_scalar(float *g, const float *c_prev, float *c, float *tc, float *h,
                              int ldh, int B, int H);
void lstm_cell_forward_avx2(float *g, const float *c_prev, float *c, float *tc, float *h,
                            int ldh, int B, int H);
/* LSTM backward: dy rows at stride ldy plus dh_next [B x H] (from the later step) is dL/dh;
 * dc [B x H] in: from the later step, out: for the earlier one; dg [B x 4H] out, and its rows
 * added to dbias [4H] one after the other (the bias gradient, while the rows are in L1). */
void lstm_cell_backward(const float *g, const float *tc, const float *c_prev, const float *dy,
                        int ldy, const float *dh_next, float *dc, float *dg, float *dbias, int B,
                        int H);
void lstm_cell_backward_scalar(const float *g, const float *tc, const float *c_prev,
                               const float *dy, int ldy, const float *dh_next, float *dc,
                               float *dg, float *dbias, int B, int H);
void lstm_cell_backward_avx2(const float *g, const float *tc, const float *c_prev,
                             const float *dy, int ldy, const float *dh_next, float *dc,
                             float *dg, float *dbias, int B, int H);
/* GRU forward: g [B x 3H] pre-activations [r z n] (r, z with their hidden-side part, n input
 * side only) -> activated in place; hn [B x H] = W_hn h_prev + b_hn; h_prev (NULL: zero) and
 * h rows at stride ldh. */
void gru_cell_forward(float *g, const float *hn, const float *h_prev, float *h, int ldh, int B,
                      int H);
void gru_cell_forward_scalar(float *g, const float *hn, const float *h_prev, float *h, int ldh,
                             int B, int H);
void gru_cell_forward_avx2(float *g, const float *hn, const float *h_prev, float *h, int ldh,
                           int B, int H);
/* GRU backward: dy rows at stride ldh plus dh [B x H] is dL/dh; dh is overwritten with the
 * direct part of dL/dh_prev (dh ⊙ z); dgx [B x 3H] the input-side gate gradients [r z n], dhn
 * [B x H] the hidden side's n (dn ⊙ r): the hidden side's [r z] equal the input side's and are
 * read from dgx, not stored twice. dbias [4H] accumulates the bias gradients row by row: [r z
 * n] of the input side (which [r z] of the hidden side equal), then the hidden side's n. */
void gru_cell_backward(const float *g, const float *hn, const float *h_prev, const float *dy,
                       int ldh, float *dh, float *dgx, float *dhn, float *dbias, int B, int H);
void gru_cell_backward_scalar(const float *g, const float *hn, const float *h_prev,
                              const float *dy, int ldh, float *dh, float *dgx, float *dhn,
                              float *dbias, int B, int H);
void gru_cell_backward_avx2(const float *g, const float *hn, const float *h_prev,
                            const float *dy, int ldh, float *dh, float *dgx, float *dhn,
                            float *dbias, int B, int H);

/* Adam's per-parameter constants of one step (optim.c). */
typedef struct {
    float beta1, beta2, one_minus_b1, one_minus_b2, step_size, bc2_sqrt, eps, wd;
} AdamCoefs;
/* The update of n parameters; the AVX2 twin does the same operations in the same order, no
 * multiply-add fused (so the same bits), on the first n - n % 8 and returns that count. */
void adam_update_scalar(float *params, const float *grads, float *m, float *v, size_t n,
                        const AdamCoefs *c);
size_t adam_update_avx2(float *params, const float *grads, float *m, float *v, size_t n,
                        const AdamCoefs *c);

/* The sum of squared differences in double, and dpred = scale * (pred - target) when dpred is
 * not NULL (loss.c). The AVX2 twin does the first n - n % 8 values (returned in *done) with four
 * double accumulators: dpred bit for bit, the sum equal up to its rounding. */
double mse_sum_scalar(const float *pred, const float *target, size_t n, float scale,
                      float *dpred);
double mse_sum_avx2(const float *pred, const float *target, size_t n, float scale, float *dpred,
                    size_t *done);

/* wt [cols x rows] = w [rows x cols] transposed. */
void transpose_weights(const float *w, int rows, int cols, float *wt);

/* A constant input: adds the T step blocks [B x G] of dgates into the first one and returns
 * B, the rows the input-side gradient products then use; otherwise returns T*B. */
int rnn_sum_steps(float *dgates, int T, int x_steps, int B, int G);

/* rnn_plan in two parts: the outputs and tape of one stack, then the backward scratch and
 * layer gradients shared by n stacks whose backward passes run one after the other (each
 * buffer sized for the largest need; the autoencoder's encoder and decoder share theirs, a
 * smaller working set than one set each). rnn_plan_tape first, for every stack. */
StatusCode rnn_plan_tape(const Rnn *r, RnnBuffers *b, Arena *a, int T, int B, Status *st);
StatusCode rnn_plan_backward(const Rnn *const *rs, RnnBuffers *const *bs, int n, Arena *a,
                             Status *st);

/* arena_floats that turns exhaustion of a real arena into a status naming `who` (a measuring
 * arena always returns NULL, as planning expects). */
StatusCode arena_take(Arena *a, float **p, size_t count, const char *who, Status *st);
/* [B, T, F] batch-first -> [T, B, F] time-major. */
void to_time_major(const float *x, float *xt, int B, int T, int F);

/* Time index of the k-th processed step of a direction. */
static inline int step_time(int k, int T, int reverse) { return reverse ? T - 1 - k : k; }

#endif
