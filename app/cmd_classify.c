/* cmd_classify.c — `takt classify train|predict|grid|merge`: skeleton-sequence classifiers
 * (HARNets' LSTM) on BVH class folders, BVH index CSVs, labelled CSVs, or keypoints CSVs and
 * videos cut by segments, with progress, a model file written after every epoch, curves and a
 * confusion matrix, HARNets' layers x batch table, and ensembles trained in parts merged. */
#include "app.h"
#include "classify.h"
#include "../cluster/cluster.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Set by train and grid before any training runs; SIGINT/SIGTERM raise it. */
static const volatile sig_atomic_t *stop_flag;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: takt classify train DATA -o MODEL.tkw [options]\n"
            "       takt classify predict MODEL.tkw FILE... [--json] [--model lite|full|heavy]\n"
            "                       [--tta-rotate DEG] [--tta-crop C]   (the model's own: unset)\n"
            "       takt classify grid DATA -o PREFIX [options]   (PREFIX.csv, PREFIX.md)\n"
            "       takt classify merge A.tkw B.tkw... -o OUT.tkw   (one ensemble of their\n"
            "                       members: models trained on the same data with other seeds)\n\n"
            "DATA: a folder with one sub-folder of .bvh files per class; an index CSV\n"
            "(seq_id,file,label[,subject]) of BVH files; a labelled CSV (seq_id,frame,label,x0,...);\n"
            "or a `takt pose` keypoints CSV or a video (anything `takt pose` reads) with\n"
            "--segments. predict takes .bvh files, labelled CSVs (one prediction per seq_id),\n"
            "keypoints CSVs and videos (one per file).\n\n"
            "options:\n"
            "  -o PATH              model file (train) or output prefix (grid)\n"
            "  --layers L           LSTM layers, 1..4 (1)\n"
            "  --hidden H           LSTM hidden size (100)\n"
            "  --batch B            sequences per step (8)\n"
            "  --time-steps T       steps every sequence is fitted to (200)\n"
            "  --crop               first T frames (last repeated) instead of resampling\n"
            "  --epochs E           at most E epochs (300)\n"
            "  --patience P         stop after P epochs without a better validation score (40, 0 = never)\n"
            "  --lr X               Adam learning rate (1e-3)\n"
            "  --clip X             gradient-norm clipping (5, 0 = off)\n"
            "  --weight-decay X     Adam L2 weight decay (0)\n"
            "  --val F              stratified random validation share (0.2)\n"
            "  --split FILE         seq_ids listed in FILE validate (a subject split)\n"
            "  --split-subjects even  odd subjects train, even ones validate\n"
            "  --val-subjects LIST  these subjects validate, e.g. \"1 3 4 6 10\"\n"
            "  --features KIND      BVH features: positions, channels, rotations,\n"
            "                       positions+rotations (positions); keypoints or video with\n"
            "                       --segments: keypoints (x, y, z; also 'positions'), landmarks\n"
            "                       (x, y, z, visibility), backbone (video only: the landmark\n"
            "                       model's pooled backbone features, 288 per frame)\n"
            "  --model M, --weights DIR, --size WxH, --fps F, --no-smooth\n"
            "                       the pose pipeline for video input, as for `takt pose`\n"
            "  --bvh-dir DIR        where an index CSV's BVH files are (the index's folder)\n"
            "  --segments FILE      DATA is a keypoints CSV or a video cut by FILE\n"
            "                       (start_frame,end_frame,label)\n"
            "  --xy                 keep x, y of 3-D coordinates\n"
            "  --center J           subtract joint J's position from every joint per frame\n"
            "                       (labelled CSVs, keypoints and BVH positions)\n"
            "  --torso J            divide coordinates by the mean distance of joint J to the\n"
            "                       --center joint over the sequence (body-size normalisation)\n"
            "  --velocity           append each feature's change since the previous frame\n"
            "  --acceleration       --velocity, then the velocities' change appended too\n"
            "  --view A,B           turn each sequence about the vertical axis so that joint A\n"
            "                       -> joint B (e.g. left -> right hip) points along +x\n"
            "  --bones LIST         append the unit direction of each joint pair A-B of LIST\n"
            "                       (\"19-2 0-2 ...\"): body-part orientations without limb lengths\n"
            "  --distances          append the distance between every pair of joints\n"
            "  --no-positions       leave the joint coordinates out (bones / distances only)\n"
            "  --ensemble N         N models from seeds S..S+N-1, mean probabilities (1)\n"
            "  --inner-folds K      choose each model's epoch on training subjects only: the\n"
            "                       training subjects (sorted) are dealt into K folds, model k\n"
            "                       learns from the others and keeps its best epoch on fold\n"
            "                       k mod K; validation sequences (--val-subjects, ...) are then\n"
            "                       only reported, never used to choose (0 = off; with\n"
            "                       --ensemble K every training subject is learnt from K-1 times)\n"
            "  --refit              with --inner-folds: then train every model again on all\n"
            "                       training subjects for the median of the epochs the inner\n"
            "                       folds chose, keeping its last epoch (about twice the time)\n"
            "  --dropout P          dropout after every LSTM layer in training (0)\n"
            "  --label-smoothing E  train on targets (1-E) one-hot + E/classes (0)\n"
            "  --mixup A            blend every training batch with a shuffled copy of itself\n"
            "                       by lambda ~ Beta(A, A), the loss alike (0 = off; A <= 1)\n"
            "  --ema D              score, keep and save the moving average of the weights,\n"
            "                       avg = D avg + (1-D) w after every step (0 = off)\n"
            "  --pool last|mean|pyramid  fc reads the last step's output, the mean over the\n"
            "                       steps, or the last step's output followed by the means over\n"
            "                       the whole sequence, its halves and its quarters (last)\n"
            "  --bidirectional      both directions; fc reads both final states (or means)\n"
            "  --augment-rotate DEG training sequences turned by U(-DEG, DEG) about the vertical\n"
            "                       axis through the --center joint (0 = off)\n"
            "  --augment-scale S    training sequences scaled by U(1-S, 1+S) (0)\n"
            "  --augment-crop C     training sequences cut to a random run of >= (1-C) of\n"
            "                       their frames, i.e. a change of speed after fitting to T (0)\n"
            "  --augment-mirror LIST  half the training sequences mirrored: x negated and\n"
            "                       the joints of each pair A-B of LIST (left-right) swapped\n"
            "  --tta-rotate DEG     test-time views: probabilities also averaged over each\n"
            "                       sequence turned by -DEG and +DEG about the vertical axis\n"
            "                       through the --center joint (0 = off; kept in the model,\n"
            "                       used by predict and by the accuracies reported)\n"
            "  --tta-crop C         test-time views: also over the first and the last (1-C)\n"
            "                       of the frames (0 = off)\n"
            "  --subjects LIST      keep only these subjects' sequences (to tune within the\n"
            "                       training subjects of a cross-subject split)\n"
            "  --seed S             initial weights, split and batch order (0)\n"
            "  --threads N          OpenMP threads\n"
            "  --curves DIR         accuracy.png, loss.png, confusion.png (validation) in DIR\n"
            "  --json               last line {\"train_accuracy\":...,\"val_accuracy\":...,\"epochs\":...}\n");
}

