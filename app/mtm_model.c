/* mtm_model.c — the MTM-2 classifier as one object: min-max scaling to [0, 1], then KNN
 * (k = 1, no distance weighting), a linear SVM (LinearSVC's defaults) or the seed's MLP; fit,
 * predict, and one .tkw file (kind "mtm_classifier") holding the classifier, its feature and
 * class names and the min-max constants, so that a model is never applied to other features. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtm.h"

static const char *const kind_names[] = {"knn", "svm", "mlp"};

const char *mtm_kind_name(MtmKind kind) { return kind_names[kind]; }

int mtm_kind_parse(const char *name)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

void mtm_model_free(MtmModel *m)
{
    for (int i = 0; m->feature_names && i < m->d; i++)
        free(m->feature_names[i]);
    for (int i = 0; m->class_names && i < m->n_classes; i++)
        free(m->class_names[i]);
    free(m->feature_names);
    free(m->class_names);
    scaler_free(&m->scaler);
    if (m->kind == MTM_KNN)
        knn_free(&m->knn);
    else if (m->kind == MTM_SVM)
        svm_free(&m->svm);
    else
        mlp_free(&m->mlp);
    free(m->train_x);
    free(m->train_y);
    memset(m, 0, sizeof *m);
}

static char **copy_names(const char *const *names, int count, const char *fallback_fmt)
{
    char **out = calloc((size_t)count, sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < count; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, fallback_fmt, i);
        out[i] = strdup(names ? names[i] : buf);
        if (!out[i]) {
            for (int j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

/* Fits the classifier itself on already scaled rows. */
static StatusCode fit_scaled(MtmModel *m, const float *xs, const int *y, int n, uint64_t seed,
                             Status *st)
{
    if (m->kind == MTM_KNN) {
        m->train_x = malloc(sizeof(float) * (size_t)n * m->d);
        m->train_y = malloc(sizeof(int) * (size_t)n);
        if (!m->train_x || !m->train_y)
            return status_fail(st, TK_ENOMEM, "mtm: out of memory for %d training rows", n);
        memcpy(m->train_x, xs, sizeof(float) * (size_t)n * m->d);
        memcpy(m->train_y, y, sizeof(int) * (size_t)n);
        m->n_train = n;
        return knn_fit(&m->knn, xs, y, n, m->d, 1, KNN_UNIFORM, KNN_AUTO, st);
    }
    if (m->kind == MTM_SVM) {
        SvmParams p = svm_params_default();
        p.seed = seed;
        return svm_fit(&m->svm, xs, y, n, m->d, &p, st);
    }
    MtmMlpParams p = mtm_mlp_params_default();
    p.seed = seed;
    return mtm_mlp_fit(&m->mlp, xs, y, n, m->d, m->n_classes, &p, NULL, st);
}

StatusCode mtm_model_fit(MtmModel *m, MtmKind kind, const float *x, const int *y, int n, int d,
                         int n_classes, const char *const *feature_names,
                         const char *const *class_names, uint64_t seed, Status *st)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    for (int i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= n_classes)
            return status_fail(st, TK_EINVAL, "mtm: row %d: label %d outside 0..%d", i, y[i],
                               n_classes - 1);
    StatusCode rc = cluster_check_data("mtm features", x, n, d, st);
    if (rc)
        return rc;
    m->feature_names = copy_names(feature_names, d, "f%d");
    if (m->feature_names)
        m->d = d;
    m->class_names = copy_names(class_names, n_classes, "%d");
    if (m->class_names)
        m->n_classes = n_classes;
    if (!m->feature_names || !m->class_names) {
        mtm_model_free(m);
        return status_fail(st, TK_ENOMEM, "mtm: out of memory for names");
    }
    float *xs = malloc(sizeof(float) * (size_t)n * d);
    if (!xs) {
        mtm_model_free(m);
        return status_fail(st, TK_ENOMEM, "mtm: out of memory for %d rows", n);
    }
    rc = scaler_fit_minmax(&m->scaler, x, n, d, 0.0, 1.0, st);
    if (!rc) {
        scaler_transform(&m->scaler, x, n, xs);
        rc = fit_scaled(m, xs, y, n, seed, st);
    }
    free(xs);
    if (rc)
        mtm_model_free(m); /* each fitter leaves its model freeable after a failure */
    return rc;
}

StatusCode mtm_model_predict(const MtmModel *m, const float *q, int nq, float *scratch,
                             int *pred, float *proba, Status *st)
{
    scaler_transform(&m->scaler, q, nq, scratch);
    if (m->kind == MTM_MLP)
        return mtm_mlp_predict(&m->mlp, scratch, nq, pred, proba, st);
    if (m->kind == MTM_KNN) {
        StatusCode rc = knn_predict(&m->knn, scratch, nq, pred, st);
        if (!rc && proba)
            rc = knn_predict_proba(&m->knn, scratch, nq, proba, st);
        return rc;
    }
    svm_predict(&m->svm, scratch, nq, pred);
    if (proba) {
        /* A linear SVM has no probabilities: the chosen class gets 1. */
        memset(proba, 0, sizeof(float) * (size_t)nq * m->n_classes);
        for (int i = 0; i < nq; i++)
            proba[(size_t)i * m->n_classes + pred[i]] = 1.0f;
    }
    return TK_OK;
}

