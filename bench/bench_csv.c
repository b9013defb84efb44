/* bench_csv.c — `takt bench csv`: how fast the CSV reader takes in a keypoints file (frame,
 * time_s, pose and 33 x (x, y, z, visibility) with 6 decimals, as `takt pose` writes it),
 * read whole (csv_read) and streamed (CsvReader), in megabytes of file per second, beside
 * numpy.loadtxt (anchors/csv_numpy.py) on the same file in the same run. An 8-hour recording
 * at 30 fps is 864,000 such rows (about 1 GB); the benchmark file is a slice of that shape.
 * Reading is single-threaded, so one pinned thread is measured. */
#include "bench.h"
#include "../io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_BENCH_REPS 3
#define KEYPOINT_VALUES 132

static StatusCode write_keypoints(const char *path, int rows, Status *st) {
    FILE *fp = fopen(path, "w");
    if (!fp)
        return status_fail(st, TK_EIO, "csv: cannot create %s", path);
    fprintf(fp, "frame,time_s,pose");
    for (int j = 0; j < KEYPOINT_VALUES / 4; j++)
        fprintf(fp, ",x%d,y%d,z%d,v%d", j, j, j, j);
    fputc('\n', fp);
    Rng rng;
    rng_seed(&rng, 7, 0);
    for (int i = 0; i < rows; i++) {
        fprintf(fp, "%d,%.4f,1", i, i / 30.0);
        for (int j = 0; j < KEYPOINT_VALUES; j++)
            fprintf(fp, ",%.6f", rng_uniform(&rng) * (j % 4 == 2 ? -0.5 : 1.0));
        fputc('\n', fp);
    }
    return fclose(fp) == 0 ? TK_OK : status_fail(st, TK_EIO, "csv: cannot write %s", path);
}

static StatusCode read_whole(const char *path, int rows, Status *st) {
    CsvTable t;
    StatusCode code = csv_read(&t, path, NULL, st);
    if (code == TK_OK && t.rows != rows)
        code = status_fail(st, TK_EFORMAT, "csv: read %d rows of %d", t.rows, rows);
    csv_free(&t);
    return code;
}

static StatusCode read_streamed(const char *path, int rows, Status *st) {
    CsvReader *r;
    StatusCode code = csv_reader_open(&r, path, NULL, st);
    if (code != TK_OK)
        return code;
    float values[KEYPOINT_VALUES + 3];
    int got = 1, n = 0;
    while (code == TK_OK && got) {
        code = csv_reader_next(r, values, NULL, &got, st);
        n += got;
    }
    csv_reader_close(r);
    if (code == TK_OK && n != rows)
        code = status_fail(st, TK_EFORMAT, "csv: streamed %d rows of %d", n, rows);
    return code;
}

/* Median MB/s of CSV_BENCH_REPS reads after one warm-up (which also brings the file into
 * the page cache, as it is for the anchor). */
static StatusCode rate(StatusCode (*read)(const char *, int, Status *), const char *path,
                       int rows, double mb, double *mbps, Status *st) {
    double times[CSV_BENCH_REPS];
    StatusCode code = read(path, rows, st);
    for (int r = 0; r < CSV_BENCH_REPS && code == TK_OK; r++) {
        const double start = time_now();
        code = read(path, rows, st);
        times[r] = time_now() - start;
    }
    if (code == TK_OK)
        *mbps = mb / bench_median(times, CSV_BENCH_REPS);
    return code;
}

static double anchor_rate(const char *path, int rows, int cpu, int no_anchor) {
    if (no_anchor)
        return NAN;
    char args[600], out[4096];
    snprintf(args, sizeof args, "--path '%s' --reps %d", path, CSV_BENCH_REPS);
    Status st = {0};
    if (bench_run_anchor("csv_numpy.py", args, cpu, 1, out, sizeof out, &st) != TK_OK) {
        bench_note("csv: no anchor: %s", st.msg);
        return NAN;
    }
    double mbps;
    int got_rows, got_cols;
    if (sscanf(out, "%lf %d %d", &mbps, &got_rows, &got_cols) != 3 || got_rows != rows ||
        got_cols != KEYPOINT_VALUES + 3) {
        bench_note("csv: the anchor read something else: %s", out);
        return NAN;
    }
    return mbps;
}

StatusCode bench_csv(const BenchConfig *cfg, Status *st) {
    const int rows = cfg->quick ? 5000 : 50000;
    char path[64];
    snprintf(path, sizeof path, "/tmp/takt-bench-csv-XXXXXX");
    const int fd = mkstemp(path);
    if (fd < 0)
        return status_fail(st, TK_EIO, "csv: cannot create a file under /tmp");
    close(fd);
    StatusCode code = write_keypoints(path, rows, st);
    struct stat sb;
    if (code == TK_OK && stat(path, &sb) != 0)
        code = status_fail(st, TK_EIO, "csv: cannot stat %s", path);
    double whole = NAN, streamed = NAN;
    const int cpu = bench_pin_single_cpu();
    if (cpu < 0)
        bench_note("csv: cannot pin to one CPU; figures may be noisy");
    if (code == TK_OK)
        code = rate(read_whole, path, rows, sb.st_size / 1e6, &whole, st);
    if (code == TK_OK)
        code = rate(read_streamed, path, rows, sb.st_size / 1e6, &streamed, st);
    if (code == TK_OK) {
        char case_name[32];
        snprintf(case_name, sizeof case_name, "%dx%d", rows, KEYPOINT_VALUES + 3);
        const double anchor = anchor_rate(path, rows, cpu, cfg->no_anchor);
        const BenchRow whole_row = {.bench = "csv", .case_name = case_name, .threads = 1,
                                    .metric = "read_whole", .value = whole, .unit = "MB/s",
                                    .peak = NAN, .anchor = anchor,
                                    .anchor_name = "numpy.loadtxt", .higher_is_better = 1};
        bench_print_row(cfg, &whole_row);
        const BenchRow stream_row = {.bench = "csv", .case_name = case_name, .threads = 1,
                                     .metric = "read_stream", .value = streamed,
                                     .unit = "MB/s", .peak = NAN, .anchor = anchor,
                                     .anchor_name = "numpy.loadtxt", .higher_is_better = 1};
        bench_print_row(cfg, &stream_row);
    }
    bench_unpin();
    unlink(path);
    return code;
}
