/* test_study_long.c — `takt study` on long recordings: peak memory must not grow with the
 * number of frames beyond the few per-frame arrays (the coordinates stay on disk, training
 * reads a bounded sample), checked by running the binary on synthetic keypoints of 20,000 and
 * 200,000 frames and comparing the children's peak RSS; and the long path's report says how
 * training was sampled (that one also under the sanitizers). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "testutil.h"

/* AddressSanitizer's shadow memory and quarantine inflate RSS out of all proportion. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define JOINTS 5
#define SMALL_FRAMES 20000
#define LARGE_FRAMES 200000
/* What a frame may cost in memory: its bookkeeping (frame, time, sequence, presence: 13
 * bytes), its label and confidence (8), growth slack of the arrays built by doubling. */
#define BYTES_PER_FRAME 32
#define SLACK_BYTES (6L << 20)

/* A keypoints CSV as `takt pose` writes it: three motions taking turns every 90 frames (each
 * joint circling at its own speed), and nobody in view for 20 frames of every 1000. */
static const char *write_keypoints(const char *name, int frames)
{
    const char *path = test_scratch_path(name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("frame,time_s,pose", f);
    for (int j = 0; j < JOINTS; j++)
        fprintf(f, ",x%d,y%d,z%d,v%d", j, j, j, j);
    fputc('\n', f);
    for (int r = 0; r < frames; r++) {
        const int present = r % 1000 >= 20, motion = r / 90 % 3;
        fprintf(f, "%d,%.4f,%d", r, r / 30.0, present);
        for (int j = 0; j < JOINTS; j++) {
            const double w = 0.05 * (motion + 1) * (j + 1), t = r * w + j;
            if (present)
                fprintf(f, ",%.4f,%.4f,%.4f,0.9", 0.5 + 0.1 * (motion + 1) * cos(t),
                        0.5 + 0.08 * sin(t), 0.01 * motion);
            else
                fputs(",0,0,0,0", f);
        }
        fputc('\n', f);
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Peak RSS in bytes of the largest child waited for so far. */
static long children_peak_rss(void)
{
    struct rusage u;
    cr_assert_eq(getrusage(RUSAGE_CHILDREN, &u), 0);
    return u.ru_maxrss * 1024L;
}

static void run_study(const char *input, const char *outdir)
{
    char out[4096], err[8192];
    const int code = test_run_takt(out, sizeof out, err, sizeof err,
                                   "study '%s' -o '%s' --k 3 --epochs 1 --train-windows 500 "
                                   "--stride 40 --seed 1 --threads 1",
                                   input, outdir);
    cr_assert_eq(code, 0, "takt study %s failed (%d): %s", input, code, err);
}

TestSuite(study_long, .init = test_scratch_begin, .fini = test_scratch_end, .timeout = 300);

Test(study_long, memory_does_not_grow_with_the_recording)
{
    if (SANITIZED)
        cr_skip_test("AddressSanitizer inflates resident memory: the bound means nothing here");
    /* The smaller first: the children's peak is a maximum over every child so far. */
    run_study(write_keypoints("small.csv", SMALL_FRAMES), test_scratch_path("small"));
    const long small = children_peak_rss();
    run_study(write_keypoints("large.csv", LARGE_FRAMES), test_scratch_path("large"));
    const long large = children_peak_rss();
    const long bound = (long)BYTES_PER_FRAME * (LARGE_FRAMES - SMALL_FRAMES) + SLACK_BYTES;
    cr_log_info("peak RSS: %ld KB at %d frames, %ld KB at %d frames (bound on the growth %ld KB)",
                small / 1024, SMALL_FRAMES, large / 1024, LARGE_FRAMES, bound / 1024);
    cr_expect_lt(large - small, bound,
                 "peak RSS grew by %ld KB from %d to %d frames, more than %ld KB",
                 (large - small) / 1024, SMALL_FRAMES, LARGE_FRAMES, bound / 1024);
}

/* Also run under the sanitizers: the sampled training path end to end. */
Test(study_long, a_long_input_trains_on_a_sample_and_says_so)
{
    run_study(write_keypoints("long.csv", SMALL_FRAMES), test_scratch_path("long"));
    char path[1024];
    snprintf(path, sizeof path, "%s/report.json", test_scratch_path("long"));
    size_t size;
    char *json = test_read_file(path, &size);
    cr_assert_not_null(json, "%s missing", path);
    cr_expect_not_null(strstr(json, "\"sampled\": true"), "report.json: training not sampled");
    cr_expect_not_null(strstr(json, "\"windows_cap\": 500"), "report.json: cap not recorded");
    const char *w = strstr(json, "\"windows_per_epoch\": ");
    cr_assert_not_null(w);
    const int windows = atoi(w + 21);
    cr_expect(windows > 0 && windows <= 500, "%d training windows per epoch, cap 500", windows);
    char frames[64];
    snprintf(frames, sizeof frames, "\"frames\": %d", SMALL_FRAMES);
    cr_expect_not_null(strstr(json, frames), "report.json lacks %s", frames);
    free(json);
}
