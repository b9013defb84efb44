/* atomic_file — output that appears under its real name complete or not at all.
 *
 * Data goes to PATH.tmp; commit flushes it to the disk, then renames it over PATH (rename is
 * atomic within a file system), then syncs the directory so that the rename itself survives
 * a crash. Any failure removes the temporary file and leaves a previous PATH untouched. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

StatusCode atomic_open(AtomicFile *f, const char *path, Status *st) {
    memset(f, 0, sizeof *f);
    size_t len = strlen(path);
    if (len == 0)
        return status_fail(st, TK_EINVAL, "output path is empty");
    if (len + sizeof ".tmp" > sizeof f->tmp_path)
        return status_fail(st, TK_EINVAL, "%.64s...: output path is longer than %zu bytes",
                           path, sizeof f->tmp_path - sizeof ".tmp");
    memcpy(f->path, path, len + 1);
    memcpy(f->tmp_path, path, len);
    memcpy(f->tmp_path + len, ".tmp", sizeof ".tmp");
    f->fp = fopen(f->tmp_path, "wb");
    if (!f->fp) {
        int err = errno;
        StatusCode code = status_fail(st, TK_EIO, "%s: cannot create %s: %s", path,
                                      f->tmp_path, strerror(err));
        memset(f, 0, sizeof *f);
        return code;
    }
    return TK_OK;
}

/* Without this the rename may be lost by a crash even though the data was synced. Best
 * effort: some file systems refuse to fsync a directory, and the data is already safe. */
static void sync_parent_directory(const char *path) {
    char dir[sizeof ((AtomicFile *)0)->path];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        (void)close(fd);
    }
}

/* err 0: the cause is no longer known (errno of an earlier call was not kept). */
static StatusCode commit_failed(AtomicFile *f, Status *st, const char *what, int err) {
    StatusCode code = status_fail(st, TK_EIO, "%s: %s %s%s%s", f->path, what, f->tmp_path,
                                  err ? ": " : "", err ? strerror(err) : "");
    if (f->fp)
        (void)fclose(f->fp);
    (void)unlink(f->tmp_path);
    memset(f, 0, sizeof *f);
    return code;
}

StatusCode atomic_commit(AtomicFile *f, Status *st) {
    if (!f->fp)
        return status_fail(st, TK_EINVAL, "%s: atomic_commit on a file that is not open",
                           f->path[0] ? f->path : "(unnamed)");
    /* A failed fwrite sets the error flag but a later fflush may still succeed. */
    if (ferror(f->fp))
        return commit_failed(f, st, "an earlier write failed on", 0);
    if (fflush(f->fp) != 0)
        return commit_failed(f, st, "cannot write", errno);
    if (fsync(fileno(f->fp)) != 0)
        return commit_failed(f, st, "cannot sync", errno);
    FILE *fp = f->fp;
    f->fp = NULL;
    if (fclose(fp) != 0)
        return commit_failed(f, st, "cannot close", errno);
    if (rename(f->tmp_path, f->path) != 0) {
        int err = errno;
        StatusCode code = status_fail(st, TK_EIO, "%s: cannot rename %s over it: %s", f->path,
                                      f->tmp_path, strerror(err));
        (void)unlink(f->tmp_path);
        memset(f, 0, sizeof *f);
        return code;
    }
    sync_parent_directory(f->path);
    memset(f, 0, sizeof *f);
    return TK_OK;
}

void atomic_abort(AtomicFile *f) {
    if (f->fp)
        (void)fclose(f->fp);
    if (f->tmp_path[0])
        (void)unlink(f->tmp_path);
    memset(f, 0, sizeof *f);
}
