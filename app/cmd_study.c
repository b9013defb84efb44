/* cmd_study.c — `takt study INPUT -o OUTDIR`: the options of a time-motion study. A video or
 * image source goes through `takt pose` first (its own verb, run as is, writing
 * OUTDIR/keypoints.csv); a keypoints or labelled CSV is studied directly (app/study.c). */
#include "study.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERB "study"

static void usage(void)
{
    printf("usage: takt study INPUT -o OUTDIR [options]\n\n"
           "A time-motion study without labels: keypoints -> windows of 40 frames -> sequence\n"
           "autoencoder -> clusters of the latent windows (the actions) -> a label per frame ->\n"
           "segments -> time per action and the work cycle. INPUT is a video or images as\n"
           "`takt pose` reads them, a keypoints CSV as it writes them, or a labelled CSV\n"
           "(seq_id,frame,label,x0,y0[,z0],...), whose label column is used for evaluation only.\n\n"
           "OUTDIR gets report.json, segments.csv, timeline.png, tsne.png, elbow.png, loss.png,\n"
           "strips.png (skeletons of each action), model.tkw, and with labels confusion.png.\n\n"
           "options:\n"
           "  -o OUTDIR            output folder (created when missing)\n"
           "  --k N|auto           number of actions; auto = the elbow's knee (auto)\n"
           "  --method M           kmeans (default), dbscan, meanshift or hierarchical\n"
           "  --model lite|full    pose model for video input (full)\n"
           "  --fps F              frame rate (default: from the time_s column, else 30)\n"
           "  --names FILE         action names, one per line, in cluster order\n"
           "  --labels TRUE.csv    per-frame truth (frame,label[,seq_id]) for the evaluation\n"
           "  --ae MODEL.tkw       reuse a trained autoencoder instead of training one\n"
           "  --epochs N           training epochs (automatic: about 3000 optimiser steps;\n"
           "                       early stopping on the validation loss may end sooner)\n"
           "  --stride N           frames between window starts (automatic: every frame up to\n"
           "                       100,000 frames, then coarser so that 100,000 windows remain)\n"
           "  --train-windows N    training windows per epoch at most, counted at stride 1\n"
           "                       (20000); a longer input trains on a seeded sample of\n"
           "                       blocks of frames\n"
           "  --min-duration S     shorter segments join a neighbour (0.1 s)\n"
           "  --normalise N        body (default): each frame centred on its joints' centroid\n"
           "                       and divided by the sequence's median body spread, then\n"
           "                       min-max scaled; minmax: min-max scaling only. The baselines\n"
           "                       see the same windows. With --ae: the model's own (stored\n"
           "                       in it); a --normalise that disagrees is refused\n"
           "  --decoder-input D    repeat (default): the decoder sees the latent at every step;\n"
           "                       first: at step 0 only, zeros after (a weaker decoder)\n"
           "  --fixed-decoder      keep the decoder's GRU at its initial weights\n"
           "  --refine idec        after training, fine-tune encoder, decoder and k-means\n"
           "                       centres on reconstruction + gamma x KL(P||Q) (IDEC, Guo et\n"
           "                       al. 2017); labels = nearest refined centre (kmeans only,\n"
           "                       not with --ae). Off by default (none)\n"
           "  --gamma G            IDEC's clustering loss weight (0.1)\n"
           "  --refine-steps N     IDEC's optimiser steps at most (1000); it stops sooner\n"
           "                       when fewer than 0.1 %% of the windows change cluster\n"
           "  --augment            also train on every sequence replayed at 0.75x and 1.33x\n"
           "                       its speed (inputs trained whole, not sampled ones); 4-5x\n"
           "                       the training time\n"
           "  --xy                 x and y only of 3-D keypoints\n"
           "  --seed S             seed of everything random (0)\n"
           "  --threads N          OpenMP threads\n");
}

static int is_csv(const char *path)
{
    const size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".csv");
}