typedef struct {
    ClfConfig cfg;
    const char *data, *output, *split, *val_subjects, *features, *bvh_dir, *segments, *curves;
    const char *subjects;
    PoseSourceOptions pose;
    double val;
    int even_subjects, xy, json, threads;
} Options;

/* ---------------------------------------------------------------- data */

/* The first line of a text file (its CSV header), or "" when unreadable. */
static void first_line(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    if (!fgets(buf, (int)size, fp))
        buf[0] = '\0';
    fclose(fp);
}

static int has_column(const char *header, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = header; (p = strstr(p, name)) != NULL; p += n)
        if ((p == header || p[-1] == ',') && (p[n] == ',' || p[n] == '\n' || p[n] == '\r' ||
                                               !p[n]))
            return 1;
    return 0;
}

static int bvh_kind(const char *name, SeqBvhFeatures *kind)
{
    static const struct {
        const char *name;
        SeqBvhFeatures kind;
    } kinds[] = {{"positions", SEQ_BVH_POSITIONS}, {"channels", SEQ_BVH_CHANNELS},
                 {"rotations", SEQ_BVH_ROTATIONS},
                 {"positions_rotations", SEQ_BVH_POSITIONS_ROTATIONS},
                 {"positions+rotations", SEQ_BVH_POSITIONS_ROTATIONS}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(name, kinds[i].name)) {
            *kind = kinds[i].kind;
            return 1;
        }
    return 0;
}

/* Parses a list of whole numbers separated by spaces or commas into v[max]; the count, or -1
 * when the list is empty or not numbers. */
static int parse_int_list(const char *list, long *v, int max)
{
    int n = 0;
    const char *p = list;
    while (*p == ' ' || *p == ',')
        p++;
    while (*p) {
        char *end;
        const long x = strtol(p, &end, 10);
        if (end == p || n == max)
            return -1;
        v[n++] = x;
        p = end;
        while (*p == ' ' || *p == ',')
            p++;
    }
    return n ? n : -1;
}

/* Drops the sequences of subjects not in list (--subjects), e.g. to tune within the training
 * subjects of a cross-subject split. */
static StatusCode keep_subjects(SeqSet *s, const char *list, Status *st)
{
    long subj[256];
    const int n = parse_int_list(list, subj, 256);
    if (n < 0)
        return status_fail(st, TK_EINVAL, "--subjects: '%s' is not a list of numbers", list);
    int kept = 0;
    for (int i = 0; i < s->n; i++) {
        Sequence *q = &s->seqs[i];
        if (q->subject < 0)
            return status_fail(st, TK_EINVAL, "--subjects: sequence %d has no subject",
                               q->seq_id);
        int keep = 0;
        for (int k = 0; k < n; k++)
            keep |= q->subject == subj[k];
        if (keep) {
            s->seqs[kept++] = *q;
        } else {
            free(q->x);
            free(q->source);
        }
    }
    s->n = kept;
    return kept ? TK_OK : status_fail(st, TK_EINVAL, "--subjects: no sequence of '%s'", list);
}

static int is_csv(const char *path)
{
    const size_t n = strlen(path);
    return n > 4 && !strcasecmp(path + n - 4, ".csv");
}

static int keypoint_columns(const char *kind, int xy)
{
    return !strcmp(kind, "landmarks") ? SEQ_KEYPOINTS_VISIBILITY : xy ? SEQ_KEYPOINTS_XY : 0;
}

/* A video through the pose pipeline, its per-frame features cut by --segments. */
static StatusCode load_video(const Options *o, const char *kind, SeqSet *s, Status *st)
{
    float *x;
    int *frame, n, F, bad;
    fprintf(stderr, "takt: classify: %s: running the pose pipeline for %s features\n", o->data,
            kind);
    StatusCode rc = clf_video_features(o->data, kind, o->xy, &o->pose, &x, &frame, &n, &F, &bad,
                                       st);
    if (rc)
        return rc;
    if (bad)
        fprintf(stderr, "takt: %s: %d unreadable frames left out\n", o->data, bad);
    rc = seqset_cut_frames(s, x, frame, n, F, o->segments, o->data, st);
    free(x);
    free(frame);
    return rc;
}

