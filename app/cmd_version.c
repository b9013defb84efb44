/* cmd_version.c — `takt version`: what a bug report needs to know about this build. */
#include "app.h"

#include <stdio.h>

int cmd_version(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        printf("usage: takt version\n\nPrints the version, the compiler, the SIMD level detected and in use,\n"
               "and the number of threads (OMP_NUM_THREADS sets it; TAKT_SIMD lowers the level).\n");
        return EXIT_OK;
    }
    if (argc > 1)
        return app_usage_error("version", "takes no arguments");
    printf("takt %s\n", TAKT_VERSION);
#if defined(__clang__)
    printf("compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
    printf("compiler: gcc %s\n", __VERSION__);
#endif
    printf("simd: %s (detected %s)\n", simd_name(simd_active()), simd_name(simd_detected()));
    printf("threads: %d\n", threads_max());
    return EXIT_OK;
}
