/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
