/* mtm_mlp.c — the seed's one-hidden-layer network trained the way scikit-learn 1.2's
 * MLPClassifier(hidden_layer_sizes=(50,), early_stopping=True, max_iter=1000) trains it
 * (sklearn/neural_network/_multilayer_perceptron.py, _fit_stochastic): Glorot-uniform start
 * (bound sqrt(6 / (fan_in + fan_out)) for ReLU, biases too), shuffled batches of min(200, n),
 * loss = mean cross-entropy + alpha / 2 * |W|^2 / batch on the weights only, Adam, and early
 * stopping on the accuracy of a stratified 10 % held out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtm.h"

MtmMlpParams mtm_mlp_params_default(void)
{
    return (MtmMlpParams){.hidden = 50, .max_iter = 1000, .n_iter_no_change = 10,
                          .validation_fraction = 0.1, .tol = 1e-4, .alpha = 1e-4, .lr = 1e-3,
                          .seed = 0};
}

static void glorot_fill(float *p, size_t n, int fan_in, int fan_out, Rng *rng)
{
    const float bound = sqrtf(6.0f / (float)(fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
        p[i] = bound * (2.0f * rng_uniform(rng) - 1.0f);
}

/* Batches of inference through one planned work area, so that any nq fits. */
#define MLP_PREDICT_BATCH 256

typedef struct {
    Arena arena;
    MlpWork work;
} MlpRunner;

static StatusCode runner_new(MlpRunner *r, const Mlp *m, int batch, Status *st)
{
    Arena measure;
    arena_init_measure(&measure);
    MlpWork w;
    mlp_work_plan(m, &w, &measure, batch, NULL);
    StatusCode rc = arena_init(&r->arena, measure.peak + ARENA_ALIGN * 8, st);
    if (!rc)
        rc = mlp_work_plan(m, &r->work, &r->arena, batch, st);
    if (rc)
        arena_free(&r->arena);
    return rc;
}

static void runner_predict(const Mlp *m, MlpRunner *r, const float *q, int nq, int *pred,
                           float *proba)
{
    const int C = m->cfg.classes;
    for (int s = 0; s < nq; s += r->work.batch) {
        const int B = nq - s < r->work.batch ? nq - s : r->work.batch;
        /* mlp_step without labels only runs forward and never writes the model. */
        mlp_step((Mlp *)m, &r->work, q + (size_t)s * m->cfg.in, NULL, B, 0);
        for (int i = 0; i < B; i++) {
            const float *z = r->work.logits + (size_t)i * C;
            int best = 0;
            for (int c = 1; c < C; c++)
                if (z[c] > z[best])
                    best = c;
            if (pred)
                pred[s + i] = best;
            if (proba) {
                float *p = proba + (size_t)(s + i) * C;
                double sum = 0.0;
                for (int c = 0; c < C; c++)
                    sum += p[c] = expf(z[c] - z[best]);
                for (int c = 0; c < C; c++)
                    p[c] = (float)(p[c] / sum);
            }
        }
    }
}

StatusCode mtm_mlp_predict(const Mlp *m, const float *q, int nq, int *pred, float *proba,
                           Status *st)
{
    MlpRunner r;
    StatusCode rc = runner_new(&r, m, MLP_PREDICT_BATCH, st);
    if (rc)
        return rc;
    runner_predict(m, &r, q, nq, pred, proba);
    arena_free(&r.arena);
    return TK_OK;
}

