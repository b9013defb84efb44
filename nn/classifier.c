/* classifier.c — the two supervised models trained on softmax cross-entropy:
 *   "B"  LSTM (batch-first) -> output of the last step -> Linear(H -> classes) (state_dict:
 *        lstm.*, fc.weight, fc.bias), optionally bidirectional (fc then reads both
 *        directions' final states, 2H values), with dropout after every LSTM layer in training
 *        (nn.LSTM(dropout=p) between layers, nn.Dropout(p) before fc) and the mean of the
 *        outputs over time instead of the final states, or a temporal pyramid: the final
 *        states and the means over the whole sequence, its halves and its quarters (the
 *        pyramid of Vemulapalli et al., CVPR 2014, over the LSTM's outputs);
 *   MLP  Linear(in -> hidden) -> ReLU -> Linear(hidden -> classes) (fc1.*, fc2.*).
 * Parameters in one flat array each, as for the autoencoder. */
#include "nn.h"
#include "nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void uniform_fill(float *p, size_t n, float bound, Rng *rng)
{
    for (size_t i = 0; i < n; i++)
        p[i] = bound * (2.0f * rng_uniform(rng) - 1.0f);
}

/* The temporal pyramid's segments: the whole sequence, its 2 halves, its 4 quarters. */
#define PYRAMID_SEGMENTS 7

static void pyramid_segment(int s, int T, int *from, int *to)
{
    const int parts = s == 0 ? 1 : s < 3 ? 2 : 4, j = s == 0 ? 0 : s < 3 ? s - 1 : s - 3;
    *from = j * T / parts;
    *to = (j + 1) * T / parts;
}

/* Values per step of the top layer (both directions). */
static int top_width(const LstmClassifier *m)
{
    return m->lstm.dirs * m->cfg.hidden;
}

static StatusCode alloc_params(size_t n, float **params, float **grads, Status *st)
{
    *params = calloc(n, sizeof(float));
    *grads = calloc(n, sizeof(float));
    if (*params && *grads)
        return TK_OK;
    free(*params);
    free(*grads);
    *params = *grads = NULL;
    return status_fail(st, TK_ENOMEM, "classifier: cannot allocate %zu parameters", n);
}

/* ---------------------------------------------------------------- LSTM classifier */

StatusCode lstm_classifier_init(LstmClassifier *m, const LstmClassifierConfig *cfg, Status *st)
{
    return lstm_classifier_init_dirs(m, cfg, 0, st);
}

StatusCode lstm_classifier_init_dirs(LstmClassifier *m, const LstmClassifierConfig *cfg,
                                     int bidirectional, Status *st)
{
    memset(m, 0, sizeof *m);
    if (cfg->features < 1 || cfg->hidden < 1 || cfg->layers < 1 ||
        cfg->layers > RNN_MAX_LAYERS || cfg->classes < 2 || cfg->pyramid < 0 ||
        cfg->pyramid > 1)
        return status_fail(st, TK_EINVAL,
                           "lstm classifier: bad configuration (features %d, hidden %d, "
                           "layers %d, classes %d, pyramid %d)",
                           cfg->features, cfg->hidden, cfg->layers, cfg->classes, cfg->pyramid);
    m->cfg = *cfg;
    m->bidirectional = bidirectional != 0;
    const int dirs = bidirectional ? 2 : 1, top = dirs * cfg->hidden;
    const int fc_in = cfg->pyramid ? top * (1 + PYRAMID_SEGMENTS) : top;
    const size_t rnn_n =
        rnn_param_count(RNN_LSTM, cfg->features, cfg->hidden, cfg->layers, dirs);
    m->n_params = rnn_n + (size_t)(fc_in + 1) * cfg->classes;
    StatusCode rc = alloc_params(m->n_params, &m->params, &m->grads, st);
    if (rc)
        return rc;
    rnn_bind(&m->lstm, RNN_LSTM, cfg->features, cfg->hidden, cfg->layers, dirs, m->params,
             m->grads);
    for (int l = 0; l < cfg->layers; l++) {
        m->layer[l] = (Rnn){.kind = RNN_LSTM, .input = l ? top : cfg->features,
                            .hidden = cfg->hidden, .layers = 1, .dirs = dirs};
        for (int d = 0; d < dirs; d++)
            m->layer[l].w[0][d] = m->lstm.w[l][d];
    }
    const size_t fc_w = (size_t)fc_in * cfg->classes;
    m->fc = (Linear){fc_in, cfg->classes, m->params + rnn_n, m->params + rnn_n + fc_w,
                     m->grads + rnn_n, m->grads + rnn_n + fc_w};
    return TK_OK;
}