/* ---------------------------------------------------------------- file */

/* "a,b,c" from names; malloc'ed. */
static char *join_names(char *const *names, int count)
{
    size_t len = 1;
    for (int i = 0; i < count; i++)
        len += strlen(names[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < count; i++)
        p += sprintf(p, "%s%s", i ? "," : "", names[i]);
    *p = 0;
    return s;
}

/* "v,v,v" of doubles at full precision; malloc'ed. */
static char *join_doubles(const double *v, int count)
{
    char *s = malloc((size_t)count * 32 + 1), *p = s;
    if (!s)
        return NULL;
    *p = 0;
    for (int i = 0; i < count; i++)
        p += sprintf(p, "%s%.17g", i ? "," : "", v[i]);
    return s;
}

static StatusCode put_tensor(TkwWriter *w, const char *name, int rows, int cols, const float *v,
                             Status *st)
{
    const int shape[2] = {rows, cols};
    return tkw_writer_tensor(w, name, DTYPE_F32, 2, shape, v, st);
}

StatusCode mtm_model_save(const MtmModel *m, const char *path, Status *st)
{
    TkwWriter *w;
    StatusCode rc = tkw_writer_new(&w, st);
    if (rc)
        return rc;
    char *features = join_names(m->feature_names, m->d);
    char *classes = join_names(m->class_names, m->n_classes);
    char *scale = join_doubles(m->scaler.scale, m->d), *shift = join_doubles(m->scaler.shift, m->d);
    float *labels = NULL;
    if (!features || !classes || !scale || !shift) {
        rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((rc = tkw_writer_meta(w, "kind", "mtm_classifier", st)) ||
        (rc = tkw_writer_meta(w, "classifier", mtm_kind_name(m->kind), st)) ||
        (rc = tkw_writer_meta(w, "features", features, st)) ||
        (rc = tkw_writer_meta(w, "classes", classes, st)) ||
        (rc = tkw_writer_meta(w, "minmax_scale", scale, st)) ||
        (rc = tkw_writer_meta(w, "minmax_shift", shift, st)))
        goto done;
    if (m->kind == MTM_KNN) {
        labels = malloc(sizeof(float) * (size_t)m->n_train);
        if (!labels) {
            rc = status_fail(st, TK_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        for (int i = 0; i < m->n_train; i++)
            labels[i] = (float)m->train_y[i];
        if ((rc = put_tensor(w, "knn.x", m->n_train, m->d, m->train_x, st)) ||
            (rc = put_tensor(w, "knn.y", m->n_train, 1, labels, st)))
            goto done;
    } else if (m->kind == MTM_SVM) {
        char models[32];
        snprintf(models, sizeof models, "%d", m->svm.n_models);
        if ((rc = tkw_writer_meta(w, "svm_models", models, st)) ||
            (rc = put_tensor(w, "svm.coef", m->svm.n_models, m->d, m->svm.coef, st)) ||
            (rc = put_tensor(w, "svm.intercept", m->svm.n_models, 1, m->svm.intercept, st)))
            goto done;
    } else {
        char hidden[32];
        snprintf(hidden, sizeof hidden, "%d", m->mlp.cfg.hidden);
        if ((rc = tkw_writer_meta(w, "mlp_hidden", hidden, st)) ||
            (rc = put_tensor(w, "mlp.params", 1, (int)m->mlp.n_params, m->mlp.params, st)))
            goto done;
    }
    rc = tkw_writer_save(w, path, st);
done:
    free(features), free(classes), free(scale), free(shift), free(labels);
    tkw_writer_free(w);
    return rc;
}

/* Splits "a,b,c" into exactly `count` strdup'ed names (count < 0: as many as there are). */
static StatusCode split_names(const char *path, const char *key, const char *text, char ***out,
                              int *count, Status *st)
{
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    char **names = calloc((size_t)n, sizeof *names);
    if (!names)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    const char *p = text;
    for (int i = 0; i < n; i++) {
        const char *e = strchr(p, ',');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        names[i] = strndup(p, len);
        if (!names[i] || len == 0) {
            for (int j = 0; j <= i; j++)
                free(names[j]);
            free(names);
            return status_fail(st, TK_EFORMAT, "%s: metadata '%s': empty name %d", path, key, i);
        }
        p = e ? e + 1 : p + len;
    }
    *out = names;
    *count = n;
    return TK_OK;
}

static StatusCode parse_doubles(const char *path, const char *key, const char *text, double *v,
                                int count, Status *st)
{
    const char *p = text;
    for (int i = 0; i < count; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || !isfinite(v[i]) || (*end != ',' && *end != 0) ||
            ((*end == 0) != (i == count - 1)))
            return status_fail(st, TK_EFORMAT, "%s: metadata '%s': value %d is bad or missing",
                               path, key, i);
        p = end + 1;
    }
    return TK_OK;
}

static const char *need_meta(const TkwFile *f, const char *key, Status *st)
{
    const char *v = tkw_meta(f, key);
    if (!v)
        status_fail(st, TK_EFORMAT, "%s: metadata '%s' missing", f->path, key);
    return v;
}

static StatusCode load_body(MtmModel *m, const TkwFile *f, Status *st)
{
    const char *path = f->path;
    const char *kind = need_meta(f, "kind", st);
    if (!kind)
        return TK_EFORMAT;
    if (strcmp(kind, "mtm_classifier") != 0)
        return status_fail(st, TK_EFORMAT, "%s: kind '%s' is not an mtm_classifier", path, kind);
    const char *cls = need_meta(f, "classifier", st), *feat = need_meta(f, "features", st);
    const char *classes = need_meta(f, "classes", st), *scale = need_meta(f, "minmax_scale", st);
    const char *shift = need_meta(f, "minmax_shift", st);
    if (!cls || !feat || !classes || !scale || !shift)
        return TK_EFORMAT;
    const int kind_id = mtm_kind_parse(cls);
    if (kind_id < 0)
        return status_fail(st, TK_EFORMAT, "%s: unknown classifier '%s'", path, cls);
    m->kind = (MtmKind)kind_id;
    StatusCode rc = split_names(path, "features", feat, &m->feature_names, &m->d, st);
    if (!rc)
        rc = split_names(path, "classes", classes, &m->class_names, &m->n_classes, st);
    if (rc)
        return rc;
    m->scaler.d = m->d;
    m->scaler.scale = malloc(sizeof(double) * m->d);
    m->scaler.shift = malloc(sizeof(double) * m->d);
    if (!m->scaler.scale || !m->scaler.shift)
        return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
    if ((rc = parse_doubles(path, "minmax_scale", scale, m->scaler.scale, m->d, st)) ||
        (rc = parse_doubles(path, "minmax_shift", shift, m->scaler.shift, m->d, st)))
        return rc;
    if (m->kind == MTM_KNN) {
        const TkwTensor *t = tkw_find(f, "knn.x");
        if (!t || t->ndim != 2 || t->shape[1] != m->d || t->shape[0] < 1)
            return status_fail(st, TK_EFORMAT, "%s: tensor 'knn.x' missing or not n x %d", path,
                               m->d);
        const int n = t->shape[0];
        m->train_x = malloc(sizeof(float) * (size_t)n * m->d);
        m->train_y = malloc(sizeof(int) * (size_t)n);
        float *labels = malloc(sizeof(float) * (size_t)n);
        if (!m->train_x || !m->train_y || !labels) {
            free(labels);
            return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
        }
        rc = tkw_read_f32(f, "knn.x", m->train_x, (size_t)n * m->d, st);
        if (!rc)
            rc = tkw_read_f32(f, "knn.y", labels, (size_t)n, st);
        for (int i = 0; !rc && i < n; i++) {
            m->train_y[i] = (int)labels[i];
            if (labels[i] != (float)m->train_y[i] || m->train_y[i] < 0 ||
                m->train_y[i] >= m->n_classes)
                rc = status_fail(st, TK_EFORMAT, "%s: tensor 'knn.y' row %d: bad class %g",
                                 path, i, labels[i]);
        }
        free(labels);
        m->n_train = n;
        if (!rc)
            rc = knn_fit(&m->knn, m->train_x, m->train_y, n, m->d, 1, KNN_UNIFORM, KNN_AUTO, st);
        return rc;
    }
    if (m->kind == MTM_SVM) {
        const int models = m->n_classes == 2 ? 1 : m->n_classes;
        LinearSvm *s = &m->svm;
        *s = (LinearSvm){.d = m->d, .n_classes = m->n_classes, .n_models = models,
                         .multiclass = SVM_OVR};
        s->coef = malloc(sizeof(float) * (size_t)models * m->d);
        s->intercept = malloc(sizeof(float) * (size_t)models);
        if (!s->coef || !s->intercept)
            return status_fail(st, TK_ENOMEM, "%s: out of memory", path);
        rc = tkw_read_f32(f, "svm.coef", s->coef, (size_t)models * m->d, st);
        if (!rc)
            rc = tkw_read_f32(f, "svm.intercept", s->intercept, (size_t)models, st);
        return rc;
    }
    const char *hidden = need_meta(f, "mlp_hidden", st);
    if (!hidden)
        return TK_EFORMAT;
    const MlpConfig cfg = {m->d, atoi(hidden), m->n_classes};
    if ((rc = mlp_init(&m->mlp, &cfg, st)))
        return rc;
    return tkw_read_f32(f, "mlp.params", m->mlp.params, m->mlp.n_params, st);
}

StatusCode mtm_model_load(MtmModel *m, const char *path, Status *st)
{
    memset(m, 0, sizeof *m);
    TkwFile f;
    StatusCode rc = tkw_open(&f, path, st);
    if (rc)
        return rc;
    rc = load_body(m, &f, st);
    tkw_close(&f);
    if (rc)
        mtm_model_free(m);
    return rc;
}
