/* test_classify_body.c — features of the skeleton-sequence classifier that do not depend on
 * where the body faces or how long its limbs are (facing the camera, bone directions, joint
 * distances: against SciPy, tests/data/classifier/make_body_golden.py), and ensembles of
 * models (member k is the single model of seed S + k, probabilities averaged, one file). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "../app/classify.h"

#define GOLDEN "tests/data/classifier/"

enum { GF = 7, GJ = 6, GRAW = 3 * GJ, GBONES = 5, GFULL = 2 * (GRAW + 3 * GBONES + 15) };

static const char *golden_bones = "0-3 3-4, 4-5,0-1 0-2";

/* The golden sequence's model: centre 0, face 1 -> 2, scale by the 0 - 3 distance. */
static ClfModel golden_model(void)
{
    ClfModel m;
    memset(&m, 0, sizeof m);
    m.center = 0;
    m.torso = 3;
    m.velocity = 1;
    m.body.view = 1;
    m.body.view_from = 1;
    m.body.view_to = 2;
    m.body.distances = 1;
    Status st = {0};
    cr_assert_eq(clf_parse_joint_pairs(golden_bones, "bones", m.body.bones, &m.body.n_bones, &st),
                 TK_OK, "%s", st.msg);
    return m;
}

Test(classify_body, features_match_scipy)
{
    ClfModel m = golden_model();
    cr_assert_eq(m.body.n_bones, GBONES);
    cr_assert_eq(m.body.bones[2][0], 4);
    cr_assert_eq(m.body.bones[2][1], 5);
    cr_assert_eq(clf_feature_count(&m, GRAW), GFULL);
    float *raw = test_read_f32(GOLDEN "body_x.bin", GF * GRAW);
    float *want = test_read_f32(GOLDEN "body_full.bin", GF * GFULL);
    cr_assert(raw && want, "golden files missing: run make_body_golden.py");
    float x[GF * GFULL];
    memcpy(x, raw, sizeof(float) * GF * GRAW);
    Status st = {0};
    cr_assert_eq(clf_frame_features(&m, x, GF, GRAW, &st), TK_OK, "%s", st.msg);
    for (int i = 0; i < GF * GFULL; i++)
        cr_assert_float_eq(x[i], want[i], 2e-5f, "frame %d value %d: %g, SciPy %g", i / GFULL,
                           i % GFULL, x[i], want[i]);
    free(raw);
    free(want);
}

Test(classify_body, bones_alone_fit_in_fewer_values_than_the_joints)
{
    /* 15 values from 18: rows are rewritten front to back, none read after it is overwritten. */
    ClfModel m;
    memset(&m, 0, sizeof m);
    m.center = m.torso = -1;
    m.body.positions_off = 1;
    Status st = {0};
    cr_assert_eq(clf_parse_joint_pairs(golden_bones, "bones", m.body.bones, &m.body.n_bones, &st),
                 TK_OK, "%s", st.msg);
    cr_assert_eq(clf_feature_count(&m, GRAW), 3 * GBONES);
    float *raw = test_read_f32(GOLDEN "body_x.bin", GF * GRAW);
    float *want = test_read_f32(GOLDEN "body_bones.bin", GF * 3 * GBONES);
    cr_assert(raw && want, "golden files missing: run make_body_golden.py");
    cr_assert_eq(clf_frame_features(&m, raw, GF, GRAW, &st), TK_OK, "%s", st.msg);
    for (int i = 0; i < GF * 3 * GBONES; i++)
        cr_assert_float_eq(raw[i], want[i], 2e-6f, "value %d: %g, NumPy %g", i, raw[i],
                           want[i]);
    free(raw);
    free(want);
}