/* Loads DATA as the options say; features gets the model's feature kind. */
static StatusCode load_data(const Options *o, SeqSet *s, char *features, size_t fsize,
                            Status *st)
{
    SeqBvhFeatures kind = SEQ_BVH_POSITIONS;
    bvh_kind(o->features, &kind);
    char bvh_name[CLF_FEATURES_MAX];
    snprintf(bvh_name, sizeof bvh_name, "bvh_%s",
             kind == SEQ_BVH_POSITIONS_ROTATIONS ? "positions_rotations" : o->features);
    struct stat sb;
    if (stat(o->data, &sb))
        return status_fail(st, TK_EIO, "%s: cannot open: %s", o->data, strerror(errno));
    if (!o->segments && !bvh_kind(o->features, &kind))
        return status_fail(st, TK_EINVAL, "%s: %s features need a video or keypoints CSV with "
                                          "--segments", o->data, o->features);
    StatusCode rc;
    if (S_ISDIR(sb.st_mode)) {
        snprintf(features, fsize, "%s", bvh_name);
        rc = seqset_load_bvh_folder(s, o->data, kind, st);
    } else if (o->segments) {
        /* Pose features: "positions" (the default) means the keypoints' coordinates. */
        const char *pose_kind = !strcmp(o->features, "positions") ? "keypoints" : o->features;
        snprintf(features, fsize, "%s", pose_kind);
        if (strcmp(pose_kind, "keypoints") && strcmp(pose_kind, "landmarks") &&
            strcmp(pose_kind, "backbone"))
            rc = status_fail(st, TK_EINVAL, "--segments: %s features are for BVH files",
                             pose_kind);
        else if (is_csv(o->data) && !strcmp(pose_kind, "backbone"))
            rc = status_fail(st, TK_EINVAL, "backbone features come from a video, not a "
                                            "keypoints CSV");
        else if (is_csv(o->data))
            rc = seqset_load_keypoints(s, o->data, o->segments, keypoint_columns(pose_kind, o->xy),
                                       st);
        else
            rc = load_video(o, pose_kind, s, st);
    } else {
        char header[4096];
        first_line(o->data, header, sizeof header);
        if (has_column(header, "file")) {
            snprintf(features, fsize, "%s", bvh_name);
            rc = seqset_load_bvh_index(s, o->data, o->bvh_dir, kind, st);
        } else {
            snprintf(features, fsize, "csv");
            rc = seqset_load_labelled_csv(s, o->data, st);
        }
    }
    if (rc)
        return rc;
    if (o->xy && !strcmp(features, "csv"))
        rc = clf_keep_xy(s, st);
    else if (o->xy && strcmp(features, "keypoints"))
        rc = status_fail(st, TK_EINVAL, "--xy is for keypoints, not %s features", features);
    if (!rc && o->subjects)
        rc = keep_subjects(s, o->subjects, st);
    if (rc) {
        app_status_prefix(st, o->data);
        seqset_free(s);
    }
    return rc;
}

static StatusCode parse_subjects(const SeqSet *s, const char *list, unsigned char *is_val,
                                 Status *st)
{
    long subj[256];
    const int n = parse_int_list(list, subj, 256);
    if (n < 0)
        return status_fail(st, TK_EINVAL, "--val-subjects: '%s' is not a list of numbers",
                           list);
    for (int i = 0; i < s->n; i++) {
        if (s->seqs[i].subject < 0)
            return status_fail(st, TK_EINVAL, "--val-subjects: sequence %d has no subject",
                               s->seqs[i].seq_id);
        is_val[i] = 0;
        for (int k = 0; k < n; k++)
            is_val[i] |= s->seqs[i].subject == subj[k];
    }
    return TK_OK;
}

static StatusCode make_split(const Options *o, const SeqSet *s, unsigned char *is_val,
                             Status *st)
{
    if (o->split)
        return seqset_split_file(s, o->split, is_val, st);
    if (o->even_subjects)
        return seqset_split_even_subjects(s, is_val, st);
    if (o->val_subjects)
        return parse_subjects(s, o->val_subjects, is_val, st);
    if (o->val <= 0) {
        memset(is_val, 0, (size_t)s->n);
        return TK_OK;
    }
    int *y = malloc(sizeof(int) * (size_t)s->n);
    if (!y)
        return status_fail(st, TK_ENOMEM, "cannot allocate the split");
    for (int i = 0; i < s->n; i++)
        y[i] = s->seqs[i].label;
    StatusCode rc = split_stratified(y, s->n, o->val, o->cfg.seed, is_val, st);
    free(y);
    return rc;
}

/* ---------------------------------------------------------------- options */