void lstm_classifier_free(LstmClassifier *m)
{
    free(m->params);
    free(m->grads);
    m->params = m->grads = NULL;
}

void lstm_classifier_init_params(LstmClassifier *m, Rng *rng)
{
    const size_t rnn_n = (size_t)(m->fc.w - m->params);
    uniform_fill(m->params, rnn_n, 1.0f / sqrtf((float)m->cfg.hidden), rng);
    uniform_fill(m->fc.w, m->n_params - rnn_n, 1.0f / sqrtf((float)m->fc.in), rng);
}

StatusCode lstm_classifier_work_plan(const LstmClassifier *m, LstmClassifierWork *w, Arena *a,
                                     int T, int batch, Status *st)
{
    memset(w, 0, sizeof *w);
    w->T = T;
    w->batch = batch;
    if (m->cfg.pyramid && T < 4)
        return status_fail(st, TK_EINVAL, "lstm classifier: a temporal pyramid needs at least "
                                          "4 steps, not %d", T);
    /* H: values per step of the top layer; IN: what fc reads. */
    const size_t B = (size_t)batch, H = (size_t)top_width(m), IN = (size_t)m->fc.in;
    const size_t C = (size_t)m->cfg.classes;
    StatusCode rc = rnn_plan(&m->lstm, &w->rnn, a, T, batch, st);
    struct {
        float **p;
        size_t n;
    } bufs[] = {{&w->xt, (size_t)T * B * m->cfg.features},
                {&w->last, B * IN},
                {&w->logits, B * C},
                {&w->probs, B * C},
                {&w->dlogits, B * C},
                {&w->dlogits_mix, B * C},
                {&w->dlast, B * IN},
                {&w->dout, (size_t)T * B * H}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0] && !rc; i++)
        rc = arena_take(a, bufs[i].p, bufs[i].n, "classifier", st);
    if (m->dropout > 0.0f) {
        const size_t tbh = (size_t)T * B * H, inner = (size_t)(m->cfg.layers - 1) * tbh;
        if (!rc && inner)
            rc = arena_take(a, &w->dropped, inner, "classifier", st);
        if (!rc && inner)
            rc = arena_take(a, &w->masks, inner, "classifier", st);
        if (!rc)
            rc = arena_take(a, &w->fc_mask, B * IN, "classifier", st);
        if (!rc)
            rc = arena_take(a, &w->dout2, tbh, "classifier", st);
    }
    rng_seed(&w->rng, 0, 0);
    return rc;
}

/* Layer l of the stack's buffers seen as a one-layer stack (the scratch is shared: layers run
 * one after the other). */
static RnnBuffers layer_buffers(const RnnBuffers *b, int l)
{
    RnnBuffers v = {.T = b->T, .B = b->B};
    v.out[0] = b->out[l];
    for (int d = 0; d < 2; d++) {
        v.tape[0][d] = b->tape[l][d];
        v.scratch[d] = b->scratch[d];
    }
    return v;
}

/* What fc reads of the top layer's output top [T, B, D*H], into out [B, fc.in]: the final
 * states (the forward direction's at the last step, the reverse one's at the first), then
 * with a pyramid the means over its segments; or with pool_mean the mean over the steps. */