StatusCode mtm_mlp_fit(Mlp *m, const float *x, const int *y, int n, int d, int n_classes,
                       const MtmMlpParams *p, int *epochs, Status *st)
{
    MlpConfig cfg = {d, p->hidden, n_classes < 2 ? 2 : n_classes};
    StatusCode rc = mlp_init(m, &cfg, st);
    if (rc)
        return rc;
    unsigned char *is_val = malloc((size_t)n);
    int *order = malloc(sizeof(int) * (size_t)n), *val_pred = malloc(sizeof(int) * (size_t)n);
    int *by = malloc(sizeof(int) * (size_t)n), *val_y = malloc(sizeof(int) * (size_t)n);
    float *bx = NULL, *val_x = NULL, *best = malloc(sizeof(float) * m->n_params);
    float *adam_m = malloc(sizeof(float) * m->n_params), *adam_v = malloc(sizeof(float) * m->n_params);
    MlpRunner train = {0}, eval = {0};
    int have_train = 0, have_eval = 0;
    if (!is_val || !order || !val_pred || !by || !val_y || !best || !adam_m || !adam_v) {
        rc = status_fail(st, TK_ENOMEM, "mlp: out of memory for %d rows", n);
        goto done;
    }
    rc = split_stratified(y, n, p->validation_fraction, p->seed, is_val, st);
    if (rc)
        goto done;
    int n_train = 0, n_val = 0;
    for (int i = 0; i < n; i++)
        if (is_val[i])
            val_y[n_val++] = y[i];
        else
            order[n_train++] = i;
    if (n_train < 1 || n_val < 1) {
        rc = status_fail(st, TK_EINVAL, "mlp: %d rows are too few for early stopping", n);
        goto done;
    }
    const int batch = n_train < 200 ? n_train : 200;
    bx = malloc(sizeof(float) * (size_t)batch * d);
    val_x = malloc(sizeof(float) * (size_t)n_val * d);
    if (!bx || !val_x) {
        rc = status_fail(st, TK_ENOMEM, "mlp: out of memory for %d rows", n);
        goto done;
    }
    for (int i = 0, v = 0; i < n; i++)
        if (is_val[i])
            memcpy(val_x + (size_t)v++ * d, x + (size_t)i * d, sizeof(float) * d);
    if ((rc = runner_new(&train, m, batch, st)))
        goto done;
    have_train = 1;
    if ((rc = runner_new(&eval, m, MLP_PREDICT_BATCH, st)))
        goto done;
    have_eval = 1;

    Rng rng;
    rng_seed(&rng, p->seed, 1);
    const size_t w1 = (size_t)d * p->hidden, n1 = w1 + p->hidden;
    const size_t w2 = (size_t)p->hidden * cfg.classes;
    glorot_fill(m->params, n1, d, p->hidden, &rng);
    glorot_fill(m->params + n1, m->n_params - n1, p->hidden, cfg.classes, &rng);
    Adam adam;
    adam_init(&adam, (float)p->lr, adam_m, adam_v, m->n_params);
    double best_score = -INFINITY;
    int no_improvement = 0, epoch = 0;
    memcpy(best, m->params, sizeof(float) * m->n_params);
    while (epoch < p->max_iter) {
        epoch++;
        rng_shuffle_int(&rng, order, (size_t)n_train);
        for (int s = 0; s < n_train; s += batch) {
            const int B = n_train - s < batch ? n_train - s : batch;
            for (int i = 0; i < B; i++) {
                memcpy(bx + (size_t)i * d, x + (size_t)order[s + i] * d, sizeof(float) * d);
                by[i] = y[order[s + i]];
            }
            memset(m->grads, 0, sizeof(float) * m->n_params);
            mlp_step(m, &train.work, bx, by, B, 1);
            const float l2 = (float)(p->alpha / B);
            for (size_t i = 0; i < w1; i++)
                m->grads[i] += l2 * m->params[i];
            for (size_t i = 0; i < w2; i++)
                m->grads[n1 + i] += l2 * m->params[n1 + i];
            adam_step(&adam, m->params, m->grads);
        }
        runner_predict(m, &eval, val_x, n_val, val_pred, NULL);
        int right = 0;
        for (int i = 0; i < n_val; i++)
            right += val_pred[i] == val_y[i];
        const double score = (double)right / n_val;
        no_improvement = score < best_score + p->tol ? no_improvement + 1 : 0;
        if (score > best_score) {
            best_score = score;
            memcpy(best, m->params, sizeof(float) * m->n_params);
        }
        if (no_improvement > p->n_iter_no_change)
            break;
    }
    memcpy(m->params, best, sizeof(float) * m->n_params);
    if (epochs)
        *epochs = epoch;
done:
    if (have_train)
        arena_free(&train.arena);
    if (have_eval)
        arena_free(&eval.arena);
    free(is_val), free(order), free(val_pred), free(by), free(val_y), free(bx), free(val_x);
    free(best), free(adam_m), free(adam_v);
    if (rc)
        mlp_free(m);
    return rc;
}