static int parse_options(const char *verb, int argc, char **argv, int first, Options *o,
                         const char **positional, int max_positional, int *n_positional)
{
    *n_positional = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int rc = EXIT_OK;
        double d;
        if (!strcmp(a, "-o") || !strcmp(a, "--split") || !strcmp(a, "--val-subjects") ||
            !strcmp(a, "--features") || !strcmp(a, "--bvh-dir") || !strcmp(a, "--segments") ||
            !strcmp(a, "--curves") || !strcmp(a, "--split-subjects") ||
            !strcmp(a, "--subjects") || !strcmp(a, "--pool") || !strcmp(a, "--view") ||
            !strcmp(a, "--bones") || !strcmp(a, "--augment-mirror")) {
            const char *v = app_option_value(verb, argc, argv, &i);
            if (!v)
                return EXIT_USAGE;
            if (!strcmp(a, "-o")) o->output = v;
            else if (!strcmp(a, "--split")) o->split = v;
            else if (!strcmp(a, "--val-subjects")) o->val_subjects = v;
            else if (!strcmp(a, "--bvh-dir")) o->bvh_dir = v;
            else if (!strcmp(a, "--segments")) o->segments = v;
            else if (!strcmp(a, "--curves")) o->curves = v;
            else if (!strcmp(a, "--subjects")) o->subjects = v;
            else if (!strcmp(a, "--view")) {
                ClfBody *b = &o->cfg.body;
                char *end;
                b->view = 1;
                b->view_from = (int)strtol(v, &end, 10);
                b->view_to = end != v && *end == ',' ? (int)strtol(end + 1, &end, 10) : -1;
                if (*end || b->view_from < 0 || b->view_to < 0)
                    return app_usage_error(verb, "--view takes two joints A,B, not '%s'", v);
            } else if (!strcmp(a, "--augment-mirror")) {
                Status mst = {0};
                ClfAugment *g = &o->cfg.augment;
                if (clf_parse_joint_pairs(v, "mirror", g->mirror, &g->n_mirror, &mst))
                    return app_usage_error(verb, "--augment-%s", mst.msg);
            } else if (!strcmp(a, "--bones")) {
                Status bst = {0};
                if (clf_parse_joint_pairs(v, "bones", o->cfg.body.bones, &o->cfg.body.n_bones,
                                          &bst))
                    return app_usage_error(verb, "--%s", bst.msg);
            }
            else if (!strcmp(a, "--pool")) {
                if (strcmp(v, "last") && strcmp(v, "mean") && strcmp(v, "pyramid"))
                    return app_usage_error(verb, "--pool takes last, mean or pyramid, not '%s'",
                                           v);
                o->cfg.pool_mean = !strcmp(v, "mean");
                o->cfg.pool_pyramid = !strcmp(v, "pyramid");
            } else if (!strcmp(a, "--split-subjects")) {
                if (strcmp(v, "even"))
                    return app_usage_error(verb, "--split-subjects takes 'even', not '%s'", v);
                o->even_subjects = 1;
            } else {
                SeqBvhFeatures k;
                if (!bvh_kind(v, &k) && strcmp(v, "keypoints") && strcmp(v, "landmarks") &&
                    strcmp(v, "backbone"))
                    return app_usage_error(verb, "--features: unknown kind '%s' (positions, "
                                                 "channels, rotations, positions+rotations, "
                                                 "keypoints, landmarks, backbone)", v);
                o->features = v;
            }
            continue;
        }
        int matched;
        if ((rc = pose_source_option(verb, "--model", argc, argv, &i, &o->pose, &matched)) !=
            EXIT_OK)
            return rc;
        if (matched)
            continue;
        const char *v = NULL;
        if (!strcmp(a, "--layers") || !strcmp(a, "--hidden") || !strcmp(a, "--batch") ||
            !strcmp(a, "--time-steps") || !strcmp(a, "--epochs") || !strcmp(a, "--patience") ||
            !strcmp(a, "--threads") || !strcmp(a, "--lr") || !strcmp(a, "--clip") ||
            !strcmp(a, "--val") || !strcmp(a, "--seed") || !strcmp(a, "--center") ||
            !strcmp(a, "--weight-decay") || !strcmp(a, "--torso") || !strcmp(a, "--dropout") ||
            !strcmp(a, "--augment-rotate") || !strcmp(a, "--augment-scale") ||
            !strcmp(a, "--augment-crop") || !strcmp(a, "--ensemble") ||
            !strcmp(a, "--inner-folds") || !strcmp(a, "--tta-rotate") ||
            !strcmp(a, "--tta-crop") || !strcmp(a, "--label-smoothing") ||
            !strcmp(a, "--ema") || !strcmp(a, "--mixup")) {
            if (!(v = app_option_value(verb, argc, argv, &i)))
                return EXIT_USAGE;
        }
        if (!strcmp(a, "--layers")) rc = app_parse_int(verb, a, v, 1, RNN_MAX_LAYERS, &o->cfg.layers);
        else if (!strcmp(a, "--hidden")) rc = app_parse_int(verb, a, v, 1, 4096, &o->cfg.hidden);
        else if (!strcmp(a, "--batch")) rc = app_parse_int(verb, a, v, 1, 4096, &o->cfg.batch);
        else if (!strcmp(a, "--time-steps")) rc = app_parse_int(verb, a, v, 1, 100000, &o->cfg.time_steps);
        else if (!strcmp(a, "--epochs")) rc = app_parse_int(verb, a, v, 1, 1000000, &o->cfg.epochs);
        else if (!strcmp(a, "--patience")) rc = app_parse_int(verb, a, v, 0, 1000000, &o->cfg.patience);
        else if (!strcmp(a, "--threads")) rc = app_parse_int(verb, a, v, 1, 1024, &o->threads);
        else if (!strcmp(a, "--center")) rc = app_parse_int(verb, a, v, 0, 1 << 20, &o->cfg.center);
        else if (!strcmp(a, "--torso")) rc = app_parse_int(verb, a, v, 0, 1 << 20, &o->cfg.torso);
        else if (!strcmp(a, "--ensemble"))
            rc = app_parse_int(verb, a, v, 1, CLF_ENSEMBLE_MAX, &o->cfg.ensemble);
        else if (!strcmp(a, "--inner-folds"))
            rc = app_parse_int(verb, a, v, 0, 1000, &o->cfg.inner_folds);
        else if (!strcmp(a, "--seed")) rc = app_parse_seed(verb, v, &o->cfg.seed);
        else if (v) {
            rc = app_parse_double(verb, a, v, &d);
            if (rc == EXIT_OK) {
                const int unit = !strcmp(a, "--val") || !strcmp(a, "--dropout") ||
                                 !strcmp(a, "--augment-scale") || !strcmp(a, "--augment-crop") ||
                                 !strcmp(a, "--tta-crop") || !strcmp(a, "--label-smoothing") ||
                                 !strcmp(a, "--ema");
                const int bad = unit ? !(d >= 0 && d < 1)
                                : !strcmp(a, "--lr") ? !(d > 0)
                                : !strcmp(a, "--augment-rotate") || !strcmp(a, "--tta-rotate")
                                    ? !(d >= 0 && d <= 180)
                                : !(d >= 0);
                if (bad)
                    return app_usage_error(verb, "%s: %s is out of range", a, v);
                if (!strcmp(a, "--lr")) o->cfg.lr = (float)d;
                else if (!strcmp(a, "--clip")) o->cfg.clip = (float)d;
                else if (!strcmp(a, "--weight-decay")) o->cfg.weight_decay = (float)d;
                else if (!strcmp(a, "--dropout")) o->cfg.dropout = (float)d;
                else if (!strcmp(a, "--label-smoothing")) o->cfg.label_smoothing = (float)d;
                else if (!strcmp(a, "--ema")) o->cfg.ema = (float)d;
                else if (!strcmp(a, "--mixup")) o->cfg.mixup = (float)d;
                else if (!strcmp(a, "--augment-rotate")) o->cfg.augment.rotate_deg = (float)d;
                else if (!strcmp(a, "--augment-scale")) o->cfg.augment.scale = (float)d;
                else if (!strcmp(a, "--augment-crop")) o->cfg.augment.crop = (float)d;
                else if (!strcmp(a, "--tta-rotate")) o->cfg.tta.rotate_deg = (float)d;
                else if (!strcmp(a, "--tta-crop")) o->cfg.tta.crop = (float)d;
                else o->val = d;
            }
        } else if (!strcmp(a, "--xy")) o->xy = 1;
        else if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--crop")) o->cfg.fit = SEQ_FIT_CROP;
        else if (!strcmp(a, "--velocity")) o->cfg.velocity += !o->cfg.velocity;
        else if (!strcmp(a, "--acceleration")) o->cfg.velocity = 2;
        else if (!strcmp(a, "--distances")) o->cfg.body.distances = 1;
        else if (!strcmp(a, "--bidirectional")) o->cfg.bidirectional = 1;
        else if (!strcmp(a, "--refit")) o->cfg.refit = 1;
        else if (!strcmp(a, "--no-positions")) o->cfg.body.positions_off = 1;
        else if (a[0] == '-' && a[1])
            return app_usage_error(verb, "unknown option '%s'", a);
        else if (*n_positional < max_positional)
            positional[(*n_positional)++] = a;
        else
            return app_usage_error(verb, "unexpected argument '%s'", a);
        if (rc != EXIT_OK)
            return rc;
    }
    if (o->threads)
        omp_set_num_threads(o->threads);
    return EXIT_OK;
}