static void summarise_steps(const LstmClassifier *m, const float *top, int T, int B, float *out)
{
    const int H = m->cfg.hidden, DH = top_width(m), IN = m->fc.in;
    const size_t bdh = (size_t)B * DH;
    if (m->pool_mean && !m->cfg.pyramid) {
        memset(out, 0, bdh * sizeof(float));
        for (int t = 0; t < T; t++)
            vec_axpy(out, 1.0f / (float)T, top + (size_t)t * bdh, bdh);
        return;
    }
    for (int b = 0; b < B; b++) {
        float *row = out + (size_t)b * IN;
        memcpy(row, top + (size_t)(T - 1) * bdh + (size_t)b * DH, H * sizeof(float));
        if (DH > H)
            memcpy(row + H, top + (size_t)b * DH + H, H * sizeof(float));
    }
    if (!m->cfg.pyramid)
        return;
    for (int b = 0; b < B; b++)
        memset(out + (size_t)b * IN + DH, 0, (size_t)(IN - DH) * sizeof(float));
    for (int s = 0; s < PYRAMID_SEGMENTS; s++) {
        int from, to;
        pyramid_segment(s, T, &from, &to);
        for (int t = from; t < to; t++)
            for (int b = 0; b < B; b++)
                vec_axpy(out + (size_t)b * IN + (size_t)DH * (1 + s), 1.0f / (float)(to - from),
                         top + (size_t)t * bdh + (size_t)b * DH, (size_t)DH);
    }
}

/* The gradient of the top layer's output dout [T, B, D*H] from that of what fc read, dlast
 * [B, fc.in] (the adjoint of summarise_steps). */
static void spread_steps(const LstmClassifier *m, const float *dlast, int T, int B, float *dout)
{
    const int H = m->cfg.hidden, DH = top_width(m), IN = m->fc.in;
    const size_t bdh = (size_t)B * DH;
    if (m->pool_mean && !m->cfg.pyramid) {
        for (int t = 0; t < T; t++) {
            memcpy(dout + (size_t)t * bdh, dlast, bdh * sizeof(float));
            vec_scale(dout + (size_t)t * bdh, 1.0f / (float)T, bdh);
        }
        return;
    }
    memset(dout, 0, (size_t)T * bdh * sizeof(float));
    /* With T == 1 both directions land in the same step, one in each half of its row. */
    for (int b = 0; b < B; b++) {
        const float *row = dlast + (size_t)b * IN;
        memcpy(dout + (size_t)(T - 1) * bdh + (size_t)b * DH, row, H * sizeof(float));
        if (DH > H)
            memcpy(dout + (size_t)b * DH + H, row + H, H * sizeof(float));
    }
    if (!m->cfg.pyramid)
        return;
    for (int s = 0; s < PYRAMID_SEGMENTS; s++) {
        int from, to;
        pyramid_segment(s, T, &from, &to);
        for (int t = from; t < to; t++)
            for (int b = 0; b < B; b++)
                vec_axpy(dout + (size_t)t * bdh + (size_t)b * DH, 1.0f / (float)(to - from),
                         dlast + (size_t)b * IN + (size_t)DH * (1 + s), (size_t)DH);
    }
}

/* Training forward pass with dropout: the layers one by one, each output dropped before the
 * next layer reads it; what fc reads (summarise_steps) dropped in w->last. */
static void forward_dropout(LstmClassifier *m, LstmClassifierWork *w, int T, int B)
{
    const size_t tbh = (size_t)T * B * top_width(m), bh = (size_t)B * m->fc.in;
    const float p = m->dropout;
    const float *in = w->xt;
    for (int l = 0; l < m->cfg.layers; l++) {
        RnnBuffers v = layer_buffers(&w->rnn, l);
        rnn_forward(&m->layer[l], &v, in, T, B);
        if (l + 1 < m->cfg.layers) {
            float *dropped = w->dropped + (size_t)l * tbh;
            dropout_forward(w->rnn.out[l], dropped, w->masks + (size_t)l * tbh, tbh, p, &w->rng);
            in = dropped;
        }
    }
    summarise_steps(m, w->rnn.out[m->cfg.layers - 1], T, B, w->last);
    dropout_forward(w->last, w->last, w->fc_mask, bh, p, &w->rng);
}

