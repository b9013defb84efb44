/* test_seqdata.c — sequence data sets: a folder-per-class BVH set written by the test, the
 * labelled CSV layout with its labels.txt and sequences.csv (and its errors), keypoints cut by
 * segments, BVH files listed by an index, split files, resampling and cropping checked by
 * hand, normalisation fitted on the training sequences only, and from ../shared: MSR Action3D
 * against its README, Bandai-Namco's BVH takes against the positions shipped with them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/io.h"
#include "testutil.h"

/* ---------------------------------------------------------------- scratch files */

/* A folder of the scratch directory (removed with it by test_scratch_end). */
static const char *scratch_mkdir(const char *rel)
{
    const char *p = test_scratch_path(rel);
    cr_assert_eq(mkdir(p, 0700), 0, "mkdir %s", p);
    return p;
}

static void expect_error(StatusCode code, const Status *st, const char *a, const char *b)
{
    cr_assert_neq(code, TK_OK, "expected an error");
    cr_assert_not_null(strstr(st->msg, a), "'%s' not in: %s", a, st->msg);
    if (b)
        cr_assert_not_null(strstr(st->msg, b), "'%s' not in: %s", b, st->msg);
}

/* ---------------------------------------------------------------- folder of BVH files */

/* The two-joint arm of test_bvh.c (elbow 10 along x, hand 5 further), one frame per line of
 * `frames` (6 rotation values each). */
static char *arm_bvh(const char *frames, int n_frames)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "HIERARCHY\nROOT Shoulder\n{\n  OFFSET 0 0 0\n"
             "  CHANNELS 3 Zrotation Xrotation Yrotation\n  JOINT Elbow\n  {\n"
             "    OFFSET 10 0 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
             "    End Site\n    {\n      OFFSET 5 0 0\n    }\n  }\n}\n"
             "MOTION\nFrames: %d\nFrame Time: 0.1\n%s",
             n_frames, frames);
    return buf;
}