Test(classify_body, facing_the_camera_undoes_any_turn_and_scaling_any_size)
{
    ClfModel m = golden_model();
    float *raw = test_read_f32(GOLDEN "body_x.bin", GF * GRAW);
    cr_assert_not_null(raw);
    float a[GF * GFULL], b[GF * GFULL];
    memcpy(a, raw, sizeof(float) * GF * GRAW);
    /* The same person 1.7 times the size, turned by 2 rad and standing elsewhere. */
    const float c = cosf(2.0f), s = sinf(2.0f);
    for (int j = 0; j < GF * GJ; j++) {
        const float *p = raw + 3 * j;
        b[3 * j] = 1.7f * (c * p[0] + s * p[2]) + 3.0f;
        b[3 * j + 1] = 1.7f * p[1] - 1.0f;
        b[3 * j + 2] = 1.7f * (-s * p[0] + c * p[2]) + 0.5f;
    }
    Status st = {0};
    cr_assert_eq(clf_frame_features(&m, a, GF, GRAW, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_frame_features(&m, b, GF, GRAW, &st), TK_OK, "%s", st.msg);
    for (int i = 0; i < GF * GFULL; i++)
        cr_assert_float_eq(a[i], b[i], 1e-4f, "value %d: %g vs %g", i, a[i], b[i]);
    free(raw);
}

Test(classify_body, bad_bones_and_views_are_refused)
{
    ClfBody b;
    memset(&b, 0, sizeof b);
    Status st = {0};
    cr_assert_eq(clf_parse_joint_pairs("1-2 3", "bones", b.bones, &b.n_bones, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "1-2 3"), "%s", st.msg);
    cr_assert_eq(clf_parse_joint_pairs("1-x", "bones", b.bones, &b.n_bones, &st), TK_EINVAL);
    cr_assert_eq(clf_parse_joint_pairs(" , ", "bones", b.bones, &b.n_bones, &st), TK_EINVAL);
    cr_assert_eq(clf_parse_joint_pairs("0-1 1-6", "bones", b.bones, &b.n_bones, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(clf_check_body(&b, 18, &st), TK_EINVAL); /* joint 6 of 6 */
    cr_assert(strstr(st.msg, "bone 2"), "%s", st.msg);
    cr_assert_eq(clf_check_body(&b, 21, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_check_body(&b, 20, &st), TK_EINVAL); /* not x, y, z triples */
    memset(&b, 0, sizeof b);
    b.view = 1;
    b.view_from = b.view_to = 2;
    cr_assert_eq(clf_check_body(&b, 18, &st), TK_EINVAL);
    b.positions_off = 1;
    b.view_to = 3;
    cr_assert_eq(clf_check_body(&b, 18, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "bones or distances"), "%s", st.msg);
}

/* ---------------------------------------------------------------- ensembles */

/* Three joints in 3-D: the third circles the second clockwise (class 0) or anticlockwise
 * (class 1) seen from above, whichever way the body faces, over 12..23 frames. */
static void circling_bodies(SeqSet *s, int n)
{
    Rng rng;
    rng_seed(&rng, 21, 0);
    test_two_class_set(s, n, 9, "clockwise", "anticlockwise");
    for (int i = 0; i < n; i++) {
        Sequence *q = &s->seqs[i];
        test_sequence_frames(s, i, 12 + (int)rng_below(&rng, 12));
        const float turn = 6.2831853f * rng_uniform(&rng), size = 0.6f + rng_uniform(&rng);
        const float start = 6.2831853f * rng_uniform(&rng);
        for (int f = 0; f < q->n_frames; f++) {
            const float a = start + (q->label ? 1.0f : -1.0f) * 4.0f * (float)f / q->n_frames;
            const float body[9] = {0, 0, 0, size, 0.1f * rng_uniform(&rng), 0,
                                   size + 0.5f * size * cosf(a), 0, 0.5f * size * sinf(a)};
            for (int j = 0; j < 3; j++) {
                const float *p = body + 3 * j;
                q->x[9 * f + 3 * j] = cosf(turn) * p[0] + sinf(turn) * p[2] + 2.0f;
                q->x[9 * f + 3 * j + 1] = p[1];
                q->x[9 * f + 3 * j + 2] = -sinf(turn) * p[0] + cosf(turn) * p[2] + 3.0f;
            }
        }
    }
}

static ClfConfig ensemble_config(void)
{
    ClfConfig c = clf_default_config();
    c.hidden = 10;
    c.time_steps = 10;
    c.epochs = 40;
    c.patience = 0;
    c.batch = 4;
    c.lr = 1e-2f;
    c.seed = 4;
    c.center = 0;
    c.torso = 1;
    c.velocity = 1;
    c.body = (ClfBody){.view = 1, .view_from = 0, .view_to = 1, .n_bones = 1,
                       .bones = {{1, 2}}};
    c.augment.rotate_deg = 10;
    return c;
}

static void train(ClfModel *m, ClfHistory *h, const ClfConfig *cfg, const SeqSet *s,
                  const unsigned char *is_val)
{
    Status st = {0};
    int stopped = 1;
    cr_assert_eq(clf_train(m, cfg, s, is_val, "csv", 0, NULL, h, &stopped, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(stopped, 0);
}

Test(classify_ensemble, members_are_the_single_models_of_their_seeds_and_probabilities_average)
{
    SeqSet s;
    circling_bodies(&s, 24);
    unsigned char is_val[24];
    for (int i = 0; i < 24; i++)
        is_val[i] = i >= 18;
    ClfConfig cfg = ensemble_config();
    cfg.ensemble = 2;
    ClfModel ens, single[2];
    ClfHistory h, hs[2];
    train(&ens, &h, &cfg, &s, is_val);
    cr_assert_eq(ens.members, 2);
    cr_assert_eq(h.members, 2);
    cfg.ensemble = 0;
    for (int k = 0; k < 2; k++) {
        cfg.seed = 4 + (uint64_t)k;
        train(&single[k], &hs[k], &cfg, &s, is_val);
        cr_assert_eq(single[k].members, 1);
        cr_assert(!memcmp(ens.net[k].params, single[k].net[0].params,
                          sizeof(float) * ens.net[k].n_params),
                  "member %d is not the model of seed %d", k, 4 + k);
    }
    /* The two seeds give different models, or averaging them proves nothing. */
    cr_assert(memcmp(single[0].net[0].params, single[1].net[0].params,
                     sizeof(float) * single[0].net[0].n_params));
    cr_assert_float_eq(h.val_accuracy, 1.0f, 1e-6f, "ensemble validation accuracy %.3f",
                       h.val_accuracy);
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/ens.tkw", dir);
    Status st = {0};
    ClfModel back;
    cr_assert_eq(clf_save(&ens, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.members, 2);
    cr_assert_eq(back.body.view, 1);
    cr_assert_eq(back.body.n_bones, 1);
    cr_assert_eq(back.frame_values, 9);
    for (int i = 0; i < s.n; i++) {
        const Sequence *q = &s.seqs[i];
        float pe[2], pb[2], p0[2], p1[2];
        cr_assert_eq(clf_predict(&ens, q->x, q->n_frames, 9, pe, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_predict(&back, q->x, q->n_frames, 9, pb, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(clf_predict(&single[0], q->x, q->n_frames, 9, p0, &st), TK_OK);
        cr_assert_eq(clf_predict(&single[1], q->x, q->n_frames, 9, p1, &st), TK_OK);
        for (int c = 0; c < 2; c++) {
            cr_assert(pe[c] == pb[c], "sequence %d: %g from memory, %g from the file", i, pe[c],
                      pb[c]);
            cr_assert_float_eq(pe[c], 0.5f * (p0[c] + p1[c]), 1e-6f,
                               "sequence %d class %d: %g, members %g and %g", i, c, pe[c],
                               p0[c], p1[c]);
        }
    }
    cr_assert_eq(clf_predict(&back, s.seqs[0].x, s.seqs[0].n_frames, 6, (float[2]){0}, &st),
                 TK_EINVAL);
    clf_free(&back);
    unlink(path);
    rmdir(dir);
    clf_free(&ens);
    clf_history_free(&h);
    for (int k = 0; k < 2; k++) {
        clf_free(&single[k]);
        clf_history_free(&hs[k]);
    }
    seqset_free(&s);
}

Test(classify_ensemble, refuses_too_many_members_and_body_features_of_rotations)
{
    SeqSet s;
    circling_bodies(&s, 8);
    ClfConfig cfg = ensemble_config();
    cfg.epochs = 1;
    cfg.ensemble = CLF_ENSEMBLE_MAX + 1;
    ClfModel m;
    ClfHistory h;
    Status st = {0};
    int stopped;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "ensemble"), "%s", st.msg);
    cfg = ensemble_config();
    cfg.center = -1;
    cfg.torso = -1;
    cfg.augment.rotate_deg = 0;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "csv", 0, NULL, &h, &stopped, &st), TK_EINVAL);
    cr_assert(strstr(st.msg, "centre"), "%s", st.msg);
    cfg.body.view = 0;
    cr_assert_eq(clf_train(&m, &cfg, &s, NULL, "bvh_rotations", 0, NULL, &h, &stopped, &st),
                 TK_EINVAL);
    cr_assert(strstr(st.msg, "bvh_rotations"), "%s", st.msg);
    seqset_free(&s);
}

Test(classify_ensemble, bidirectional_members_round_trip_through_the_file)
{
    SeqSet s;
    circling_bodies(&s, 12);
    ClfConfig cfg = ensemble_config();
    cfg.epochs = 3;
    cfg.ensemble = 2;
    cfg.bidirectional = 1;
    ClfModel m, back;
    ClfHistory h;
    train(&m, &h, &cfg, &s, NULL);
    cr_assert_eq(m.net[1].bidirectional, 1);
    cr_assert_eq(m.net[1].fc.in, 2 * cfg.hidden);
    const char *dir = test_tmpdir();
    cr_assert_not_null(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/bi.tkw", dir);
    Status st = {0};
    cr_assert_eq(clf_save(&m, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(clf_load(&back, path, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(back.net[0].bidirectional, 1);
    cr_assert_eq(back.members, 2);
    for (int k = 0; k < 2; k++)
        cr_assert(!memcmp(m.net[k].params, back.net[k].params,
                          sizeof(float) * m.net[k].n_params), "member %d differs", k);
    clf_free(&back);
    unlink(path);
    rmdir(dir);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
}

Test(classify_ensemble, fewer_feature_values_than_raw_ones_train_and_predict)
{
    /* One bone (3 values) from three joints (9): every buffer must still hold the raw frames. */
    SeqSet s;
    circling_bodies(&s, 12);
    ClfConfig cfg = ensemble_config();
    cfg.epochs = 2;
    cfg.velocity = 0;
    cfg.body.positions_off = 1;
    ClfModel m;
    ClfHistory h;
    train(&m, &h, &cfg, &s, NULL);
    cr_assert_eq(m.net[0].cfg.features, 3);
    float p[2];
    Status st = {0};
    cr_assert_eq(clf_predict(&m, s.seqs[0].x, s.seqs[0].n_frames, 9, p, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_float_eq(p[0] + p[1], 1.0f, 1e-5f);
    clf_free(&m);
    clf_history_free(&h);
    seqset_free(&s);
}

/* ---------------------------------------------------------------- the command line */

static char out[65536], err[8192];
#define takt(...) test_run_takt(out, sizeof out, err, sizeof err, __VA_ARGS__)

TestSuite(classify_body_cli, .init = test_scratch_begin, .fini = test_scratch_end);

Test(classify_body_cli, ensemble_of_bone_features_trains_and_predicts)
{
    SeqSet s;
    circling_bodies(&s, 16);
    char path[512];
    snprintf(path, sizeof path, "%s/bodies.csv", test_scratch_dir());
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "seq_id,frame,label,x0,y0,z0,x1,y1,z1,x2,y2,z2\n");
    for (int i = 0; i < s.n; i++)
        for (int f = 0; f < s.seqs[i].n_frames; f++) {
            fprintf(fp, "%d,%d,%d", i, f, s.seqs[i].label);
            for (int k = 0; k < 9; k++)
                fprintf(fp, ",%.5f", s.seqs[i].x[9 * f + k]);
            fprintf(fp, "\n");
        }
    fclose(fp);
    seqset_free(&s);
    const char *d = test_scratch_dir();
    cr_assert_eq(takt("classify train %s/bodies.csv -o %s/e.tkw --center 0 --torso 1 "
                      "--view 0,1 --bones \"1-2 0-2\" --distances --ensemble 2 --hidden 8 "
                      "--time-steps 8 --epochs 3 --batch 4 --val 0.25 --json", d, d),
                 0, "%s", err);
    cr_assert(strstr(err, "model 2 of 2") || strstr(err, "validation accuracy"), "%s", err);
    cr_assert(strstr(out, "\"val_accuracy\""), "%s", out);
    cr_assert_eq(takt("weights info %s/e.tkw", d), 0, "%s", err);
    cr_assert(strstr(out, "member1.fc.weight") && strstr(out, "bones"), "%s", out);
    cr_assert_eq(takt("classify predict %s/e.tkw %s/bodies.csv", d, d), 0, "%s", err);
    int rows = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        rows++;
    cr_assert_eq(rows, 17, "header + 16 sequences expected:\n%s", out);
    cr_assert_eq(takt("classify train %s/bodies.csv -o %s/x.tkw --bones 1", d, d), 2);
    cr_assert(strstr(err, "joint pairs"), "%s", err);
    cr_assert_eq(takt("classify train %s/bodies.csv -o %s/x.tkw --view 3", d, d), 2);
    cr_assert_eq(takt("classify train %s/bodies.csv -o %s/x.tkw --ensemble 0", d, d), 2);
    cr_assert_eq(takt("classify train %s/bodies.csv -o %s/x.tkw --center 0 --bones 1-7 "
                      "--epochs 1", d, d), 1);
    cr_assert(strstr(err, "bone 1"), "%s", err);
}