static void default_options(Options *o)
{
    memset(o, 0, sizeof *o);
    o->cfg = clf_default_config();
    o->features = "positions";
    o->val = 0.2;
}

/* ---------------------------------------------------------------- train */

typedef struct {
    Progress progress;
    int started, member, refit;
    const char *label;
    char member_label[96];
} View;

static void on_epoch(void *user, const ClfHistory *h, int total)
{
    View *v = user;
    if (v->started && (h->member != v->member || (h->refit_epochs > 0) != v->refit)) {
        progress_end(&v->progress, NULL);
        v->started = 0;
    }
    if (!v->started) {
        /* One bar per member of an ensemble: each stops early on its own. */
        v->member = h->member;
        v->refit = h->refit_epochs > 0;
        if (h->members > 1)
            snprintf(v->member_label, sizeof v->member_label, "%s, model %d of %d%s", v->label,
                     h->member + 1, h->members, h->refit_epochs ? ", refit" : "");
        else
            snprintf(v->member_label, sizeof v->member_label, "%s%s", v->label,
                     v->refit ? ", refit" : "");
        progress_start(&v->progress, v->member_label, total, "epochs");
        v->started = 1;
    }
    const int e = h->epochs - 1;
    char note[160];
    snprintf(note, sizeof note, "loss %.4f acc %.3f  %s loss %.4f acc %.3f  best epoch %d",
             h->train_loss[e], h->train_acc[e], h->inner_folds ? "held-out" : "val",
             h->val_loss[e], h->val_acc[e], h->best_epoch);
    progress_update(&v->progress, h->epochs, note);
}

static StatusCode write_curves(const char *dir, const ClfModel *m, const SeqSet *s,
                               const ClfHistory *h, Status *st)
{
    if (mkdir(dir, 0777) && errno != EEXIST)
        return status_fail(st, TK_EIO, "%s: cannot create: %s", dir, strerror(errno));
    const int n = h->epochs, C = m->net[0].cfg.classes;
    double *buf = malloc(sizeof(double) * ((size_t)5 * (n ? n : 1) + (size_t)C * C));
    if (!buf)
        return status_fail(st, TK_ENOMEM, "%s: cannot allocate the plots", dir);
    double *x = buf, *ta = x + n, *va = ta + n, *tl = va + n, *vl = tl + n, *cm = vl + n;
    for (int e = 0; e < n; e++) {
        x[e] = e + 1;
        ta[e] = h->train_acc[e];
        va[e] = h->val_acc[e];
        tl[e] = h->train_loss[e];
        vl[e] = h->val_loss[e];
    }
    char path[4200];
    /* The second curve is of what chose the epoch: with inner folds, the last model's
     * held-out training subjects. A refit member has none (it trains on every training
     * subject for a fixed count of epochs), so its plots show training alone. */
    const char *chooser = h->inner_folds ? "held-out subjects" : "validation";
    const int curves = (h->n_val || h->inner_folds) && !h->refit_epochs ? 2 : 1;
    const PlotSeries acc[2] = {{"training", x, ta, n, 0}, {chooser, x, va, n, 0}};
    LinePlotOptions lo = {.style = {0, 0, "LSTM classifier accuracy", "epoch", "accuracy"},
                          .mark_x = h->best_epoch, .mark_label = "kept"};
    snprintf(path, sizeof path, "%s/accuracy.png", dir);
    StatusCode rc = plot_lines(path, &lo, acc, curves, st);
    const PlotSeries loss[2] = {{"training", x, tl, n, 0}, {chooser, x, vl, n, 0}};
    lo.style.title = "LSTM classifier loss (cross-entropy)";
    lo.style.y_label = "loss";
    lo.log_y = 1;
    snprintf(path, sizeof path, "%s/loss.png", dir);
    if (!rc)
        rc = plot_lines(path, &lo, loss, curves, st);
    if (!rc && h->n_val) {
        memset(cm, 0, sizeof(double) * (size_t)C * C);
        for (int i = 0; i < h->n_val; i++)
            cm[(size_t)s->seqs[h->val_index[i]].label * C + h->val_pred[i]] += 1;
        HeatmapOptions ho = {.style = {C > 12 ? 1200 : 0, C > 12 ? 1000 : 0,
                                       "confusion matrix (validation)", "predicted", "true"},
                             .row_names = (const char *const *)m->class_names,
                             .col_names = (const char *const *)m->class_names,
                             .show_values = 1, .normalize_rows = 1};
        snprintf(path, sizeof path, "%s/confusion.png", dir);
        rc = plot_heatmap(path, &ho, cm, C, C, st);
    }
    free(buf);
    return rc;
}