/* Backward through forward_dropout: w->dout holds the gradient of the top layer's output. */
static void backward_dropout(LstmClassifier *m, LstmClassifierWork *w, int T, int B)
{
    const size_t tbh = (size_t)T * B * top_width(m);
    float *dy = w->dout, *dx = w->dout2;
    for (int l = m->cfg.layers - 1; l >= 0; l--) {
        RnnBuffers v = layer_buffers(&w->rnn, l);
        const float *in = l ? w->dropped + (size_t)(l - 1) * tbh : w->xt;
        rnn_backward(&m->layer[l], &v, in, dy, l ? dx : NULL, T, B);
        if (l) {
            dropout_backward(dx, w->masks + (size_t)(l - 1) * tbh, dx, tbh);
            float *t = dy;
            dy = dx;
            dx = t;
        }
    }
}

/* Forward to w->logits; with train, dropout applies. */
static void classifier_forward(LstmClassifier *m, LstmClassifierWork *w, const float *x, int T,
                               int B, int train)
{
    const int F = m->cfg.features;
    to_time_major(x, w->xt, B, T, F);
    /* Without dropout (and always in evaluation) the stack runs as one. */
    if (train && m->dropout > 0.0f) {
        forward_dropout(m, w, T, B);
    } else {
        rnn_forward(&m->lstm, &w->rnn, w->xt, T, B);
        summarise_steps(m, rnn_output(&m->lstm, &w->rnn), T, B, w->last);
    }
    linear_forward(&m->fc, w->last, w->logits, B);
}

/* Mean (smoothed) cross-entropy of the logits against labels; dlogits its gradient (skipped
 * when NULL). */
static float classifier_loss(const LstmClassifier *m, LstmClassifierWork *w, const int *labels,
                             int B, float *dlogits)
{
    const int C = m->cfg.classes;
    const float loss = softmax_xent_loss(w->logits, labels, B, C, w->probs, dlogits);
    return dlogits && m->label_smoothing > 0.0f
               ? softmax_xent_smooth(w->logits, labels, B, C, m->label_smoothing, loss, dlogits)
               : loss;
}

/* Backward from w->dlogits into m->grads (training: dropout as in the forward). */
static void classifier_backward(LstmClassifier *m, LstmClassifierWork *w, int T, int B)
{
    const int drop = m->dropout > 0.0f;
    linear_backward(&m->fc, w->last, w->dlogits, w->dlast, B);
    if (drop)
        dropout_backward(w->dlast, w->fc_mask, w->dlast, (size_t)B * m->fc.in);
    spread_steps(m, w->dlast, T, B, w->dout);
    if (drop)
        backward_dropout(m, w, T, B);
    else
        rnn_backward(&m->lstm, &w->rnn, w->xt, w->dout, NULL, T, B);
}

float lstm_classifier_step(LstmClassifier *m, LstmClassifierWork *w, const float *x,
                           const int *labels, int T, int B, int train)
{
    classifier_forward(m, w, x, T, B, train);
    if (!labels)
        return 0.0f;
    const float loss = classifier_loss(m, w, labels, B, train ? w->dlogits : NULL);
    if (train)
        classifier_backward(m, w, T, B);
    return loss;
}

