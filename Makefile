# takt — one Makefile for the library, the `takt` binary, the tests and the benchmarks.
#
#   make test          install what is missing (Debian, as root), build, run every test
#   make demo          install what is missing, build, run the demo job
#   make bench         run every benchmark beside its anchor
#   make test SANITIZE=1   the same tests under AddressSanitizer + UBSan (build/san/)
#   make CC=clang      any C11 compiler with OpenMP

CC      ?= cc
SHELL   := /bin/bash
SANITIZE ?=
PYTHON  ?= /usr/bin/python3

ifeq ($(SANITIZE),1)
BUILD   ?= build/san
OPT     ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
OPT     ?= -O2 -g
endif

# Portable x86-64 baseline; wider kernels are compiled per file and chosen at run time.
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fopenmp $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -fopenmp -lm $(LDLIBS)

# Deferred (=) so that pkg-config runs after `deps` has installed the packages.
PKG_CFLAGS = $(shell pkg-config --cflags stb libpng 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs stb libpng 2>/dev/null)
CRIT_FLAGS = $(shell pkg-config --cflags --libs criterion 2>/dev/null || echo -lcriterion)

SIMD_AVX2   := -mavx2 -mfma -mf16c
SIMD_AVX512 := -mavx512f -mavx512dq -mavx2 -mfma -mf16c

MODULES  := core io nn cluster pose bench app
LIB_SRC  := $(foreach m,core io nn cluster pose bench,$(wildcard $(m)/*.c)) \
            $(filter-out app/main.c,$(wildcard app/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

LIB      := $(BUILD)/libtakt.a
TAKT     := $(BUILD)/takt
TESTS    := $(BUILD)/takt-tests

DEB_PKGS := build-essential pkg-config libstb-dev libpng-dev libcriterion-dev
# Tools that tests drive as a user would: ffmpeg makes Y4M from the reference video,
# mosquitto is the local broker that `takt mtm run -o -` events are piped into.
TEST_PKGS := ffmpeg mosquitto mosquitto-clients
BENCH_PKGS := python3-numpy libopenblas0-pthread python3-torch python3-sklearn python3-scipy

.PHONY: all deps deps-test deps-bench test check demo bench clean weights _test _demo _bench

all: $(TAKT) $(TESTS)

# Installs the Debian packages that are missing; a no-op when all are present.
deps:
	@PKGS="$(DEB_PKGS)" sh .ci/deps

deps-test:
	@PKGS="$(TEST_PKGS)" sh .ci/deps

deps-bench:
	@PKGS="$(BENCH_PKGS)" sh .ci/deps
	@# ONNX Runtime (the pose anchor), as ../shared/bench/ort/README.md installs it; optional.
	@[ -d "$$HOME/.cache/takt-ort/node_modules/onnxruntime-node" ] || ! command -v npm >/dev/null || \
	  ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --prefix "$$HOME/.cache/takt-ort" onnxruntime-node@1.30.0 || \
	  echo "note: onnxruntime-node not installed; the pose benchmark runs without its anchor"

test: deps deps-test
	@$(MAKE) --no-print-directory _test

# Criterion's verbose mode is the one that names skipped tests and why (e.g. ../shared absent);
# the per-test RUN/PASS lines are filtered out, failures and the synthesis line are kept.
_test: $(TESTS) $(TAKT)
	@echo "running $(TESTS)"
	@set -o pipefail; TAKT_BIN=$(TAKT) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(TESTS) --verbose $(TEST_ARGS) 2>&1 | grep -v -E '^\[(RUN |PASS)\]'

demo: deps
	@$(MAKE) --no-print-directory _demo

_demo: $(TAKT)
	@$(TAKT) version
	@echo "== takt study on the bundled sample: 12 reach-to-grasp movements (MIT, tests/data/demo/README.md)"
	$(TAKT) study tests/data/demo/reach_to_grasp_p1.csv --labels tests/data/demo/phases.csv \
	    --fps 60 --k 3 --seed 1 -o build/demo
	@echo "== the report and its plots are in build/demo/ (report.json, segments.csv, *.png)"

bench: deps deps-bench
	@$(MAKE) --no-print-directory _bench

_bench: $(TAKT)
	$(TAKT) bench $(BENCH_ARGS)

# Re-creates weights/*.tkw (and the 27 MB heavy model, not committed) from the npm package
# @mediapipe/pose with takt's own converter, checking the sha256 of every source model.
weights: $(TAKT)
	sh weights/make_weights.sh $(TAKT)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  AR $@"
	@$(AR) rcs $@ $^

$(TAKT): $(BUILD)/app/main.o $(LIB)
	@echo "  LD $@"
	@$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(TESTS): $(TEST_OBJ) $(LIB)
	@echo "  LD $@"
	@$(CC) $(CFLAGS_ALL) -o $@ $^ $(CRIT_FLAGS) $(LDLIBS_ALL)

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(@D)
	@echo "  CC $<  (avx2)"
	@$(CC) $(CFLAGS_ALL) $(SIMD_AVX2) -MMD -MP -c -o $@ $<

$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(@D)
	@echo "  CC $<  (avx512)"
	@$(CC) $(CFLAGS_ALL) $(SIMD_AVX512) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/app/main.d