Test(seqdata, bvh_folder_per_class)
{
    test_scratch_begin();
    const char *data = scratch_mkdir("DATA");
    scratch_mkdir("DATA/wave");
    scratch_mkdir("DATA/bow");
    scratch_mkdir("DATA/notes"); /* no BVH inside: not a class */
    test_scratch_write("DATA/notes/readme.txt", "not data\n");
    test_scratch_write("DATA/wave/b.bvh", arm_bvh("0 0 0 0 0 0\n0 0 0 90 0 0\n", 2));
    test_scratch_write("DATA/wave/a.bvh", arm_bvh("90 0 0 0 0 0\n", 1));
    test_scratch_write("DATA/bow/x.BVH", arm_bvh("0 0 0 0 0 0\n0 0 0 0 0 0\n0 0 0 0 0 0\n", 3));

    SeqSet s;
    Status st = {0};
    cr_assert_eq(seqset_load(&s, data, SEQ_BVH_POSITIONS, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.n_classes, 2);
    cr_assert_str_eq(s.class_names[0], "bow");
    cr_assert_str_eq(s.class_names[1], "wave");
    cr_assert_eq(s.n_features, 6); /* 2 joints x 3 */
    /* sorted: bow/x.BVH, wave/a.bvh, wave/b.bvh */
    cr_assert_eq(s.seqs[0].label, 0);
    cr_assert_eq(s.seqs[1].label, 1);
    cr_assert_eq(s.seqs[2].label, 1);
    cr_assert_not_null(strstr(s.seqs[1].source, "wave/a.bvh"));
    cr_assert_eq(s.seqs[0].n_frames, 3);
    cr_assert_eq(s.seqs[1].n_frames, 1);
    cr_assert_eq(s.seqs[2].seq_id, 2);
    cr_assert_eq(s.seqs[2].subject, -1);
    /* wave/a.bvh: shoulder turned 90 degrees about z: elbow at (0, 10, 0) */
    const float *x = s.seqs[1].x;
    cr_assert_float_eq(x[3], 0.0f, 1e-5);
    cr_assert_float_eq(x[4], 10.0f, 1e-5);
    /* wave/b.bvh frame 1: the elbow turned, the elbow itself stays at (10, 0, 0) */
    cr_assert_float_eq(s.seqs[2].x[6 + 3], 10.0f, 1e-5);
    seqset_free(&s);

    cr_assert_eq(seqset_load_bvh_folder(&s, data, SEQ_BVH_CHANNELS, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n_features, 6);
    cr_assert_float_eq(s.seqs[1].x[0], 90.0f, 0); /* the raw Zrotation of the shoulder */
    seqset_free(&s);
    cr_assert_eq(seqset_load_bvh_folder(&s, data, SEQ_BVH_POSITIONS_ROTATIONS, &st), TK_OK,
                 "%s", st.msg);
    cr_assert_eq(s.n_features, 12);
    cr_assert_float_eq(s.seqs[1].x[4], 10.0f, 1e-5); /* positions first */
    cr_assert_float_eq(s.seqs[1].x[6], 90.0f, 0);    /* then rotations */
    seqset_free(&s);

    /* a file with another skeleton is refused by name */
    test_scratch_write("DATA/wave/c.bvh", "HIERARCHY\nROOT R\n{\nOFFSET 0 0 0\n"
                                          "CHANNELS 3 Xrotation Yrotation Zrotation\n}\n"
                                          "MOTION\nFrames: 1\nFrame Time: 0.1\n1 2 3\n");
    StatusCode code = seqset_load_bvh_folder(&s, data, SEQ_BVH_POSITIONS, &st);
    expect_error(code, &st, "wave/c.bvh", "same skeleton");
    cr_assert_eq(s.seqs, NULL);
    /* a malformed file: the reader's error, with the line */
    test_scratch_write("DATA/wave/c.bvh", arm_bvh("0 0 0 0 0\n", 1));
    code = seqset_load_bvh_folder(&s, data, SEQ_BVH_POSITIONS, &st);
    expect_error(code, &st, "wave/c.bvh: line 19", "expected 6");
    test_scratch_end();
}

Test(seqdata, empty_or_missing_folder)
{
    test_scratch_begin();
    const char *data = scratch_mkdir("EMPTY");
    SeqSet s;
    Status st = {0};
    expect_error(seqset_load_bvh_folder(&s, data, SEQ_BVH_POSITIONS, &st), &st, "EMPTY",
                 "no class folders");
    expect_error(seqset_load(&s, "tests/data/bvh/nowhere", SEQ_BVH_POSITIONS, &st), &st,
                 "nowhere", NULL);
    test_scratch_end();
}

Test(seqdata, bvh_files_by_index)
{
    test_scratch_begin();
    scratch_mkdir("takes");
    test_scratch_write("takes/one.bvh", arm_bvh("90 0 0 0 0 0\n", 1));
    test_scratch_write("takes/two.bvh", arm_bvh("0 0 0 0 0 0\n0 0 0 0 0 0\n", 2));
    const char *index = test_scratch_write("index.csv", "seq_id,file,content,label,subject\n"
                                           "10,two.bvh,bye,2,4\n11,one.bvh,bow,0,7\n");
    test_scratch_write("labels.txt", "0 bow\n1 run\n2 bye\n");
    char takes[600];
    snprintf(takes, sizeof takes, "%s/takes", test_scratch_dir());
    SeqSet s;
    Status st = {0};
    cr_assert_eq(seqset_load_bvh_index(&s, index, takes, SEQ_BVH_ROTATIONS, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.n_features, 6);
    cr_assert_eq(s.n_classes, 3);
    cr_assert_str_eq(s.class_names[2], "bye");
    cr_assert(s.seqs[0].seq_id == 10 && s.seqs[0].label == 2 && s.seqs[0].subject == 4);
    cr_assert(s.seqs[1].seq_id == 11 && s.seqs[1].label == 0 && s.seqs[1].subject == 7);
    cr_assert_eq(s.seqs[0].n_frames, 2);
    cr_assert_float_eq(s.seqs[1].x[0], 90.0f, 0);
    seqset_free(&s);
    /* without bvh_dir the files are looked for beside the index */
    expect_error(seqset_load_bvh_index(&s, index, NULL, SEQ_BVH_ROTATIONS, &st), &st,
                 "two.bvh", "cannot open");
    index = test_scratch_write("index2.csv", "seq_id,name,label\n0,one.bvh,0\n");
    expect_error(seqset_load_bvh_index(&s, index, takes, SEQ_BVH_ROTATIONS, &st), &st,
                 "index2.csv: line 1", "seq_id, file and label");
    test_scratch_end();
}

/* ---------------------------------------------------------------- labelled CSV */

Test(seqdata, labelled_csv_with_labels_and_subjects)
{
    test_scratch_begin();
    const char *csv = test_scratch_write("set.csv", "seq_id,frame,label,x0,y0\n"
                                         "4,0,1,1,2\n4,1,1,3,4\n4,5,1,5,6\n"
                                         "7,0,0,7,8\n"
                                         "2,0,2,9,10\n2,1,2,11,12\n");
    test_scratch_write("labels.txt", "0 walk\n1 run\n2 jump\n3 sit\n");
    test_scratch_write("sequences.csv", "seq_id,file,subject,note\n4,a.bvh,3,x\n7,b.bvh,2,y\n"
                       "2,c.bvh,5,z\n");
    SeqSet s;
    Status st = {0};
    cr_assert_eq(seqset_load(&s, csv, SEQ_BVH_POSITIONS, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.n_features, 2);
    cr_assert_eq(s.n_classes, 4); /* labels.txt names a class absent from the data */
    cr_assert_str_eq(s.class_names[1], "run");
    cr_assert_str_eq(s.class_names[3], "sit");
    cr_assert_eq(s.seqs[0].seq_id, 4);
    cr_assert_eq(s.seqs[0].n_frames, 3);
    cr_assert_eq(s.seqs[0].label, 1);
    cr_assert_float_eq(s.seqs[0].x[5], 6.0f, 0);
    cr_assert_eq(s.seqs[1].n_frames, 1);
    cr_assert_eq(s.seqs[0].subject, 3);
    cr_assert_eq(s.seqs[1].subject, 2);
    cr_assert_eq(s.seqs[2].subject, 5);

    unsigned char is_val[3];
    cr_assert_eq(seqset_split_even_subjects(&s, is_val, &st), TK_OK, "%s", st.msg);
    cr_assert(is_val[0] == 0 && is_val[1] == 1 && is_val[2] == 0);

    const char *split = test_scratch_write("val.txt", "# validation\n2, 7\n");
    cr_assert_eq(seqset_split_file(&s, split, is_val, &st), TK_OK, "%s", st.msg);
    cr_assert(is_val[0] == 0 && is_val[1] == 1 && is_val[2] == 1);
    split = test_scratch_write("bad_val.txt", "2\n\n9\n");
    expect_error(seqset_split_file(&s, split, is_val, &st), &st, "bad_val.txt: line 3",
                 "seq_id 9 is not in the data set");
    split = test_scratch_write("bad_val2.txt", "2 x7\n");
    expect_error(seqset_split_file(&s, split, is_val, &st), &st, "bad_val2.txt: line 1",
                 "'x7'");
    seqset_free(&s);
    test_scratch_end();
}

Test(seqdata, labelled_csv_errors)
{
    test_scratch_begin();
    SeqSet s;
    Status st = {0};
    const char *p =
        test_scratch_write("a.csv", "seq_id,frame,label,x0\n1,0,0,1\n2,0,0,1\n1,1,0,1\n");
    expect_error(seqset_load_labelled_csv(&s, p, &st), &st, "a.csv: line 4",
                 "seq_id 1 appears again");
    p = test_scratch_write("b.csv", "seq_id,frame,label,x0\n1,0,0,1\n1,0,0,1\n");
    expect_error(seqset_load_labelled_csv(&s, p, &st), &st, "b.csv: line 3",
                 "does not follow");
    p = test_scratch_write("c.csv", "seq_id,frame,label,x0\n1,0,0,1\n1,1,2,1\n");
    expect_error(seqset_load_labelled_csv(&s, p, &st), &st, "c.csv: line 3", "label 2");
    p = test_scratch_write("d.csv", "seq,frame,label,x0\n1,0,0,1\n");
    expect_error(seqset_load_labelled_csv(&s, p, &st), &st, "d.csv: line 1", "seq_id");
    p = test_scratch_write("e.csv", "seq_id,frame,label,x0\n1,0,0,abc\n");
    expect_error(seqset_load_labelled_csv(&s, p, &st), &st, "e.csv", "line 2");
    p = test_scratch_write("f.csv", "seq_id,frame,label,x0\n1,0,0.5,1\n");
    expect_error(seqset_load_labelled_csv(&s, p, &st), &st, "f.csv: line 2", "whole numbers");
    /* no subjects: the cross-subject split is refused */
    p = test_scratch_write("g.csv", "seq_id,frame,label,x0\n1,0,0,1\n");
    cr_assert_eq(seqset_load_labelled_csv(&s, p, &st), TK_OK, "%s", st.msg);
    cr_assert_str_eq(s.class_names[0], "0");
    unsigned char is_val[1];
    expect_error(seqset_split_even_subjects(&s, is_val, &st), &st, "seq_id 1", "no subject");
    seqset_free(&s);
    test_scratch_end();
}

/* ---------------------------------------------------------------- keypoints + segments */

Test(seqdata, keypoints_cut_by_segments)
{
    test_scratch_begin();
    /* frames 0..9, landmark 0 at x = frame, y = 10 * frame, z = -frame; landmark 1 at 100 + */
    char text[2048];
    int len = snprintf(text, sizeof text, "frame,time_s,pose,x0,y0,z0,v0,x1,y1,z1,v1\n");
    for (int f = 0; f < 10; f++)
        len += snprintf(text + len, sizeof text - len, "%d,%.3f,1,%d,%d,%d,0.9,%d,%d,%d,0.8\n",
                        f, f / 30.0, f, 10 * f, -f, 100 + f, 110 + f, 120 + f);
    const char *kp = test_scratch_write("kp.csv", text);
    const char *seg = test_scratch_write("seg.csv", "start_frame,end_frame,label\n"
                                         "1,3,reach\n4,4,grasp\n7,9,reach\n");
    SeqSet s;
    Status st = {0};
    cr_assert_eq(seqset_load_keypoints(&s, kp, seg, 0, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.n_features, 6); /* x, y, z of 2 landmarks; visibility left out */
    cr_assert_eq(s.n_classes, 2);
    cr_assert_str_eq(s.class_names[0], "grasp");
    cr_assert_str_eq(s.class_names[1], "reach");
    cr_assert_eq(s.seqs[0].label, 1);
    cr_assert_eq(s.seqs[1].label, 0);
    cr_assert_eq(s.seqs[0].n_frames, 3); /* inclusive: 1, 2, 3 */
    cr_assert_eq(s.seqs[1].n_frames, 1);
    cr_assert_float_eq(s.seqs[0].x[0], 1.0f, 0);
    cr_assert_float_eq(s.seqs[0].x[2 * 6 + 1], 30.0f, 0); /* frame 3, y0 */
    cr_assert_float_eq(s.seqs[2].x[5], 127.0f, 0);        /* frame 7, z1 */
    seqset_free(&s);

    cr_assert_eq(seqset_load_keypoints(&s, kp, seg, 1, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n_features, 4);
    cr_assert_float_eq(s.seqs[0].x[2], 101.0f, 0); /* x1 right after y0 */
    seqset_free(&s);

    seg = test_scratch_write("seg2.csv", "start_frame,end_frame,label\n0,1,10\n2,3,2\n");
    cr_assert_eq(seqset_load_keypoints(&s, kp, seg, 0, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n_classes, 11); /* whole-number labels are the class ids */
    cr_assert_eq(s.seqs[0].label, 10);
    seqset_free(&s);

    seg = test_scratch_write("seg3.csv", "start_frame,end_frame,label\n0,1,a\n20,30,b\n");
    expect_error(seqset_load_keypoints(&s, kp, seg, 0, &st), &st, "segment 2",
                 "has no frames");
    seg = test_scratch_write("seg4.csv", "start_frame,end_frame,label\n5,1,a\n");
    expect_error(seqset_load_keypoints(&s, kp, seg, 0, &st), &st, "seg4.csv: segment 1",
                 "start <= end");
    test_scratch_end();
}

Test(seqdata, keypoints_with_visibility_whole_files_and_frames_in_memory)
{
    test_scratch_begin();
    const char *kp = test_scratch_write("kp.csv", "frame,time_s,pose,x0,y0,z0,v0\n"
                                                  "0,0,1,1,2,3,0.5\n1,0.033,1,4,5,6,0.25\n"
                                                  "2,0.067,1,7,8,9,1\n");
    const char *seg = test_scratch_write("seg.csv", "start_frame,end_frame,label\n1,2,walk\n");
    SeqSet s;
    Status st = {0};
    cr_assert_eq(seqset_load_keypoints(&s, kp, seg, SEQ_KEYPOINTS_VISIBILITY, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(s.n_features, 4);
    const float want[8] = {4, 5, 6, 0.25f, 7, 8, 9, 1};
    cr_assert_eq(s.seqs[0].n_frames, 2);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(s.seqs[0].x[i], want[i], "value %d: %g", i, s.seqs[0].x[i]);
    seqset_free(&s);
    /* No segments: the whole file, for prediction. */
    cr_assert_eq(seqset_load_keypoints(&s, kp, NULL, SEQ_KEYPOINTS_XY, &st), TK_OK, "%s", st.msg);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.n_features, 2);
    cr_assert_eq(s.seqs[0].n_frames, 3);
    cr_assert_eq(s.seqs[0].x[5], 8.0f);
    seqset_free(&s);
    /* Frames in memory (a video's features), frame numbers with a gap. */
    const float x[4 * 2] = {0, 0, 1, 10, 2, 20, 3, 30};
    const int frame[4] = {0, 1, 2, 5};
    seg = test_scratch_write("seg2.csv", "start_frame,end_frame,label\n1,5,b\n0,0,a\n");
    cr_assert_eq(seqset_cut_frames(&s, x, frame, 4, 2, seg, "clip.y4m", &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.seqs[0].n_frames, 3);
    cr_assert_eq(s.seqs[0].label, 1);
    cr_assert_eq(s.seqs[0].x[5], 30.0f);
    cr_assert_str_eq(s.seqs[0].source, "clip.y4m");
    cr_assert_eq(s.seqs[1].n_frames, 1);
    seqset_free(&s);
    const int backwards[4] = {0, 2, 1, 5};
    expect_error(seqset_cut_frames(&s, x, backwards, 4, 2, seg, "clip.y4m", &st), &st,
                 "clip.y4m", "does not follow");
    seg = test_scratch_write("seg3.csv", "start_frame,end_frame,label\n6,9,a\n");
    expect_error(seqset_cut_frames(&s, x, frame, 4, 2, seg, "clip.y4m", &st), &st, "segment 1",
                 "no frames in clip.y4m");
    test_scratch_end();
}

/* ---------------------------------------------------------------- fixed length, by hand */

Test(seqdata, resample_and_crop_by_hand)
{
    const float x[3 * 2] = {0, 10, 1, 30, 3, 20};
    float out[5 * 2];
    /* numpy.interp at linspace(0, 2, 5) = 0, 0.5, 1, 1.5, 2 */
    seq_resample(x, 3, 2, 5, out);
    const float want5[10] = {0, 10, 0.5f, 20, 1, 30, 2, 25, 3, 20};
    for (int i = 0; i < 10; i++)
        cr_assert_float_eq(out[i], want5[i], 1e-6, "resample T=5, value %d: %g", i, out[i]);
    /* T = 2 keeps the ends */
    seq_resample(x, 3, 2, 2, out);
    cr_assert(out[0] == 0 && out[1] == 10 && out[2] == 3 && out[3] == 20);
    /* down-sampling 3 -> 2 -> up: linspace(0, 2, 4) = 0, 2/3, 4/3, 2 */
    seq_resample(x, 3, 2, 4, out);
    cr_assert_float_eq(out[2], 2.0f / 3.0f, 1e-6);
    cr_assert_float_eq(out[4], 1.0f + 2.0f / 3.0f, 1e-6);
    cr_assert_float_eq(out[5], 30.0f - 10.0f / 3.0f, 1e-5);
    /* one frame is repeated, T = 1 takes the first frame */
    seq_resample(x + 2, 1, 2, 3, out);
    cr_assert(out[0] == 1 && out[3] == 30 && out[4] == 1 && out[5] == 30);
    seq_resample(x, 3, 2, 1, out);
    cr_assert(out[0] == 0 && out[1] == 10);
    /* crop: the first T frames, the last one repeated past the end */
    seq_crop(x, 3, 2, 5, out);
    const float want_crop[10] = {0, 10, 1, 30, 3, 20, 3, 20, 3, 20};
    cr_assert_arr_eq(out, want_crop, sizeof want_crop);
    seq_crop(x, 3, 2, 2, out);
    cr_assert(out[2] == 1 && out[3] == 30);
}

/* ---------------------------------------------------------------- normalisation */

Test(seqdata, normalisation_fits_training_only)
{
    /* 3 features: varying, constant, varying; sequence 1 is validation and extreme */
    float a[3 * 3] = {1, 5, 0, 2, 5, 10, 3, 5, 20};
    float b[1 * 3] = {1000, 9, -1000};
    Sequence seqs[2] = {{.n_frames = 3, .x = a, .seq_id = 0}, {.n_frames = 1, .x = b, .seq_id = 1}};
    SeqSet s = {.n = 2, .n_features = 3, .n_classes = 1, .seqs = seqs};
    const unsigned char is_val[2] = {0, 1};
    SeqNorm z, mm;
    Status st = {0};
    cr_assert_eq(seqnorm_fit(&z, &s, is_val, SEQ_NORM_ZSCORE, &st), TK_OK, "%s", st.msg);
    /* feature 0: mean 2, population sd sqrt(2/3); feature 2: mean 10, sd sqrt(200/3) */
    cr_assert_float_eq(z.shift[0], 2.0f, 1e-6);
    cr_assert_float_eq(z.scale[0], 1.0 / sqrt(2.0 / 3.0), 1e-5);
    cr_assert_float_eq(z.scale[1], 0.0f, 0);
    cr_assert_float_eq(z.shift[2], 10.0f, 1e-5);
    cr_assert_float_eq(z.scale[2], 1.0 / sqrt(200.0 / 3.0), 1e-6);
    cr_assert_eq(seqnorm_fit(&mm, &s, is_val, SEQ_NORM_MINMAX, &st), TK_OK, "%s", st.msg);
    float row[3] = {3, 9, 0};
    seqnorm_apply(&mm, row, 1);
    cr_assert(row[0] == 1.0f && row[1] == 0.0f && row[2] == 0.0f, "%g %g %g", row[0], row[1],
              row[2]);

    /* a batch: resampled to 5 steps, then z-scored */
    const int idx[2] = {1, 0};
    float out[2 * 5 * 3];
    seqset_batch(&s, idx, 2, 5, SEQ_FIT_RESAMPLE, &z, out);
    cr_assert_float_eq(out[0], (1000.0 - 2.0) / sqrt(2.0 / 3.0), 1e-2); /* seq 1 repeated */
    cr_assert_float_eq(out[1], 0.0f, 0);
    cr_assert_float_eq(out[15 + 3 * 2 + 0], 0.0f, 1e-6); /* seq 0, step 2 = frame 1 = mean */
    seqset_batch(&s, idx + 1, 1, 2, SEQ_FIT_CROP, NULL, out);
    cr_assert(out[0] == 1 && out[3] == 2 && out[5] == 10);

    /* no training frames at all */
    const unsigned char all_val[2] = {1, 1};
    SeqNorm none;
    expect_error(seqnorm_fit(&none, &s, all_val, SEQ_NORM_ZSCORE, &st), &st, "no training", NULL);
    seqnorm_free(&z);
    seqnorm_free(&mm);
}

/* The takes of Bandai-Namco's dataset 1 from their BVH files (listed in sequences.csv) give the
 * labels and, by our forward kinematics, the positions of the dataset's own CSV. */
Test(seqdata, bandai_namco_from_bvh_matches_its_csv)
{
    char index[1024], csv[1024], dir[1024];
    if (!test_shared_path(index, sizeof index, "data/bandai_namco_1/sequences.csv") ||
        !test_shared_path(csv, sizeof csv, "data/bandai_namco_1/bandai_namco_1.csv") ||
        !test_shared_path(dir, sizeof dir, "data/bandai_namco_1/orig/data"))
        cr_skip_test("../shared not found (data/bandai_namco_1)");
    SeqSet a, b;
    Status st = {0};
    cr_assert_eq(seqset_load_bvh_index(&a, index, dir, SEQ_BVH_POSITIONS, &st), TK_OK, "%s",
                 st.msg);
    cr_assert_eq(seqset_load_labelled_csv(&b, csv, &st), TK_OK, "%s", st.msg);
    /* README: 174 takes, 17 classes (one absent), 22 joints */
    cr_assert_eq(a.n, 174);
    cr_assert_eq(b.n, 174);
    cr_assert_eq(a.n_classes, 17);
    cr_assert_eq(a.n_features, 66);
    cr_assert_eq(b.n_features, 66);
    cr_assert_str_eq(a.class_names[0], "walk");
    double worst = 0;
    for (int i = 0; i < a.n; i++) {
        cr_assert_eq(a.seqs[i].seq_id, b.seqs[i].seq_id);
        cr_assert_eq(a.seqs[i].label, b.seqs[i].label, "seq %d", i);
        cr_assert_eq(a.seqs[i].n_frames, b.seqs[i].n_frames, "seq %d", i);
        for (size_t k = 0; k < (size_t)a.seqs[i].n_frames * 66; k++)
            worst = fmax(worst, fabs(a.seqs[i].x[k] - b.seqs[i].x[k]));
    }
    /* the CSV's 1 decimal */
    cr_assert_lt(worst, 0.05 + 1e-3, "largest difference %g cm", worst);
    seqset_free(&a);
    seqset_free(&b);
}

/* ---------------------------------------------------------------- MSR Action3D (../shared) */

Test(seqdata, msr_action3d_counts_and_cross_subject_split)
{
    char path[1024];
    if (!test_shared_path(path, sizeof path, "data/msr_action3d/msr_action3d.csv"))
        cr_skip_test("../shared not found (data/msr_action3d)");
    SeqSet s;
    Status st = {0};
    cr_assert_eq(seqset_load(&s, path, SEQ_BVH_POSITIONS, &st), TK_OK, "%s", st.msg);
    /* README: 567 sequences, 23,478 frames, 20 classes, 20 joints x 3, 13-936 frames */
    cr_assert_eq(s.n, 567);
    cr_assert_eq(s.n_classes, 20);
    cr_assert_eq(s.n_features, 60);
    cr_assert_str_eq(s.class_names[0], "high_arm_wave");
    cr_assert_str_eq(s.class_names[19], "pickup_and_throw");
    long frames = 0;
    int shortest = 1 << 30, longest = 0, per_class[20] = {0};
    for (int i = 0; i < s.n; i++) {
        frames += s.seqs[i].n_frames;
        shortest = s.seqs[i].n_frames < shortest ? s.seqs[i].n_frames : shortest;
        longest = s.seqs[i].n_frames > longest ? s.seqs[i].n_frames : longest;
        cr_assert(s.seqs[i].label >= 0 && s.seqs[i].label < 20);
        per_class[s.seqs[i].label]++;
        cr_assert(s.seqs[i].subject >= 1 && s.seqs[i].subject <= 10, "seq %d", i);
    }
    cr_assert_eq(frames, 23478);
    cr_assert_eq(shortest, 13);
    cr_assert_eq(longest, 936);
    for (int c = 0; c < 20; c++)
        cr_assert(per_class[c] >= 20 && per_class[c] <= 30, "class %d: %d", c, per_class[c]);

    /* cross-subject: odd subjects train, even validate (sizes counted with Python's csv
     * module from sequences.csv: 292 and 275) */
    unsigned char *is_val = malloc((size_t)s.n);
    cr_assert_not_null(is_val);
    cr_assert_eq(seqset_split_even_subjects(&s, is_val, &st), TK_OK, "%s", st.msg);
    int n_val = 0;
    for (int i = 0; i < s.n; i++)
        n_val += is_val[i];
    cr_assert_eq(s.n - n_val, 292);
    cr_assert_eq(n_val, 275);

    /* z-score on the training frames: they come out with mean 0 and sd 1 per feature */
    SeqNorm z;
    cr_assert_eq(seqnorm_fit(&z, &s, is_val, SEQ_NORM_ZSCORE, &st), TK_OK, "%s", st.msg);
    double sum[60] = {0}, sq[60] = {0};
    long n = 0;
    for (int i = 0; i < s.n; i++) {
        if (is_val[i])
            continue;
        float *x = malloc((size_t)s.seqs[i].n_frames * 60 * sizeof *x);
        cr_assert_not_null(x);
        memcpy(x, s.seqs[i].x, (size_t)s.seqs[i].n_frames * 60 * sizeof *x);
        seqnorm_apply(&z, x, (size_t)s.seqs[i].n_frames);
        for (int f = 0; f < s.seqs[i].n_frames; f++)
            for (int k = 0; k < 60; k++) {
                sum[k] += x[f * 60 + k];
                sq[k] += (double)x[f * 60 + k] * x[f * 60 + k];
            }
        n += s.seqs[i].n_frames;
        free(x);
    }
    for (int k = 0; k < 60; k++) {
        cr_assert_float_eq(sum[k] / n, 0.0, 1e-4, "feature %d mean %g", k, sum[k] / n);
        cr_assert_float_eq(sq[k] / n, 1.0, 1e-3, "feature %d var %g", k, sq[k] / n);
    }

    /* every sequence to HARNets' 200 steps */
    int *idx = malloc((size_t)s.n * sizeof *idx);
    float *batch = malloc((size_t)s.n * 200 * 60 * sizeof *batch);
    cr_assert(idx && batch);
    for (int i = 0; i < s.n; i++)
        idx[i] = i;
    seqset_batch(&s, idx, s.n, 200, SEQ_FIT_RESAMPLE, &z, batch);
    for (size_t i = 0; i < (size_t)s.n * 200 * 60; i++)
        cr_assert(isfinite(batch[i]));
    /* the first and last steps are the first and last frames */
    const Sequence *q = &s.seqs[5];
    float first = (q->x[7] - z.shift[7]) * z.scale[7];
    float last = (q->x[(size_t)(q->n_frames - 1) * 60 + 7] - z.shift[7]) * z.scale[7];
    cr_assert_float_eq(batch[(size_t)5 * 200 * 60 + 7], first, 1e-6);
    cr_assert_float_eq(batch[(size_t)5 * 200 * 60 + 199 * 60 + 7], last, 1e-5);
    free(idx);
    free(batch);
    free(is_val);
    seqnorm_free(&z);
    seqset_free(&s);
}
