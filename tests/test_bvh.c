/* test_bvh.c — the BVH reader and forward kinematics: our synthetic skeleton against SciPy's
 * rotations (tests/data/bvh/make_golden.py), hand-computed arms and channel orders, every kind
 * of malformed file refused with its line, truncated and garbled files that must fail cleanly
 * (run under ASan by `make test SANITIZE=1`), and the real files of ../shared/data (InHARD's
 * 59-joint skeleton, Bandai-Namco's 174 takes) against the positions shipped beside them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../io/io.h"
#include "testutil.h"

#define SYNTH_BVH "tests/data/bvh/synthetic.bvh"
#define SYNTH_POS "tests/data/bvh/synthetic_positions.bin"
#define SYNTH_FRAMES 12
#define SYNTH_JOINTS 6
#define SYNTH_ENDS 3

static void parse_ok(Bvh *b, const char *text)
{
    Status st = {0};
    StatusCode code = bvh_parse(b, text, strlen(text), "mem.bvh", &st);
    cr_assert_eq(code, TK_OK, "%s", st.msg);
}

static float *positions_of(const Bvh *b, int with_end_sites)
{
    size_t n = (size_t)b->n_frames * bvh_point_count(b, with_end_sites) * 3;
    float *p = malloc((n ? n : 1) * sizeof *p);
    cr_assert_not_null(p);
    Status st = {0};
    cr_assert_eq(bvh_positions(b, with_end_sites, p, &st), TK_OK, "%s", st.msg);
    return p;
}

static void assert_point(const float *p, double x, double y, double z, const char *what)
{
    cr_assert(fabs(p[0] - x) < 1e-5 && fabs(p[1] - y) < 1e-5 && fabs(p[2] - z) < 1e-5,
              "%s: got (%g, %g, %g), expected (%g, %g, %g)", what, p[0], p[1], p[2], x, y, z);
}

/* ---------------------------------------------------------------- synthetic, SciPy reference */

