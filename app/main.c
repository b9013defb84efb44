/* main.c — `takt`: dispatches the verb. Exit codes: 0 ok, 1 runtime error, 2 usage error. */
#include "app.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Verb;

static const Verb verbs[] = {
    {"version", cmd_version, "print the version, the SIMD level in use and the thread count"},
    {"weights", cmd_weights, "inspect .tkw weight files (takt weights info FILE)"},
    {"bench", cmd_bench, "run benchmarks beside their anchors (takt bench [NAME...] [--json])"},
    {"train", cmd_train, "train the keypoint sequence autoencoder (takt train KEYPOINTS.csv -o MODEL.tkw)"},
    {"embed", cmd_embed, "latent vector per window (takt embed MODEL.tkw KEYPOINTS.csv -o LATENT.csv)"},
    {"cluster", cmd_cluster, "cluster a CSV's rows (takt cluster DATA.csv --method M -o LABELS.csv)"},
    {"tsne", cmd_tsne, "2-D t-SNE map of a CSV's rows (takt tsne DATA.csv -o EMBEDDING.csv)"},
    {"eval", cmd_eval, "agreement of predicted and true labels (takt eval PRED.csv TRUE.csv)"},
    {"pose", cmd_pose, "33 MediaPipe keypoints per frame of a video or images (takt pose IN -o K.csv)"},
    {"mtm", cmd_mtm, "MTM-2 motion elements from joint angles (takt mtm fit|compare|noise|label|run)"},
    {"classify", cmd_classify, "skeleton-sequence LSTM classifiers (takt classify train|predict|grid)"},
    {"study", cmd_study, "time-motion study of a video or keypoints (takt study INPUT -o OUTDIR)"},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "takt %s — video of people at work into a time-motion study\n\n"
            "usage: takt <verb> [options]   (takt <verb> --help for a verb's options)\n\n"
            "verbs:\n",
            TAKT_VERSION);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nenvironment: OMP_NUM_THREADS=N threads, TAKT_SIMD=scalar|avx2|avx512 lowers the SIMD level\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "takt: unknown verb '%s' (takt --help lists them)\n", argv[1]);
    return EXIT_USAGE;
}
