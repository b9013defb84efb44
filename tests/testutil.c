/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *test_shared_dir(void)
{
    const char *dir = getenv("TAKT_SHARED");
    if (!dir)
        dir = "../shared";
    struct stat sb;
    return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? dir : NULL;
}

const char *test_shared_path(char *buf, size_t size, const char *rel)
{
    const char *dir = test_shared_dir();
    if (!dir)
        return NULL;
    snprintf(buf, size, "%s/%s", dir, rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

void *test_read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    void *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        ((char *)buf)[n] = '\0';
        *size = (size_t)n;
    }
    return buf;
}

static void *read_exact(const char *path, size_t bytes)
{
    size_t size = 0;
    void *buf = test_read_file(path, &size);
    if (buf && size != bytes) {
        free(buf);
        return NULL;
    }
    return buf;
}

float *test_read_f32(const char *path, size_t count) { return read_exact(path, count * 4); }
int *test_read_i32(const char *path, size_t count) { return read_exact(path, count * 4); }

const char *test_tmpdir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/takt-test-XXXXXX");
    return mkdtemp(dir);
}

float *test_golden_f32(const char *dir, const char *name, size_t count)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", dir, name);
    float *v = test_read_f32(path, count);
    cr_assert_not_null(v, "%s missing or not %zu floats", path, count);
    return v;
}

void test_expect_torch_close(const char *what, const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double tol = 1e-5 * fabs(want[i]) + 1e-6;
        cr_assert(fabs((double)got[i] - want[i]) <= tol, "%s[%zu]: got %.9g, PyTorch %.9g", what,
                  i, got[i], want[i]);
    }
}

/* ---------------------------------------------------------------- scratch directory */

static const char *scratch_dir;

void test_scratch_begin(void)
{
    scratch_dir = test_tmpdir();
    cr_assert_not_null(scratch_dir, "mkdtemp failed");
}

const char *test_scratch_dir(void)
{
    cr_assert_not_null(scratch_dir, "test_scratch_begin was not called");
    return scratch_dir;
}

const char *test_scratch_path(const char *name)
{
    static char paths[64][512];
    static int next;
    char *p = paths[next++ % 64];
    snprintf(p, sizeof paths[0], "%s/%s", test_scratch_dir(), name);
    return p;
}

const char *test_scratch_write_bytes(const char *name, const void *data, size_t len)
{
    const char *path = test_scratch_path(name);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, len, fp), len);
    cr_assert_eq(fclose(fp), 0);
    return path;
}

const char *test_scratch_write(const char *name, const char *text)
{
    return test_scratch_write_bytes(name, text, strlen(text));
}

static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char child[1024];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        closedir(d);
    }
    rmdir(path);
}

void test_scratch_end(void)
{
    if (scratch_dir)
        remove_tree(scratch_dir);
    scratch_dir = NULL;
}

/* ---------------------------------------------------------------- running takt */

void test_capture_file(const char *path, char *buf, size_t size)
{
    size_t n = 0;
    char *text = test_read_file(path, &n);
    cr_assert_not_null(text, "cannot read %s", path);
    if (n >= size)
        n = size - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    free(text);
    unlink(path);
}

int test_run_takt(char *out, size_t out_size, char *err, size_t err_size, const char *fmt, ...)
{
    const char *bin = getenv("TAKT_BIN");
    if (!bin || !bin[0])
        cr_skip_test("TAKT_BIN is not set (make test sets it to the built takt binary)");
    char args[2048], command[4096], out_path[600], err_path[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(out_path, sizeof out_path, "%s/stdout.txt", test_scratch_dir());
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", test_scratch_dir());
    snprintf(command, sizeof command, "'%s' %s >'%s' 2>'%s'", bin, args, out_path, err_path);
    const int status = system(command);
    cr_assert(status != -1 && WIFEXITED(status), "could not run: %s", command);
    test_capture_file(out_path, out, out_size);
    test_capture_file(err_path, err, err_size);
    return WEXITSTATUS(status);
}

void test_two_class_set(SeqSet *s, int n, int F, const char *name0, const char *name1)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->n_features = F;
    s->n_classes = 2;
    s->seqs = calloc((size_t)n, sizeof(Sequence));
    s->class_names = calloc(2, sizeof(char *));
    cr_assert(s->seqs && s->class_names);
    s->class_names[0] = strdup(name0);
    s->class_names[1] = strdup(name1);
    cr_assert(s->class_names[0] && s->class_names[1]);
    for (int i = 0; i < n; i++) {
        s->seqs[i].label = i % 2;
        s->seqs[i].seq_id = i;
        s->seqs[i].subject = -1;
    }
}

float *test_sequence_frames(SeqSet *s, int i, int n_frames)
{
    Sequence *q = &s->seqs[i];
    q->n_frames = n_frames;
    q->x = malloc(sizeof(float) * (size_t)s->n_features * (size_t)(n_frames ? n_frames : 1));
    cr_assert_not_null(q->x);
    return q->x;
}