Test(bvh, synthetic_layout)
{
    Bvh b;
    Status st = {0};
    cr_assert_eq(bvh_read(&b, SYNTH_BVH, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(b.n_joints, SYNTH_JOINTS);
    cr_assert_eq(b.n_end_sites, SYNTH_ENDS);
    cr_assert_eq(b.n_frames, SYNTH_FRAMES);
    cr_assert_eq(b.n_channels, 24);
    cr_assert_float_eq(b.frame_time, 0.0333333, 1e-12);
    static const char *const names[] = {"Pelvis", "Spine", "Head", "Arm_L", "Hand_L", "Leg_R"};
    static const int parents[] = {-1, 0, 1, 1, 3, 0};
    static const int counts[] = {6, 3, 3, 6, 3, 3};
    for (int j = 0; j < SYNTH_JOINTS; j++) {
        cr_assert_str_eq(b.joints[j].name, names[j]);
        cr_assert_eq(b.joints[j].parent, parents[j], "joint %d", j);
        cr_assert_eq(b.joints[j].n_channels, counts[j], "joint %d", j);
        cr_assert_eq(bvh_joint_index(&b, names[j]), j);
    }
    cr_assert_eq(bvh_joint_index(&b, "Tail"), -1);
    /* Arm_L: "Zrotation Yrotation Xrotation Xposition Yposition Zposition" from column 12 */
    const BvhJoint *arm = &b.joints[3];
    cr_assert_eq(arm->first_channel, 12);
    cr_assert_eq(arm->channel[0], BVH_ZROTATION);
    cr_assert_eq(arm->channel[2], BVH_XROTATION);
    cr_assert_eq(arm->channel[5], BVH_ZPOSITION);
    cr_assert_float_eq(arm->offset[0], 15.0, 0);
    cr_assert_eq(b.end_sites[1].parent, 4);
    cr_assert_float_eq(b.end_sites[1].offset[1], -1.0, 0);

    /* raw rotation channels: 3 per joint, in file order, equal to the motion columns */
    cr_assert_eq(bvh_rotation_count(&b), 18);
    float *rot = malloc((size_t)b.n_frames * 18 * sizeof *rot);
    cr_assert_not_null(rot);
    bvh_rotations(&b, rot);
    static const int rot_cols[18] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 21, 22, 23};
    for (int f = 0; f < b.n_frames; f++)
        for (int k = 0; k < 18; k++)
            cr_assert_eq(rot[f * 18 + k], b.motion[f * b.n_channels + rot_cols[k]]);
    free(rot);
    bvh_free(&b);
}

Test(bvh, synthetic_fk_matches_scipy)
{
    Bvh b;
    Status st = {0};
    cr_assert_eq(bvh_read(&b, SYNTH_BVH, &st), TK_OK, "%s", st.msg);
    const int points = SYNTH_JOINTS + SYNTH_ENDS;
    float *ref = test_read_f32(SYNTH_POS, (size_t)SYNTH_FRAMES * points * 3);
    cr_assert_not_null(ref, "cannot read %s", SYNTH_POS);
    float *with = positions_of(&b, 1), *without = positions_of(&b, 0);
    double worst = 0;
    for (int f = 0; f < SYNTH_FRAMES; f++)
        for (int p = 0; p < points; p++)
            for (int k = 0; k < 3; k++) {
                size_t i = ((size_t)f * points + p) * 3 + k;
                worst = fmax(worst, fabs(with[i] - ref[i]));
                if (p < SYNTH_JOINTS)
                    cr_assert_eq(without[((size_t)f * SYNTH_JOINTS + p) * 3 + k], with[i]);
            }
    cr_assert_lt(worst, 1e-3, "largest difference from SciPy %g cm", worst);
    cr_log_info("synthetic: FK vs SciPy max |diff| %.2e cm", worst);
    free(with);
    free(without);
    free(ref);
    bvh_free(&b);
}

/* ---------------------------------------------------------------- hand-computed */

/* A shoulder at the origin, an elbow 10 along x, a hand 5 further. */
static const char arm_bvh[] =
    "HIERARCHY\n"
    "ROOT Shoulder\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n"
    "  JOINT Elbow\n  {\n    OFFSET 10 0 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
    "    End Site\n    {\n      OFFSET 5 0 0\n    }\n  }\n}\n"
    "MOTION\nFrames: 3\nFrame Time: 0.1\n"
    "0 0 0 0 0 0\n"
    "90 0 0 0 0 0\n"
    "0 0 0 90 0 0\n";

Test(bvh, arm_rotated_90_degrees)
{
    Bvh b;
    parse_ok(&b, arm_bvh);
    cr_assert_eq(b.n_frames, 3);
    float *p = positions_of(&b, 1);
    /* frame 0: straight along x */
    assert_point(p + 0, 0, 0, 0, "f0 shoulder");
    assert_point(p + 3, 10, 0, 0, "f0 elbow");
    assert_point(p + 6, 15, 0, 0, "f0 hand");
    /* frame 1: the shoulder turned 90 degrees about z: the whole arm points along y */
    assert_point(p + 9 + 3, 0, 10, 0, "f1 elbow");
    assert_point(p + 9 + 6, 0, 15, 0, "f1 hand");
    /* frame 2: only the elbow turned: the forearm points along y from (10, 0, 0) */
    assert_point(p + 18 + 3, 10, 0, 0, "f2 elbow");
    assert_point(p + 18 + 6, 10, 5, 0, "f2 hand");
    free(p);
    bvh_free(&b);
}

/* One root at (1, 2, 3) turned 90 degrees about x and z, a child 1 along x: Rx·Ry·Rz takes
 * (1,0,0) to (0,0,1), Rz·Rx·Ry takes it to (0,1,0). */
Test(bvh, channel_order_matters)
{
    static const char xyz[] =
        "HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\n"
        "CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation\n"
        "JOINT C\n{\nOFFSET 1 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n"
        "End Site\n{\nOFFSET 1 0 0\n}\n}\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3 90 0 90 0 0 0\n";
    static const char zxy[] =
        "HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\n"
        "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        "JOINT C\n{\nOFFSET 1 0 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n"
        "End Site\n{\nOFFSET 1 0 0\n}\n}\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3 90 90 0 0 0 0\n";
    Bvh a, b;
    parse_ok(&a, xyz);
    parse_ok(&b, zxy);
    float *pa = positions_of(&a, 1), *pb = positions_of(&b, 1);
    assert_point(pa, 1, 2, 3, "XYZ root");
    assert_point(pa + 3, 1, 2, 4, "XYZ child");
    assert_point(pa + 6, 1, 2, 5, "XYZ end site");
    assert_point(pb, 1, 2, 3, "ZXY root");
    assert_point(pb + 3, 1, 3, 3, "ZXY child");
    assert_point(pb + 6, 1, 4, 3, "ZXY end site");
    free(pa);
    free(pb);
    bvh_free(&a);
    bvh_free(&b);
}

/* Position channels replace the OFFSET on their axis (the convention of ../shared/data). */
Test(bvh, position_channels_replace_offset)
{
    static const char text[] =
        "HIERARCHY\r\nROOT R\r\n{\r\n\tOFFSET 100 200 300\r\n"
        "\tCHANNELS 6 Zrotation Yrotation Xrotation Zposition Xposition Yposition\r\n"
        "\tEnd Site\r\n\t{\r\n\t\tOFFSET 0 1 0\r\n\t}\r\n}\r\n"
        "MOTION\r\nFrames:\t2\r\nFrame Time:\t0.5\r\n\r\n"
        "0\t0\t0\t7\t5\t6\r\n\r\n  \r\n0 0 0 -1 -2 -3   \r\n\r\n";
    Bvh b;
    parse_ok(&b, text);
    cr_assert_eq(b.n_frames, 2);
    cr_assert_float_eq(b.frame_time, 0.5, 0);
    float *p = positions_of(&b, 1);
    assert_point(p, 5, 6, 7, "frame 0 root");
    assert_point(p + 3, 5, 7, 7, "frame 0 end site");
    assert_point(p + 6, -2, -3, -1, "frame 1 root");
    free(p);
    bvh_free(&b);
}

Test(bvh, several_roots_and_no_frames)
{
    static const char text[] =
        "HIERARCHY\nROOT A\n{\nOFFSET 1 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
        "ROOT B\n{\nOFFSET 0 1 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
        "MOTION\nFrames: 0\nFrame Time: 0.01\n";
    Bvh b;
    parse_ok(&b, text);
    cr_assert_eq(b.n_joints, 2);
    cr_assert_eq(b.joints[1].parent, -1);
    cr_assert_eq(b.n_frames, 0);
    bvh_free(&b);
}

/* ---------------------------------------------------------------- malformed files */

typedef struct {
    const char *text;
    const char *needles[3];
} BadCase;

static const BadCase bad_cases[] = {
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 5 Xrotation Yrotation Zrotation\n}\n",
     {"line 5", "3 or 6", "'5'"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation\n}\nMOTION\n",
     {"line 6", "channel name", "'}'"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Xrotation Zrotation\n}\n",
     {"line 5", "not already listed", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n",
     {"line 5", "OFFSET numbers", "CHANNELS"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 2\nFrame Time: 0.1\n1 2 3\n4 5\n",
     {"line 11", "frame 1 has 2 values, expected 3", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 2\nFrame Time: 0.1\n1 2 3 4\n",
     {"line 10", "more than the 3 values", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 3\nFrame Time: 0.1\n1 2 3\n4 5 6\n",
     {"after 2 of the 3 frames", "line 8", "truncated"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 2\nFrame Time: 0.1\n1 2 3\n4 x5 6\n",
     {"line 11", "'x5' is not a number", "value 2"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 1\nFrame Time: 0.1\n1 nan 3\n",
     {"line 10", "'nan' is not a number", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3\n\n4 5 6\n",
     {"line 12", "more frames than the 1 declared", "line 8"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n"
     "JOINT C\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3 4 5 6\n",
     {"line 11", "MOTION inside joint 'R'", "declared on line 2"}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n}\n",
     {"line 7", "closes no joint", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n",
     {"ends inside joint 'R'", "MOTION are missing", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n\n",
     {"line 8", "ROOT or MOTION", "end of the file"}},
    {"ROOT R\n{\nOFFSET 0 0 0\n", {"line 1", "'HIERARCHY'", NULL}},
    {"HIERARCHY\nMOTION\nFrames: 0\nFrame Time: 0.1\n", {"line 2", "before any ROOT", NULL}},
    {"HIERARCHY\nJOINT C\n{\n", {"line 2", "a JOINT must be inside a ROOT", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 1\n1 2 3\n",
     {"line 9", "'Frame'", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: -4\nFrame Time: 0.1\n",
     {"line 8", "frame count", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
     "MOTION\nFrames: 1\nFrame Time: 0\n1 2 3\n",
     {"line 9", "frame time", NULL}},
    {"HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n"
     "End Site\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\n}\n",
     {"line 9", "'}'", "CHANNELS"}},
};

Test(bvh, malformed_files_name_the_line)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const BadCase *c = &bad_cases[i];
        Bvh b;
        Status st = {0};
        StatusCode code = bvh_parse(&b, c->text, strlen(c->text), "bad.bvh", &st);
        cr_assert_eq(code, TK_EFORMAT, "case %zu: expected an error, got %d", i, code);
        cr_assert_not_null(strstr(st.msg, "bad.bvh: "), "case %zu: %s", i, st.msg);
        for (int k = 0; k < 3 && c->needles[k]; k++)
            cr_assert_not_null(strstr(st.msg, c->needles[k]), "case %zu: '%s' not in: %s", i,
                               c->needles[k], st.msg);
        cr_assert_eq(b.joints, NULL, "case %zu: memory kept after an error", i);
        cr_assert_eq(b.motion, NULL);
    }
}

Test(bvh, missing_file)
{
    Bvh b;
    Status st = {0};
    cr_assert_eq(bvh_read(&b, "tests/data/bvh/no_such.bvh", &st), TK_EIO);
    cr_assert_not_null(strstr(st.msg, "no_such.bvh"), "%s", st.msg);
}

/* ---------------------------------------------------------------- robustness */

/* Parses the first n bytes from a buffer of exactly that size (so that AddressSanitizer sees
 * any read past the end); returns the status code. */
static StatusCode parse_prefix(const char *text, size_t n, Status *st)
{
    char *copy = malloc(n ? n : 1);
    cr_assert_not_null(copy);
    memcpy(copy, text, n);
    Bvh b;
    StatusCode code = bvh_parse(&b, copy, n, "cut.bvh", st);
    if (code == TK_OK) {
        float *p = positions_of(&b, 1);
        for (size_t i = 0; i < (size_t)b.n_frames * bvh_point_count(&b, 1) * 3; i++)
            cr_assert(isfinite(p[i]));
        free(p);
    } else {
        cr_assert_eq(code, TK_EFORMAT, "%s", st->msg);
        cr_assert_not_null(strstr(st->msg, "cut.bvh: line "), "%s", st->msg);
    }
    bvh_free(&b);
    free(copy);
    return code;
}

/* Every cut before the start of the last frame's line loses a frame or more of the file and
 * must be refused; cuts inside the last line may leave a shorter but valid number. */
static void truncate_everywhere(const char *text, size_t size, size_t step)
{
    size_t last_line = size;
    while (last_line > 0 && (text[last_line - 1] == '\n' || text[last_line - 1] == '\r' ||
                             text[last_line - 1] == ' '))
        last_line--;
    while (last_line > 0 && text[last_line - 1] != '\n')
        last_line--;
    for (size_t n = 0; n < size; n += step) {
        Status st = {0};
        StatusCode code = parse_prefix(text, n, &st);
        if (n < last_line)
            cr_assert_eq(code, TK_EFORMAT, "cut at %zu of %zu bytes was accepted", n, size);
    }
}

/* Replaces tokens and bytes at random places (seeded) and checks that the parser either
 * accepts the file or names the line at fault, and never reads out of bounds. */
static void garble(const char *text, size_t size, int rounds, uint64_t seed)
{
    static const char *const tokens[] = {"{", "}", "JOINT", "ROOT", "End", "MOTION",
                                         "CHANNELS", "OFFSET", "nan", "1e999", "-", "6",
                                         "3", "Frames:", "99999999", "\n", "\r\n\r\n", ""};
    const size_t n_tokens = sizeof tokens / sizeof tokens[0];
    Rng rng;
    rng_seed(&rng, seed, 0);
    char *buf = malloc(size + 64);
    cr_assert_not_null(buf);
    int refused = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(buf, text, size);
        size_t n = size;
        int edits = 1 + (int)rng_below(&rng, 3);
        for (int e = 0; e < edits; e++) {
            size_t at = rng_below(&rng, n);
            if (rng_below(&rng, 2)) {
                buf[at] = (char)rng_below(&rng, 256); /* a random byte, NUL included */
            } else {
                /* a token in place of the word at `at` */
                size_t end = at;
                while (end < n && buf[end] != ' ' && buf[end] != '\n' && buf[end] != '\t')
                    end++;
                const char *t = tokens[rng_below(&rng, n_tokens)];
                size_t tl = strlen(t);
                if (n - (end - at) + tl > size + 64)
                    continue;
                memmove(buf + at + tl, buf + end, n - end);
                memcpy(buf + at, t, tl);
                n = n - (end - at) + tl;
            }
        }
        Status st = {0};
        refused += parse_prefix(buf, n, &st) != TK_OK;
    }
    free(buf);
    /* most edits break the file; a parser that accepted everything would be wrong */
    cr_assert_gt(refused, rounds / 4, "only %d of %d garbled files refused", refused, rounds);
}

Test(bvh, truncated_and_garbled_synthetic)
{
    size_t size = 0;
    char *text = test_read_file(SYNTH_BVH, &size);
    cr_assert_not_null(text);
    truncate_everywhere(text, size, 1);
    garble(text, size, 2000, 1);
    free(text);
}

Test(bvh, truncated_and_garbled_real_file)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, "data/bandai_namco_1/orig/data/dataset-1_bow_active_001.bvh"))
        cr_skip_test("../shared not found (data/bandai_namco_1)");
    size_t size = 0;
    char *text = test_read_file(path, &size);
    cr_assert_not_null(text);
    truncate_everywhere(text, size, size / 150);
    garble(text, size, 150, 2);
    free(text);
}

/* ---------------------------------------------------------------- real files (../shared) */

/* The rows of seq_id `id` in a labelled CSV (seq_id,frame,label,x0,y0,z0,...). */
static const float *csv_rows_of(const CsvTable *t, int id, int *count)
{
    int first = -1, n = 0;
    for (int r = 0; r < t->rows; r++)
        if ((int)t->data[(size_t)r * t->cols] == id) {
            if (first < 0)
                first = r;
            n++;
        }
    *count = n;
    return first < 0 ? NULL : t->data + (size_t)first * t->cols;
}

/* Largest difference between our FK (joints only) and the CSV's positions of seq_id `id`. */
static double fk_vs_csv(const Bvh *b, const CsvTable *t, int id)
{
    int rows;
    const float *ref = csv_rows_of(t, id, &rows);
    cr_assert_not_null(ref, "seq_id %d not in %s", id, t->path);
    cr_assert_eq(rows, b->n_frames, "%s: %d frames, the CSV has %d", b->path, b->n_frames, rows);
    cr_assert_eq(t->cols, 3 + 3 * b->n_joints);
    float *p = positions_of(b, 0);
    double worst = 0;
    for (int f = 0; f < rows; f++) {
        cr_assert_eq((int)ref[(size_t)f * t->cols + 1], f);
        for (int k = 0; k < 3 * b->n_joints; k++)
            worst = fmax(worst, fabs(p[(size_t)f * 3 * b->n_joints + k] -
                                     ref[(size_t)f * t->cols + 3 + k]));
    }
    free(p);
    return worst;
}

Test(bvh, inhard_sample)
{
    char path[1024], csv[1024];
    if (!test_shared_path(path, sizeof path,
                          "data/inhard_sample/orig/P01_R01_0026.48_0028.80-checkpoint.bvh") ||
        !test_shared_path(csv, sizeof csv, "data/inhard_sample/inhard_sample.csv"))
        cr_skip_test("../shared not found (data/inhard_sample)");
    Bvh b;
    Status st = {0};
    cr_assert_eq(bvh_read(&b, path, &st), TK_OK, "%s", st.msg);
    /* README: 59 joints, 6 channels each, 276 frames, Frame Time 0.008401 */
    cr_assert_eq(b.n_joints, 59);
    cr_assert_eq(b.n_channels, 59 * 6);
    cr_assert_eq(b.n_frames, 276);
    cr_assert_float_eq(b.frame_time, 0.008401, 1e-12);
    cr_assert_str_eq(b.joints[0].name, "Hips");
    cr_assert_str_eq(b.joints[12].name, "Head");
    cr_assert_str_eq(b.joints[13].name, "RightShoulder");
    cr_assert_str_eq(b.joints[36].name, "LeftShoulder");
    cr_assert_eq(b.joints[13].parent, 10); /* Spine3 */
    cr_assert_eq(bvh_rotation_count(&b), 59 * 3);

    CsvTable t;
    cr_assert_eq(csv_read(&t, csv, NULL, &st), TK_OK, "%s", st.msg);
    double worst = fk_vs_csv(&b, &t, 0);
    /* the CSV has 2 decimals: 0.005 cm of rounding, plus 1e-3 cm for us */
    cr_assert_lt(worst, 0.005 + 1e-3, "largest difference %g cm", worst);
    cr_log_info("inhard_sample: FK vs CSV (2 decimals) max |diff| %.5f cm", worst);
    csv_free(&t);
    bvh_free(&b);
}

Test(bvh, bandai_namco_all_files)
{
    char seqs[1024], csv[1024], dir[1024];
    if (!test_shared_path(seqs, sizeof seqs, "data/bandai_namco_1/sequences.csv") ||
        !test_shared_path(csv, sizeof csv, "data/bandai_namco_1/bandai_namco_1.csv") ||
        !test_shared_path(dir, sizeof dir, "data/bandai_namco_1/orig/data"))
        cr_skip_test("../shared not found (data/bandai_namco_1)");
    static const char *const text_cols[] = {"file", "content", "style", NULL};
    CsvTable s, t;
    Status st = {0};
    cr_assert_eq(csv_read(&s, seqs, text_cols, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(csv_read(&t, csv, NULL, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.rows, 174);
    int file_col = csv_column(&s, "file"), frames_col = csv_column(&s, "n_frames");
    cr_assert(file_col >= 0 && frames_col >= 0);
    /* every take parses with the README's skeleton and frame count; FK checked on a spread */
    int checked = 0;
    double worst = 0;
    for (int r = 0; r < s.rows; r++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, s.text[file_col][r]);
        Bvh b;
        cr_assert_eq(bvh_read(&b, path, &st), TK_OK, "%s", st.msg);
        cr_assert_eq(b.n_joints, 22, "%s", path);
        cr_assert_eq(b.n_end_sites, 5, "%s", path);
        cr_assert_eq(b.n_frames, (int)s.data[(size_t)r * s.cols + frames_col], "%s", path);
        cr_assert_float_eq(b.frame_time, 0.0333333, 1e-12);
        if (r % 29 == 0) {
            worst = fmax(worst, fk_vs_csv(&b, &t, (int)s.data[(size_t)r * s.cols]));
            checked++;
        }
        bvh_free(&b);
    }
    cr_assert_eq(checked, 6);
    /* the CSV has 1 decimal: 0.05 cm of rounding, plus 1e-3 cm for us */
    cr_assert_lt(worst, 0.05 + 1e-3, "largest difference %g cm", worst);
    cr_log_info("bandai_namco_1: FK vs CSV (1 decimal) on %d takes, max |diff| %.5f cm", checked,
                worst);
    csv_free(&s);
    csv_free(&t);
}
