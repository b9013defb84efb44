/* cmd_embed.c — `takt embed MODEL.tkw KEYPOINTS.csv -o LATENT.csv`: one latent vector of the
 * trained SeqAE per window of frames (scaled with the model's own min-max constants), with
 * the window's first frame and time, for clustering. */
#include "app.h"
#include "../io/io.h"
#include "../nn/nn.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_BATCH 256

static void usage(FILE *out)
{
    fprintf(out, "usage: takt embed MODEL.tkw KEYPOINTS.csv -o LATENT.csv [--stride N] "
                 "[--threads N]\n\n"
                 "Writes frame,time_s,z0,...: the latent vector of every window of the model's\n"
                 "length, windows starting every N frames (1).\n");
}

static StatusCode write_latents(const char *path, const Keypoints *k, const int *starts, int n,
                                const float *z, int latent, Status *st)
{
    AtomicFile f;
    StatusCode rc = atomic_open(&f, path, st);
    if (rc)
        return rc;
    fprintf(f.fp, "frame,time_s");
    for (int j = 0; j < latent; j++)
        fprintf(f.fp, ",z%d", j);
    fputc('\n', f.fp);
    for (int i = 0; i < n; i++) {
        fprintf(f.fp, "%d,%.6g", k->frame[starts[i]], k->time_s[starts[i]]);
        for (int j = 0; j < latent; j++)
            fprintf(f.fp, ",%.7g", z[(size_t)i * latent + j]);
        fputc('\n', f.fp);
    }
    return atomic_commit(&f, st);
}

int cmd_embed(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    const char *model_path = NULL, *input = NULL, *output = NULL;
    int stride = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--stride") || !strcmp(a, "--threads")) {
            if (i + 1 >= argc)
                return app_usage_error("embed", "%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "-o")) {
                output = v;
                continue;
            }
            char *end;
            errno = 0;
            const long n = strtol(v, &end, 10);
            if (errno || end == v || *end || n < 1 || n > 1 << 20)
                return app_usage_error("embed", "%s needs a positive integer, not '%s'", a, v);
            if (!strcmp(a, "--stride"))
                stride = (int)n;
            else
                omp_set_num_threads((int)n);
        } else if (a[0] == '-' && a[1]) {
            return app_usage_error("embed", "unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else if (!input) {
            input = a;
        } else {
            return app_usage_error("embed", "unexpected argument '%s'", a);
        }
    }
    if (!model_path || !input || !output)
        return app_usage_error("embed", "needs MODEL.tkw KEYPOINTS.csv -o LATENT.csv");

    Status st = {0};
    SeqAE m;
    MinMax scale;
    /* embed only min-max scales; a model that saw body-centred frames (from `takt study`)
     * would get inputs unlike its training data and give meaningless latents. */
    char normalise[16];
    if (seqae_normalisation(model_path, normalise, sizeof normalise, &st))
        return app_fail(&st);
    if (strcmp(normalise, "minmax")) {
        status_fail(&st, TK_EINVAL, "%s: trained by `takt study` on %s-normalised frames, which "
                    "`takt embed` does not do; reuse it with `takt study INPUT --ae %s`",
                    model_path, normalise, model_path);
        return app_fail(&st);
    }
    if (seqae_load(&m, &scale, model_path, &st))
        return app_fail(&st);
    Keypoints k;
    StatusCode rc = keypoints_read(&k, input, 0, &st);
    /* A model trained on x, y of 3-D keypoints (--xy) reads the same file without z. */
    if (!rc && k.n_features != m.cfg.features) {
        keypoints_free(&k);
        rc = keypoints_read(&k, input, 1, &st);
        if (!rc && k.n_features != m.cfg.features) {
            rc = status_fail(&st, TK_EINVAL, "%s: %d coordinates per frame, the model %s takes %d",
                             input, k.n_features, model_path, m.cfg.features);
            keypoints_free(&k);
        }
    }
    if (rc) {
        seqae_free(&m);
        minmax_free(&scale);
        return app_fail(&st);
    }
    const int T = m.cfg.seq_len, L = m.cfg.latent;
    int *starts = NULL, n = 0;
    float *z = NULL, *x = NULL;
    Arena arena = {0};
    SeqAEWork w;
    if (k.n_frames < T)
        rc = status_fail(&st, TK_EINVAL, "%s: %d frames, fewer than one window of %d", input,
                         k.n_frames, T);
    if (!rc) {
        minmax_apply(&scale, &k);
        rc = windows_make(&k, 0, k.n_frames, T, stride, &starts, &n, &st);
    }
    if (!rc) {
        Arena measure;
        arena_init_measure(&measure);
        seqae_work_plan(&m, &w, &measure, EMBED_BATCH, 0, &st);
        rc = arena_init(&arena, measure.peak, &st);
    }
    if (!rc)
        rc = seqae_work_plan(&m, &w, &arena, EMBED_BATCH, 0, &st);
    if (!rc) {
        z = malloc(sizeof(float) * (size_t)(n ? n : 1) * L);
        x = malloc(sizeof(float) * (size_t)EMBED_BATCH * T * k.n_features);
        if (!z || !x)
            rc = status_fail(&st, TK_ENOMEM, "%s: cannot hold %d latent vectors", input, n);
    }
    if (!rc) {
        Progress p;
        progress_start(&p, "embed", n, "windows");
        for (int i = 0; i < n; i += EMBED_BATCH) {
            const int B = n - i < EMBED_BATCH ? n - i : EMBED_BATCH;
            windows_gather(&k, starts + i, NULL, B, T, x);
            seqae_encode(&m, &w, x, B, z + (size_t)i * L);
            progress_update(&p, i + B, NULL);
        }
        progress_end(&p, NULL);
        rc = write_latents(output, &k, starts, n, z, L, &st);
    }
    free(starts);
    free(z);
    free(x);
    arena_free(&arena);
    keypoints_free(&k);
    seqae_free(&m);
    minmax_free(&scale);
    return rc ? app_fail(&st) : EXIT_OK;
}
