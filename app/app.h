/* app — the `takt` command line: verbs, their options, and everything that prints or exits.
 * Each verb is a function taking argc/argv after the verb and returning the exit code:
 * 0 ok, 1 runtime error, 2 usage error. Errors go to stderr as "takt: <file>: <what>". */
#ifndef TAKT_APP_H
#define TAKT_APP_H

#include "../core/core.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Prints "takt: <msg>" to stderr and returns EXIT_RUNTIME (or EXIT_USAGE for TK_EINVAL from
 * argument checking, decided by the caller). */
int app_fail(const Status *st);
int app_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help. */
int app_wants_help(int argc, char **argv);

/* Progress of a long stage: on a terminal a bar redrawn at most 10 times a second with rate
 * and ETA; otherwise (CI, pipes) one line when the stage starts and one when it ends, so logs
 * stay short. Writes to stderr. */
typedef struct {
    char label[64];
    double total;      /* units of work, 0 when unknown */
    const char *unit;  /* "frames", "epochs", ... */
    double start, last_draw;
    int tty;
} Progress;

void progress_start(Progress *p, const char *label, double total, const char *unit);
/* done = units finished so far; note = short extra text (loss, fps), may be NULL. */
void progress_update(Progress *p, double done, const char *note);
void progress_end(Progress *p, const char *note);

int cmd_version(int argc, char **argv);
int cmd_weights(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
