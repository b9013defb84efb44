/* cmd_bench.c — `takt bench [NAME...] [--json] [--quick] [--no-anchor]`. */
#include "app.h"
#include "../bench/bench.h"

#include <stdio.h>
#include <string.h>

static void usage(void)
{
    printf("usage: takt bench [NAME...] [--json] [--quick] [--no-anchor]\n\n"
           "Runs the named benchmarks (all when none is named) and prints one row per figure:\n"
           "value, the CPU's measured FMA peak, the anchor's figure measured in the same run\n"
           "(numpy/OpenBLAS, PyTorch, scikit-learn where installed) and the ratio (> 1 = takt better).\n\n"
           "  --json       one JSON object per line: bench, case, threads, metric, value, unit,\n"
           "               peak, anchor, anchor_name, ratio\n"
           "  --quick      small sizes, few repetitions (a smoke run)\n"
           "  --no-anchor  do not run the anchors\n\nbenchmarks:\n");
    for (int i = 0; i < bench_registry_count; i++)
        printf("  %-8s %s\n", bench_registry[i].name, bench_registry[i].what);
}

int cmd_bench(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        usage();
        return EXIT_OK;
    }
    BenchConfig cfg = {0};
    int selected[64] = {0}, any = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            cfg.json = 1;
        else if (!strcmp(argv[i], "--quick"))
            cfg.quick = 1;
        else if (!strcmp(argv[i], "--no-anchor"))
            cfg.no_anchor = 1;
        else if (argv[i][0] == '-')
            return app_usage_error("bench", "unknown option '%s'", argv[i]);
        else {
            int found = 0;
            for (int b = 0; b < bench_registry_count; b++)
                if (!strcmp(argv[i], bench_registry[b].name))
                    selected[b] = found = any = 1;
            if (!found)
                return app_usage_error("bench", "no benchmark named '%s'", argv[i]);
        }
    }
    bench_print_header(&cfg);
    for (int b = 0; b < bench_registry_count; b++) {
        if (any && !selected[b])
            continue;
        Status st = {0};
        if (bench_registry[b].run(&cfg, &st) != TK_OK)
            return app_fail(&st);
    }
    return EXIT_OK;
}
