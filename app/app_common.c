/* app_common.c — how every verb reports: errors to stderr as "takt: <what>", exit codes. */
#include "app.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int app_fail(const Status *st)
{
    fprintf(stderr, "takt: %s\n", st->msg[0] ? st->msg : status_code_name(st->code));
    return EXIT_RUNTIME;
}

int app_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "takt %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (takt %s --help)\n", verb);
    va_end(ap);
    return EXIT_USAGE;
}

int app_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

const volatile sig_atomic_t *app_stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = request_stop;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &stop_requested;
}