/* Loads, splits and trains as o says; the caller frees m and h. */
static StatusCode run_training(const Options *o, const char *label, const char *checkpoint,
                               SeqSet *s, ClfModel *m, ClfHistory *h, int *stopped, Status *st)
{
    unsigned char *is_val = malloc((size_t)(s->n ? s->n : 1));
    if (!is_val)
        return status_fail(st, TK_ENOMEM, "cannot allocate the split");
    StatusCode rc = make_split(o, s, is_val, st);
    if (rc) {
        free(is_val);
        return rc;
    }
    View view = {.label = label};
    ClfIo io = {.checkpoint = checkpoint, .stop = stop_flag, .callback = on_epoch,
                .user = &view};
    rc = clf_train(m, &o->cfg, s, is_val, o->features, o->xy, &io, h, stopped, st);
    if (view.started)
        progress_end(&view.progress, *stopped ? "interrupted" : NULL);
    free(is_val);
    return rc;
}

/* The common start of `train` and `grid`: options, DATA's sequences and feature kind (into the
 * caller's features), the pose model of video features, the stop flag. Returns EXIT_OK or the
 * exit code to return. */
static int load_job(const char *verb, const char *needs, int argc, char **argv, Options *o,
                    SeqSet *s, char features[CLF_FEATURES_MAX])
{
    default_options(o);
    const char *pos[1] = {NULL};
    int npos, rc = parse_options(verb, argc, argv, 1, o, pos, 1, &npos);
    if (rc)
        return rc;
    if (npos != 1 || !o->output)
        return app_usage_error(verb, "%s", needs);
    o->data = pos[0];
    Status st = {0};
    if (load_data(o, s, features, CLF_FEATURES_MAX, &st))
        return app_fail(&st);
    o->features = features;
    if (o->segments && !is_csv(o->data)) /* features of a video: remember which pose model */
        o->cfg.pose_model = o->pose.model ? o->pose.model : "full";
    stop_flag = app_stop_on_signals();
    return EXIT_OK;
}

static int classify_train(int argc, char **argv)
{
    Options o;
    SeqSet s;
    char features[CLF_FEATURES_MAX];
    int rc = load_job("classify train", "needs DATA and -o MODEL.tkw", argc, argv, &o, &s, features);
    if (rc)
        return rc;
    Status st = {0};
    ClfModel m;
    ClfHistory h;
    int stopped = 0;
    const double t0 = omp_get_wtime();
    if (run_training(&o, "classify train", o.output, &s, &m, &h, &stopped, &st)) {
        app_status_prefix(&st, o.data);
        seqset_free(&s);
        return app_fail(&st);
    }
    const double secs = omp_get_wtime() - t0;
    int code = EXIT_OK;
    if (stopped) {
        fprintf(stderr, "takt: classify train: interrupted after %d epochs; the best model so "
                        "far is in %s\n", h.epochs, o.output);
        code = EXIT_RUNTIME;
    } else if (clf_save(&m, o.output, &st)) {
        code = app_fail(&st);
    } else {
        fprintf(stderr,
                "takt: classify train: %d sequences (%d train, %d validation), %d classes, "
                "%d features; %d epochs in %.1f s, kept epoch %d: training accuracy %.4f, "
                "validation accuracy %.4f; model written to %s\n",
                s.n, h.n_train, h.n_val, s.n_classes, s.n_features, h.epochs, secs,
                h.best_epoch, h.train_accuracy, h.val_accuracy, o.output);
        if (h.refit_epochs)
            fprintf(stderr, "takt: classify train: refit on all training subjects for %d "
                            "epochs (median of the inner folds' epochs); before the refit "
                            "the validation accuracy was %.4f\n", h.refit_epochs,
                    h.inner_val_accuracy);
    }
    if (code == EXIT_OK && o.curves && write_curves(o.curves, &m, &s, &h, &st))
        code = app_fail(&st);
    if (code == EXIT_OK && o.json) {
        char val[32] = "null";
        if (h.n_val)
            snprintf(val, sizeof val, "%.6f", h.val_accuracy);
        char inner[32] = "null", refit[96] = "";
        if (h.n_val)
            snprintf(inner, sizeof inner, "%.6f", h.inner_val_accuracy);
        if (h.refit_epochs)
            snprintf(refit, sizeof refit, ",\"refit_epochs\":%d,\"inner_val_accuracy\":%s",
                     h.refit_epochs, inner);
        printf("{\"train_accuracy\":%.6f,\"val_accuracy\":%s,\"epochs\":%d,"
               "\"best_epoch\":%d,\"seconds\":%.2f%s}\n",
               h.train_accuracy, val, h.epochs, h.best_epoch, secs, refit);
    }
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
    return code;
}

/* ---------------------------------------------------------------- predict */

static void print_prediction(const ClfModel *m, const char *file, int seq_id,
                             const float *probs, int json)
{
    const int C = m->net[0].cfg.classes;
    int best = 0;
    for (int k = 1; k < C; k++)
        if (probs[k] > probs[best])
            best = k;
    if (json) {
        printf("{\"file\":\"%s\",\"seq_id\":%d,\"class\":\"%s\",\"probabilities\":{", file,
               seq_id, m->class_names[best]);
        for (int k = 0; k < C; k++)
            printf("%s\"%s\":%.6f", k ? "," : "", m->class_names[k], probs[k]);
        printf("}}\n");
    } else {
        printf("%s,%d,%s", file, seq_id, m->class_names[best]);
        for (int k = 0; k < C; k++)
            printf(",%.6f", probs[k]);
        printf("\n");
    }
}