int cmd_study(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage();
        return EXIT_OK;
    }
    StudyOptions o = {.method = STUDY_KMEANS, .min_duration = 0.1};
    const char *pose_model = "full", *fps_text = NULL;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--xy")) {
            o.xy = 1;
            continue;
        }
        if (!strcmp(a, "--augment")) {
            o.augment = 1;
            continue;
        }
        if (!strcmp(a, "--fixed-decoder")) {
            o.fixed_decoder = 1;
            continue;
        }
        if (a[0] != '-' || !a[1]) {
            if (o.input)
                return app_usage_error(VERB, "one INPUT only ('%s' and '%s')", o.input, a);
            o.input = a;
            continue;
        }
        const char *v = app_option_value(VERB, argc, argv, &i);
        if (!v)
            return EXIT_USAGE;
        if (!strcmp(a, "-o")) {
            o.outdir = v;
        } else if (!strcmp(a, "--k")) {
            if (strcmp(v, "auto") &&
                (rc = app_parse_int(VERB, a, v, 1, STUDY_MAX_K, &o.k)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--method")) {
            if (!strcmp(v, "kmeans"))
                o.method = STUDY_KMEANS;
            else if (!strcmp(v, "dbscan"))
                o.method = STUDY_DBSCAN;
            else if (!strcmp(v, "meanshift"))
                o.method = STUDY_MEANSHIFT;
            else if (!strcmp(v, "hierarchical"))
                o.method = STUDY_HIERARCHICAL;
            else
                return app_usage_error(VERB, "--method '%s': expected kmeans, dbscan, meanshift "
                                       "or hierarchical", v);
        } else if (!strcmp(a, "--model")) {
            if (strcmp(v, "lite") && strcmp(v, "full"))
                return app_usage_error(VERB, "--model '%s': expected lite or full", v);
            pose_model = v;
        } else if (!strcmp(a, "--fps")) {
            if ((rc = app_parse_double(VERB, a, v, &o.fps)) != EXIT_OK)
                return rc;
            if (!(o.fps > 0 && o.fps <= 1000))
                return app_usage_error(VERB, "--fps '%s': expected a rate above 0 and up to 1000", v);
            fps_text = v;
        } else if (!strcmp(a, "--names")) {
            o.names_path = v;
        } else if (!strcmp(a, "--labels")) {
            o.labels_path = v;
        } else if (!strcmp(a, "--ae")) {
            o.ae_path = v;
        } else if (!strcmp(a, "--decoder-input")) {
            if ((o.decoder_input = seqae_decoder_input_parse(v)) < 0)
                return app_usage_error(VERB, "--decoder-input '%s': expected repeat or first", v);
        } else if (!strcmp(a, "--refine")) {
            if (strcmp(v, "idec") && strcmp(v, "none"))
                return app_usage_error(VERB, "--refine '%s': expected idec or none", v);
            o.refine_idec = !strcmp(v, "idec");
        } else if (!strcmp(a, "--gamma")) {
            if ((rc = app_parse_double(VERB, a, v, &o.idec_gamma)) != EXIT_OK)
                return rc;
            if (!(o.idec_gamma > 0 && o.idec_gamma <= 1e6))
                return app_usage_error(VERB, "--gamma '%s': expected a weight above 0", v);
        } else if (!strcmp(a, "--refine-steps")) {
            if ((rc = app_parse_int(VERB, a, v, 1, 10000000, &o.idec_steps)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--epochs")) {
            if ((rc = app_parse_int(VERB, a, v, 1, 100000, &o.epochs)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--stride")) {
            if ((rc = app_parse_int(VERB, a, v, 1, 1 << 20, &o.stride)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--train-windows")) {
            /* 7: one window in each of the 7 training blocks a validation block needs */
            if ((rc = app_parse_int(VERB, a, v, 7, 1 << 24, &o.train_windows)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--normalise")) {
            if (!strcmp(v, "body"))
                o.normalise = STUDY_NORMALISE_BODY;
            else if (!strcmp(v, "minmax"))
                o.normalise = STUDY_NORMALISE_MINMAX;
            else
                return app_usage_error(VERB, "--normalise '%s': expected body or minmax", v);
            o.normalise_given = 1;
        } else if (!strcmp(a, "--min-duration")) {
            if ((rc = app_parse_double(VERB, a, v, &o.min_duration)) != EXIT_OK)
                return rc;
            if (!(o.min_duration >= 0 && o.min_duration < 1e6))
                return app_usage_error(VERB, "--min-duration '%s': expected seconds >= 0", v);
        } else if (!strcmp(a, "--seed")) {
            if ((rc = app_parse_seed(VERB, v, &o.seed)) != EXIT_OK)
                return rc;
        } else if (!strcmp(a, "--threads")) {
            if ((rc = app_parse_int(VERB, a, v, 1, 1024, &o.threads)) != EXIT_OK)
                return rc;
        } else {
            return app_usage_error(VERB, "unknown option '%s'", a);
        }
    }
    if (!o.input)
        return app_usage_error(VERB, "INPUT missing");
    if (!o.outdir)
        return app_usage_error(VERB, "-o OUTDIR missing");
    if ((o.idec_gamma > 0 || o.idec_steps) && !o.refine_idec)
        return app_usage_error(VERB, "--gamma and --refine-steps are --refine idec's; give "
                               "--refine idec");
    if (o.refine_idec && o.ae_path)
        return app_usage_error(VERB, "--refine idec fine-tunes the autoencoder the study "
                               "trains: not with --ae");
    if (o.refine_idec && o.method != STUDY_KMEANS)
        return app_usage_error(VERB, "--refine idec needs --method kmeans");
    if (o.threads)
        omp_set_num_threads(o.threads);

    Status st = {0};
    char keypoints[4200] = "";
    if (!is_csv(o.input)) {
        /* Video: the pose verb as the user would run it, into the study's folder. */
        if (mkdir(o.outdir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "takt: %s: cannot create: %s\n", o.outdir, strerror(errno));
            return EXIT_RUNTIME;
        }
        snprintf(keypoints, sizeof keypoints, "%s/keypoints.csv", o.outdir);
        char *pose_argv[9] = {"pose", (char *)o.input, "-o", keypoints, "--model",
                              (char *)pose_model, NULL, NULL, NULL};
        int pose_argc = 6;
        if (fps_text) {
            pose_argv[pose_argc++] = "--fps";
            pose_argv[pose_argc++] = (char *)fps_text;
        }
        rc = cmd_pose(pose_argc, pose_argv);
        if (rc != EXIT_OK)
            return rc;
        o.input = keypoints;
    }
    if (study_run(&o, &st) != TK_OK) {
        if (keypoints[0])
            unlink(keypoints);
        return app_fail(&st);
    }
    return EXIT_OK;
}
