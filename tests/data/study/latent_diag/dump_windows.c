/* dump_windows.c — a diagnostic for issue 6, not part of takt: for a labelled study input and
 * the model.tkw that `takt study` trained on it, writes every window (stride given) as the
 * study sees it: its latent vector (PREFIX.z, float32 [n x latent]), its scaled frames
 * (PREFIX.x, float32 [n x 40*features]) and the true label most of its own frames carry
 * (PREFIX.y, int32 [n]). latent_diag.py then compares how much of the classes the latent and
 * the raw windows hold. Body-centred frames, as the study's default.
 *
 * Build (from the repository root, after `make`):
 *   gcc -O2 -fopenmp -I. tests/data/study/latent_diag/dump_windows.c build/libtakt.a \
 *       -lm -lpng -o build/dump_windows
 * Run:
 *   build/dump_windows INPUT.csv OUT/model.tkw PREFIX [LABELS.csv|""] [XY 0|1] [STRIDE] */
#include <stdio.h>
#include <stdlib.h>

#include "app/study.h"

static int fail(const Status *st)
{
    fprintf(stderr, "dump_windows: %s\n", st->msg);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: dump_windows INPUT MODEL PREFIX [LABELS] [XY] [STRIDE]\n");
        return 2;
    }
    const char *input = argv[1], *model_path = argv[2], *prefix = argv[3];
    const char *labels = argc > 4 && argv[4][0] ? argv[4] : input;
    const int xy = argc > 5 ? atoi(argv[5]) : 1, stride = argc > 6 ? atoi(argv[6]) : 1;
    Status st = {0};
    StudyFrames fr;
    if (study_frames_open(&fr, input, xy, &st) || study_frames_body_normalise(&fr, 2, &st))
        return fail(&st);
    const Keypoints *k = &fr.meta;
    int *truth = malloc(sizeof(int) * (size_t)k->n_frames), n_classes;
    char **names;
    if (!truth || study_read_truth(labels, k, truth, &names, &n_classes, &st))
        return fail(&st);
    SeqAE m;
    MinMax scale;
    if (seqae_load(&m, &scale, model_path, &st))
        return fail(&st);
    if (m.cfg.features != k->n_features) {
        fprintf(stderr, "dump_windows: %d coordinates per frame, the model takes %d\n",
                k->n_features, m.cfg.features);
        return 1;
    }
    const int T = m.cfg.seq_len, L = m.cfg.latent, F = k->n_features;
    int *starts, n;
    Arena measure, arena = {0};
    SeqAEWork w;
    arena_init_measure(&measure);
    if (windows_make(k, 0, k->n_frames, T, stride, &starts, &n, &st) ||
        seqae_work_plan(&m, &w, &measure, 1, 0, &st) || arena_init(&arena, measure.peak, &st) ||
        seqae_work_plan(&m, &w, &arena, 1, 0, &st))
        return fail(&st);
    float *x = malloc(sizeof(float) * (size_t)T * F), *z = malloc(sizeof(float) * (size_t)L);
    int *count = calloc((size_t)n_classes, sizeof(int));
    char path[4096];
    FILE *out[3];
    const char *ext[3] = {"z", "x", "y"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s.%s", prefix, ext[i]);
        if (!(out[i] = fopen(path, "wb"))) {
            perror(path);
            return 1;
        }
    }
    if (!x || !z || !count)
        return 1;
    for (int i = 0; i < n; i++) {
        if (study_frames_window(&fr, starts[i], T, &scale, x, &st))
            return fail(&st);
        seqae_encode(&m, &w, x, 1, z);
        for (int c = 0; c < n_classes; c++)
            count[c] = 0;
        const int seq = k->seq[starts[i]];
        for (int t = starts[i]; t < starts[i] + T && t < k->n_frames && k->seq[t] == seq; t++)
            count[truth[t]]++;
        int label = 0;
        for (int c = 1; c < n_classes; c++)
            label = count[c] > count[label] ? c : label;
        fwrite(z, sizeof(float), (size_t)L, out[0]);
        fwrite(x, sizeof(float), (size_t)T * F, out[1]);
        fwrite(&label, sizeof label, 1, out[2]);
    }
    for (int i = 0; i < 3; i++)
        if (fclose(out[i])) {
            perror(prefix);
            return 1;
        }
    printf("%d windows, latent %d, window %d values, %d classes\n", n, L, T * F, n_classes);
    return 0;
}