/* One prediction per .bvh file, keypoints CSV or video (through the pose pipeline), one per
 * sequence of a labelled CSV. */
static StatusCode predict_file(ClfModel *m, const char *path, const PoseSourceOptions *pose,
                               float *probs, int json, Status *st)
{
    const size_t len = strlen(path);
    StatusCode rc;
    if (len > 4 && !strcasecmp(path + len - 4, ".bvh")) {
        SeqBvhFeatures kind;
        if (strncmp(m->features, "bvh_", 4) || !bvh_kind(m->features + 4, &kind))
            return status_fail(st, TK_EINVAL, "%s: the model was trained on %s features, not BVH",
                               path, m->features);
        Bvh b;
        if ((rc = bvh_read(&b, path, st)) != TK_OK)
            return rc;
        const int F = seq_bvh_feature_count(&b, kind);
        float *x = malloc(sizeof(float) * (size_t)(b.n_frames ? b.n_frames : 1) * F);
        if (!x)
            rc = status_fail(st, TK_ENOMEM, "%s: cannot allocate the features", path);
        if (!rc)
            rc = seq_bvh_features(&b, kind, x, st);
        if (!rc)
            rc = clf_predict(m, x, b.n_frames, F, probs, st);
        if (!rc)
            print_prediction(m, path, 0, probs, json);
        free(x);
        bvh_free(&b);
        return rc ? app_status_prefix(st, path) : TK_OK;
    }
    char header[4096];
    first_line(path, header, sizeof header);
    if (has_column(header, "seq_id")) {
        if (strcmp(m->features, "csv"))
            return status_fail(st, TK_EINVAL, "%s: a labelled CSV, but the model was trained "
                                              "on %s features", path, m->features);
        SeqSet s;
        if ((rc = seqset_load_labelled_csv(&s, path, st)) != TK_OK)
            return rc;
        if (m->xy)
            rc = clf_keep_xy(&s, st);
        for (int i = 0; i < s.n && !rc; i++) {
            rc = clf_predict(m, s.seqs[i].x, s.seqs[i].n_frames, s.n_features, probs, st);
            if (!rc)
                print_prediction(m, path, s.seqs[i].seq_id, probs, json);
        }
        seqset_free(&s);
        return rc ? app_status_prefix(st, path) : TK_OK;
    }
    const int from_pose = !strcmp(m->features, "keypoints") || !strcmp(m->features, "landmarks") ||
                          !strcmp(m->features, "backbone");
    if (!from_pose)
        return status_fail(st, TK_EINVAL, "%s: keypoints or a video, but the model was trained "
                                          "on %s features", path, m->features);
    float *x = NULL;
    int n_frames = 0, F = 0;
    SeqSet s = {0};
    if (is_csv(path)) {
        if (!strcmp(m->features, "backbone"))
            return status_fail(st, TK_EINVAL, "%s: the model takes backbone features, which "
                                              "come from a video", path);
        rc = seqset_load_keypoints(&s, path, NULL, keypoint_columns(m->features, m->xy), st);
        if (!rc) {
            x = s.seqs[0].x;
            n_frames = s.seqs[0].n_frames;
            F = s.n_features;
        }
    } else {
        int *frame = NULL, bad;
        rc = clf_video_features(path, m->features, m->xy, pose, &x, &frame, &n_frames, &F, &bad,
                                st);
        free(frame);
        if (!rc && bad)
            fprintf(stderr, "takt: %s: %d unreadable frames left out\n", path, bad);
    }
    if (!rc)
        rc = clf_predict(m, x, n_frames, F, probs, st);
    if (!rc)
        print_prediction(m, path, 0, probs, json);
    if (is_csv(path))
        seqset_free(&s);
    else
        free(x);
    return rc ? app_status_prefix(st, path) : TK_OK;
}

