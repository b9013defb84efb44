/* cmd_tsne.c — `takt tsne DATA.csv -o embedding.csv`: a 2-D t-SNE embedding of the feature
 * rows (Barnes-Hut, or exact with --exact), its KL divergence, and optionally a scatter PNG
 * coloured by the data's label column. Also the t-SNE step `takt cluster --plot` shares. */
#include "../cluster/cluster.h"
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TSNE_VERB "tsne"

typedef struct {
    Progress progress;
    int n_iter;
} TsneProgress;

static void tsne_progress(void *ctx, int iter, double kl) {
    TsneProgress *p = ctx;
    char note[64];
    snprintf(note, sizeof note, "KL %.4f", kl);
    progress_update(&p->progress, iter, note);
}

StatusCode app_tsne(const float *x, int n, int d, double perplexity, int exact, int n_iter,
                    uint64_t seed, float *embedding, double *kl, Status *st) {
    if (!(perplexity > 0) || perplexity >= n)
        return status_fail(st, TK_EINVAL, "perplexity %g must be above 0 and below the number "
                           "of rows (%d)", perplexity, n);
    TsneParams p = tsne_params_default();
    p.method = exact ? TSNE_EXACT : TSNE_BARNES_HUT;
    p.perplexity = perplexity;
    p.seed = seed;
    if (n_iter > 0)
        p.n_iter = n_iter;
    TsneProgress prog = {.n_iter = p.n_iter};
    p.progress = tsne_progress;
    p.progress_ctx = &prog;
    progress_start(&prog.progress, exact ? "t-SNE (exact)" : "t-SNE (Barnes-Hut)", p.n_iter,
                   "iterations");
    TsneResult res;
    StatusCode code = tsne_fit(x, n, d, &p, embedding, &res, st);
    char note[64];
    snprintf(note, sizeof note, code == TK_OK ? "KL %.4f" : "failed", res.kl);
    progress_end(&prog.progress, note);
    if (code == TK_OK && kl)
        *kl = res.kl;
    return code;
}

StatusCode app_tsne_plot(const char *png, const char *title, const float *embedding, int n,
                         const int *labels, const char *const *names, int n_names, Status *st) {
    PlotStyle style = {0, 0, title, "t-SNE 1", "t-SNE 2"};
    return plot_scatter(png, &style, embedding, n, labels, names, n_names, st);
}

static StatusCode write_embedding(const char *path, const float *e, int n, Status *st) {
    AtomicFile out;
    StatusCode code = atomic_open(&out, path, st);
    if (code != TK_OK)
        return code;
    fprintf(out.fp, "tsne_1,tsne_2\n");
    for (int i = 0; i < n; i++)
        fprintf(out.fp, "%.9g,%.9g\n", e[2 * i], e[2 * i + 1]);
    return atomic_commit(&out, st);
}

static void tsne_usage(void) {
    printf("usage: takt tsne DATA.csv -o EMBEDDING.csv [options]\n\n"
           "A 2-D t-SNE embedding of the rows of DATA.csv (numeric CSV with a header).\n\n"
           "  -o FILE            the embedding, columns tsne_1,tsne_2 (required)\n"
           "  --perplexity P     effective number of neighbours, below the row count (30)\n"
           "  --exact            exact gradient (n <= %d) instead of Barnes-Hut (theta 0.5)\n"
           "  --iter N           gradient-descent iterations, at least 250 (1000)\n"
           "  --seed S           random seed (0)\n"
           "  --plot FILE.png    scatter of the embedding, coloured by the label column if any\n"
           "  --ignore A,B       more columns that are not features (label, seq_id, frame\n"
           "                     and time_s never are)\n",
           TSNE_EXACT_MAX_N);
}

/* Colours for the plot from the data's label column: ids and the distinct names. */
static StatusCode label_colours(const Features *f, int **ids, char ***names, int *n_names,
                                Status *st) {
    *ids = NULL;
    *names = NULL;
    *n_names = 0;
    if (f->label_col < 0)
        return TK_OK;
    *ids = malloc(sizeof **ids * (size_t)f->n);
    if (!*ids)
        return status_fail(st, TK_ENOMEM, "out of memory for %d labels", f->n);
    return labels_to_ids(f->table.text[f->label_col], f->n, *ids, names, n_names, st);
}

int cmd_tsne(int argc, char **argv) {
    if (app_wants_help(argc, argv)) {
        tsne_usage();
        return EXIT_OK;
    }
    const char *data = NULL, *out = NULL, *png = NULL, *ignore = NULL, *v;
    double perplexity = 30;
    int exact = 0, n_iter = 0, rc;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o")) {
            if (!(out = app_option_value(TSNE_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--plot")) {
            if (!(png = app_option_value(TSNE_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--ignore")) {
            if (!(ignore = app_option_value(TSNE_VERB, argc, argv, &i)))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--perplexity")) {
            if (!(v = app_option_value(TSNE_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            if ((rc = app_parse_double(TSNE_VERB, a, v, &perplexity)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--seed")) {
            if (!(v = app_option_value(TSNE_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            if ((rc = app_parse_seed(TSNE_VERB, v, &seed)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--iter")) {
            if (!(v = app_option_value(TSNE_VERB, argc, argv, &i)))
                return EXIT_USAGE;
            if ((rc = app_parse_int(TSNE_VERB, a, v, 250, 1000000, &n_iter)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--exact")) {
            exact = 1;
        } else if (a[0] == '-' && a[1]) {
            return app_usage_error(TSNE_VERB, "unknown option '%s'", a);
        } else if (data) {
            return app_usage_error(TSNE_VERB, "one DATA.csv expected, got '%s' and '%s'", data,
                                   a);
        } else {
            data = a;
        }
    }
    if (!data)
        return app_usage_error(TSNE_VERB, "missing DATA.csv");
    if (!out)
        return app_usage_error(TSNE_VERB, "missing -o EMBEDDING.csv");

    Status st = {0};
    Features f;
    if (features_load(&f, data, ignore, &st) != TK_OK)
        return app_fail(&st);
    float *embedding = malloc(sizeof *embedding * 2 * (size_t)f.n);
    int *ids = NULL, n_names = 0;
    char **names = NULL;
    double kl = 0;
    StatusCode code = embedding ? TK_OK : status_fail(&st, TK_ENOMEM, "out of memory");
    if (code == TK_OK && app_tsne(f.x, f.n, f.d, perplexity, exact, n_iter, seed, embedding,
                                  &kl, &st) != TK_OK)
        code = app_status_prefix(&st, data);
    if (code == TK_OK)
        code = write_embedding(out, embedding, f.n, &st);
    if (code == TK_OK && png)
        code = label_colours(&f, &ids, &names, &n_names, &st);
    if (code == TK_OK && png) {
        char title[256];
        snprintf(title, sizeof title, "t-SNE, perplexity %g%s", perplexity,
                 f.label_col >= 0 ? ", coloured by label" : "");
        code = app_tsne_plot(png, title, embedding, f.n, ids, (const char *const *)names,
                             n_names, &st);
    }
    if (code == TK_OK)
        printf("t-SNE of %d rows x %d features: KL divergence %.6g\n", f.n, f.d, kl);
    free(embedding);
    free(ids);
    free(names);
    features_free(&f);
    return code == TK_OK ? EXIT_OK : app_fail(&st);
}
