/* classifier.c — the two supervised models trained on softmax cross-entropy:
 *   "B"  LSTM (unidirectional, batch-first) -> output of the last step -> Linear(H -> classes)
 *        (state_dict: lstm.*, fc.weight, fc.bias);
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
    memset(m, 0, sizeof *m);
    if (cfg->features < 1 || cfg->hidden < 1 || cfg->layers < 1 ||
        cfg->layers > RNN_MAX_LAYERS || cfg->classes < 2)
        return status_fail(st, TK_EINVAL,
                           "lstm classifier: bad configuration (features %d, hidden %d, "
                           "layers %d, classes %d)",
                           cfg->features, cfg->hidden, cfg->layers, cfg->classes);
    m->cfg = *cfg;
    const size_t rnn_n = rnn_param_count(RNN_LSTM, cfg->features, cfg->hidden, cfg->layers, 1);
    m->n_params = rnn_n + (size_t)(cfg->hidden + 1) * cfg->classes;
    StatusCode rc = alloc_params(m->n_params, &m->params, &m->grads, st);
    if (rc)
        return rc;
    rnn_bind(&m->lstm, RNN_LSTM, cfg->features, cfg->hidden, cfg->layers, 1, m->params, m->grads);
    const size_t fc_w = (size_t)cfg->hidden * cfg->classes;
    m->fc = (Linear){cfg->hidden, cfg->classes, m->params + rnn_n, m->params + rnn_n + fc_w,
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
    uniform_fill(m->fc.w, m->n_params - rnn_n, 1.0f / sqrtf((float)m->cfg.hidden), rng);
}

StatusCode lstm_classifier_work_plan(const LstmClassifier *m, LstmClassifierWork *w, Arena *a,
                                     int T, int batch, Status *st)
{
    memset(w, 0, sizeof *w);
    w->T = T;
    w->batch = batch;
    const size_t B = (size_t)batch, H = (size_t)m->cfg.hidden, C = (size_t)m->cfg.classes;
    StatusCode rc = rnn_plan(&m->lstm, &w->rnn, a, T, batch, st);
    struct {
        float **p;
        size_t n;
    } bufs[] = {{&w->xt, (size_t)T * B * m->cfg.features},
                {&w->last, B * H},
                {&w->logits, B * C},
                {&w->probs, B * C},
                {&w->dlogits, B * C},
                {&w->dlast, B * H},
                {&w->dout, (size_t)T * B * H}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0] && !rc; i++)
        rc = arena_take(a, bufs[i].p, bufs[i].n, "classifier", st);
    return rc;
}

float lstm_classifier_step(LstmClassifier *m, LstmClassifierWork *w, const float *x,
                           const int *labels, int T, int B, int train)
{
    const int F = m->cfg.features, H = m->cfg.hidden, C = m->cfg.classes;
    to_time_major(x, w->xt, B, T, F);
    rnn_forward(&m->lstm, &w->rnn, w->xt, T, B);
    const float *last = rnn_output(&m->lstm, &w->rnn) + (size_t)(T - 1) * B * H;
    memcpy(w->last, last, (size_t)B * H * sizeof(float));
    linear_forward(&m->fc, w->last, w->logits, B);
    if (!labels)
        return 0.0f;
    const float loss =
        softmax_xent_loss(w->logits, labels, B, C, w->probs, train ? w->dlogits : NULL);
    if (!train)
        return loss;
    linear_backward(&m->fc, w->last, w->dlogits, w->dlast, B);
    memset(w->dout, 0, (size_t)T * B * H * sizeof(float));
    memcpy(w->dout + (size_t)(T - 1) * B * H, w->dlast, (size_t)B * H * sizeof(float));
    rnn_backward(&m->lstm, &w->rnn, w->xt, w->dout, NULL, T, B);
    return loss;
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