float lstm_classifier_step_mixed(LstmClassifier *m, LstmClassifierWork *w, const float *x,
                                 const int *labels, const int *labels_mix, float lambda, int T,
                                 int B)
{
    classifier_forward(m, w, x, T, B, 1);
    /* The loss and its gradient are linear in the targets. */
    const float la = classifier_loss(m, w, labels, B, w->dlogits);
    const float lb = classifier_loss(m, w, labels_mix, B, w->dlogits_mix);
    const size_t n = (size_t)B * m->cfg.classes;
    vec_scale(w->dlogits, lambda, n);
    vec_axpy(w->dlogits, 1.0f - lambda, w->dlogits_mix, n);
    classifier_backward(m, w, T, B);
    return lambda * la + (1.0f - lambda) * lb;
}

/* ---------------------------------------------------------------- MLP */

StatusCode mlp_init(Mlp *m, const MlpConfig *cfg, Status *st)
{
    memset(m, 0, sizeof *m);
    if (cfg->in < 1 || cfg->hidden < 1 || cfg->classes < 2)
        return status_fail(st, TK_EINVAL, "mlp: bad configuration (in %d, hidden %d, classes %d)",
                           cfg->in, cfg->hidden, cfg->classes);
    m->cfg = *cfg;
    const size_t n1 = (size_t)(cfg->in + 1) * cfg->hidden;
    m->n_params = n1 + (size_t)(cfg->hidden + 1) * cfg->classes;
    StatusCode rc = alloc_params(m->n_params, &m->params, &m->grads, st);
    if (rc)
        return rc;
    const size_t w1 = (size_t)cfg->in * cfg->hidden, w2 = (size_t)cfg->hidden * cfg->classes;
    m->fc1 = (Linear){cfg->in, cfg->hidden, m->params, m->params + w1, m->grads, m->grads + w1};
    m->fc2 = (Linear){cfg->hidden, cfg->classes, m->params + n1, m->params + n1 + w2,
                      m->grads + n1, m->grads + n1 + w2};
    return TK_OK;
}

void mlp_free(Mlp *m)
{
    free(m->params);
    free(m->grads);
    m->params = m->grads = NULL;
}

void mlp_init_params(Mlp *m, Rng *rng)
{
    const size_t n1 = (size_t)(m->cfg.in + 1) * m->cfg.hidden;
    uniform_fill(m->params, n1, 1.0f / sqrtf((float)m->cfg.in), rng);
    uniform_fill(m->params + n1, m->n_params - n1, 1.0f / sqrtf((float)m->cfg.hidden), rng);
}

StatusCode mlp_work_plan(const Mlp *m, MlpWork *w, Arena *a, int batch, Status *st)
{
    memset(w, 0, sizeof *w);
    w->batch = batch;
    const size_t B = (size_t)batch, H = (size_t)m->cfg.hidden, C = (size_t)m->cfg.classes;
    StatusCode rc = arena_take(a, &w->h, B * H, "classifier", st);
    if (!rc)
        rc = arena_take(a, &w->logits, B * C, "classifier", st);
    if (!rc)
        rc = arena_take(a, &w->probs, B * C, "classifier", st);
    if (!rc)
        rc = arena_take(a, &w->dlogits, B * C, "classifier", st);
    if (!rc)
        rc = arena_take(a, &w->dh, B * H, "classifier", st);
    return rc;
}

float mlp_step(Mlp *m, MlpWork *w, const float *x, const int *labels, int B, int train)
{
    const size_t BH = (size_t)B * m->cfg.hidden;
    linear_forward(&m->fc1, x, w->h, B);
    vec_relu(w->h, BH);
    linear_forward(&m->fc2, w->h, w->logits, B);
    if (!labels)
        return 0.0f;
    const float loss = softmax_xent_loss(w->logits, labels, B, m->cfg.classes, w->probs,
                                         train ? w->dlogits : NULL);
    if (!train)
        return loss;
    linear_backward(&m->fc2, w->h, w->dlogits, w->dh, B);
    vec_relu_backward(w->dh, w->h, w->dh, BH);
    linear_backward(&m->fc1, x, w->dh, NULL, B);
    return loss;
}