static int classify_predict(int argc, char **argv)
{
    int json = 0, n_files = 0;
    const char *model_path = NULL;
    /* Test-time views asked for on the command line; negative = the model's own. */
    ClfTta tta = {-1.0f, -1.0f};
    PoseSourceOptions pose = {0};
    const char **files = malloc(sizeof(char *) * (size_t)argc);
    if (!files) {
        fprintf(stderr, "takt: classify predict: out of memory\n");
        return EXIT_RUNTIME;
    }
    for (int i = 1; i < argc; i++) {
        int matched;
        const int rc = pose_source_option("classify predict", "--model", argc, argv, &i, &pose,
                                          &matched);
        if (rc != EXIT_OK || matched) {
            if (rc != EXIT_OK) {
                free(files);
                return rc;
            }
            continue;
        }
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--tta-rotate") || !strcmp(argv[i], "--tta-crop")) {
            const char *name = argv[i], *v = app_option_value("classify predict", argc, argv, &i);
            double d;
            const int crop = !strcmp(name, "--tta-crop");
            int bad = v ? app_parse_double("classify predict", name, v, &d) : EXIT_USAGE;
            if (bad == EXIT_OK && !(d >= 0 && (crop ? d < 1 : d <= 180)))
                bad = app_usage_error("classify predict", "%s: %s is out of range", name, v);
            if (bad != EXIT_OK) {
                free(files);
                return bad;
            }
            *(crop ? &tta.crop : &tta.rotate_deg) = (float)d;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(files);
            return app_usage_error("classify predict", "unknown option '%s'", argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else {
            files[n_files++] = argv[i];
        }
    }
    if (!model_path || !n_files) {
        free(files);
        return app_usage_error("classify predict", "needs MODEL.tkw and at least one FILE");
    }
    Status st = {0};
    ClfModel m;
    if (clf_load(&m, model_path, &st)) {
        free(files);
        return app_fail(&st);
    }
    /* Video features only mean something from the pose model they were trained on. */
    if (m.pose_model[0] && pose.model && strcmp(pose.model, m.pose_model)) {
        const int code = app_usage_error("classify predict", "%s was trained on features of the "
                                         "%s pose model, not --model %s", model_path,
                                         m.pose_model, pose.model);
        clf_free(&m);
        free(files);
        return code;
    }
    if (m.pose_model[0])
        pose.model = m.pose_model;
    if (tta.rotate_deg >= 0)
        m.tta.rotate_deg = tta.rotate_deg;
    if (tta.crop >= 0)
        m.tta.crop = tta.crop;
    if (clf_check_tta(&m, &m.tta, &st)) {
        const int code = app_usage_error("classify predict", "%s: %s", model_path, st.msg);
        clf_free(&m);
        free(files);
        return code;
    }
    float *probs = malloc(sizeof(float) * (size_t)m.net[0].cfg.classes);
    if (!probs) {
        clf_free(&m);
        free(files);
        fprintf(stderr, "takt: classify predict: out of memory\n");
        return EXIT_RUNTIME;
    }
    if (!json) {
        printf("file,seq_id,class");
        for (int k = 0; k < m.net[0].cfg.classes; k++)
            printf(",%s", m.class_names[k]);
        printf("\n");
    }
    int code = EXIT_OK;
    for (int i = 0; i < n_files; i++)
        if (predict_file(&m, files[i], &pose, probs, json, &st)) {
            app_fail(&st);
            code = EXIT_RUNTIME;
        }
    free(files);
    free(probs);
    clf_free(&m);
    return code;
}

/* ---------------------------------------------------------------- grid */

static int classify_grid(int argc, char **argv)
{
    Options o;
    SeqSet s;
    char features[CLF_FEATURES_MAX];
    int rc = load_job("classify grid", "needs DATA and -o PREFIX", argc, argv, &o, &s, features);
    if (rc)
        return rc;
    Status st = {0};
    static const int batches[3] = {4, 8, 16};
    double train[3][3], val[3][3], secs[3][3];
    int epochs[3][3], code = EXIT_OK, stopped = 0;
    for (int l = 0; l < 3 && code == EXIT_OK && !stopped; l++)
        for (int b = 0; b < 3 && code == EXIT_OK && !stopped; b++) {
            o.cfg.layers = l + 1;
            o.cfg.batch = batches[b];
            char label[64];
            snprintf(label, sizeof label, "grid %d layer%s batch %d", l + 1, l ? "s" : "",
                     batches[b]);
            ClfModel m;
            ClfHistory h;
            const double t0 = omp_get_wtime();
            if (run_training(&o, label, NULL, &s, &m, &h, &stopped, &st)) {
                app_status_prefix(&st, o.data);
                code = app_fail(&st);
                break;
            }
            secs[l][b] = omp_get_wtime() - t0;
            train[l][b] = h.train_accuracy;
            val[l][b] = h.n_val ? h.val_accuracy : NAN;
            epochs[l][b] = h.epochs;
            clf_free(&m);
            clf_history_free(&h);
        }
    if (stopped) {
        fprintf(stderr, "takt: classify grid: interrupted; no table written\n");
        code = EXIT_RUNTIME;
    }
    for (int pass = 0; pass < 2 && code == EXIT_OK; pass++) {
        char path[4200];
        snprintf(path, sizeof path, "%s.%s", o.output, pass ? "md" : "csv");
        AtomicFile f;
        if (atomic_open(&f, path, &st)) {
            code = app_fail(&st);
            break;
        }
        if (pass)
            fprintf(f.fp, "| layers | batch | training accuracy | validation accuracy | "
                          "epochs | seconds |\n|---|---|---|---|---|---|\n");
        else
            fprintf(f.fp, "layers,batch,train_accuracy,val_accuracy,epochs,seconds\n");
        for (int l = 0; l < 3; l++)
            for (int b = 0; b < 3; b++)
                fprintf(f.fp, pass ? "| %d | %d | %.4f | %.4f | %d | %.1f |\n"
                                   : "%d,%d,%.4f,%.4f,%d,%.1f\n",
                        l + 1, batches[b], train[l][b], val[l][b], epochs[l][b], secs[l][b]);
        if (atomic_commit(&f, &st))
            code = app_fail(&st);
    }
    if (code == EXIT_OK)
        fprintf(stderr, "takt: classify grid: written %s.csv and %s.md\n", o.output, o.output);
    seqset_free(&s);
    return code;
}

/* `takt classify merge A.tkw B.tkw ... -o OUT.tkw`: one ensemble of every file's members. */
static int classify_merge(int argc, char **argv)
{
    const char *out = NULL;
    int n_in = 0, first = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (!(out = app_option_value("classify merge", argc, argv, &i)))
                return EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return app_usage_error("classify merge", "unknown option '%s'", argv[i]);
        } else if (!n_in++) {
            first = i;
        }
    }
    if (n_in < 2 || !out)
        return app_usage_error("classify merge", "needs two model files or more and -o OUT.tkw");
    Status st = {0};
    ClfModel m, part;
    if (clf_load(&m, argv[first], &st))
        return app_fail(&st);
    for (int i = first + 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            i++;
            continue;
        }
        if (clf_load(&part, argv[i], &st) || clf_merge(&m, &part, argv[i], &st)) {
            clf_free(&part);
            clf_free(&m);
            return app_fail(&st);
        }
    }
    const int code = clf_save(&m, out, &st) ? app_fail(&st) : EXIT_OK;
    if (code == EXIT_OK)
        fprintf(stderr, "takt: classify merge: %d members from %d files written to %s\n",
                m.members, n_in, out);
    clf_free(&m);
    return code;
}

int cmd_classify(int argc, char **argv)
{
    if (argc < 2 || app_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "train"))
        return classify_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "predict"))
        return classify_predict(argc - 1, argv + 1);
    if (!strcmp(argv[1], "grid"))
        return classify_grid(argc - 1, argv + 1);
    if (!strcmp(argv[1], "merge"))
        return classify_merge(argc - 1, argv + 1);
    return app_usage_error("classify", "unknown sub-command '%s' (train, predict, grid, merge)",
                           argv[1]);
}
