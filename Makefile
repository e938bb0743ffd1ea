# nat64d build. `make` builds everything; `make test` runs every suite.
#
# Variants go to their own build directory so they never mix objects:
#   make            -> build/
#   make asan       -> build/asan/   (AddressSanitizer, unit tests run)
#   make ubsan      -> build/ubsan/  (UndefinedBehaviorSanitizer, unit tests run)

CC       ?= gcc
BUILD    ?= build
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wformat=2 -Wcast-align -Wundef
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -D_DEFAULT_SOURCE -fno-strict-aliasing $(WARN) $(SANITIZE)
LDFLAGS  += $(SANITIZE)

CORE_SRC := $(sort $(wildcard core/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
CORE_LIB := $(BUILD)/libcore.a

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(BUILD)/unit-tests

# io/: TUN device, netlink (libmnl), sysctl. Its tests need root (namespaces).
IO_SRC := $(sort $(wildcard io/*.c))
IO_OBJ := $(IO_SRC:%.c=$(BUILD)/%.o)
IO_LIB := $(BUILD)/libio.a

# bpf/: the TUN steering program (docs/steering.md), compiled by clang and
# linked into libio.a as the bytes of its ELF object (symbols steer_bpf_obj
# and steer_bpf_obj_end, for io/steer.c); libbpf loads it from memory.
BPF_OBJ    := $(BUILD)/bpf/steer.bpf.o
BPF_BLOB   := $(BUILD)/bpf/steer_blob.o
BPF_CFLAGS := -O2 -g -target bpf -std=gnu17 -Wall -Wextra -Werror \
              -I/usr/include/$(shell gcc -print-multiarch 2>/dev/null)
BPF_LIBS   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)

IO_TEST_SRC := $(sort $(wildcard tests/io/*.c))
IO_TEST_OBJ := $(IO_TEST_SRC:%.c=$(BUILD)/%.o)
IO_TEST_BIN := $(BUILD)/io-tests

# daemon/: nat64d, the translator on a TUN device (core + io, jansson, libmnl).
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
DAEMON_BIN := $(BUILD)/nat64d

# ctl/: the control socket: server (linked into nat64d) and the protocol
# pieces the client shares. cli/: `nat64`; its objects but main.o also go
# into libcli.a so the unit tests (tests/unit/test_cli_*.c) link them.
CTL_SRC := $(sort $(wildcard ctl/*.c))
CTL_OBJ := $(CTL_SRC:%.c=$(BUILD)/%.o)
CTL_LIB := $(BUILD)/libctl.a
CLI_SRC := $(filter-out cli/main.c,$(sort $(wildcard cli/*.c)))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
CLI_LIB := $(BUILD)/libcli.a
CLI_BIN := $(BUILD)/nat64

BENCH_CORE := $(BUILD)/bench-core
TUN_FWD    := $(BUILD)/tun_forward

FUZZ_SECONDS ?= 60
FUZZ_BIN     := build/fuzz/fuzz-translate
FUZZ_PIPE_BIN := build/fuzz/fuzz-pipeline

.PHONY: all test unit-test io-test asan ubsan fuzz fuzz-build format format-check deps clean bench-core nat64d nat64 \
        demo bench-e2e tun-forward

all: $(CORE_LIB) $(UNIT_BIN) $(IO_LIB) $(IO_TEST_BIN) $(DAEMON_BIN) $(CTL_LIB) $(CLI_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Icore -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(UNIT_BIN): $(UNIT_OBJ) $(CLI_LIB) $(CTL_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(CLI_LIB) $(CTL_LIB) $(CORE_LIB) -lcriterion -ljansson

$(IO_OBJ) $(IO_TEST_OBJ): CFLAGS += -Iio -Ibpf

$(BPF_OBJ): bpf/steer.bpf.c bpf/steer_hash.h
	@mkdir -p $(dir $@)
	clang $(BPF_CFLAGS) -c $< -o $@

$(BPF_BLOB): $(BPF_OBJ)
	printf '%s\n' '.section .rodata' '.balign 8' '.globl steer_bpf_obj' 'steer_bpf_obj:' \
		'.incbin "$<"' '.globl steer_bpf_obj_end' 'steer_bpf_obj_end:' \
		'.section .note.GNU-stack,"",@progbits' | $(CC) -c -x assembler -o $@ -

$(IO_LIB): $(IO_OBJ) $(BPF_BLOB)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(IO_TEST_BIN): $(IO_TEST_OBJ) $(IO_LIB)
	$(CC) $(LDFLAGS) -o $@ $(IO_TEST_OBJ) $(IO_LIB) -lmnl -lcriterion $(BPF_LIBS)

$(DAEMON_OBJ): CFLAGS += -Iio -Ictl

$(DAEMON_BIN): $(DAEMON_OBJ) $(CTL_LIB) $(IO_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(CTL_LIB) $(IO_LIB) $(CORE_LIB) -ljansson -lmnl $(BPF_LIBS)

nat64d: $(DAEMON_BIN)

$(CTL_OBJ): CFLAGS += -Ictl
$(CLI_OBJ) $(BUILD)/cli/main.o $(BUILD)/tests/unit/test_cli_%.o: CFLAGS += -Ictl -Icli

$(CTL_LIB): $(CTL_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(CLI_LIB): $(CLI_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(CLI_BIN): $(BUILD)/cli/main.o $(CLI_LIB) $(CTL_LIB) $(CORE_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ -ljansson

nat64: $(CLI_BIN)
tun-forward: $(TUN_FWD)

# Installs the Debian packages the build and the tests need (no-op when present).
deps:
	@scripts/install-deps.sh

unit-test: $(UNIT_BIN)
	$(UNIT_BIN) --jobs 2

# Root: every test runs in its own network namespace (skipped otherwise, failed when CI=true).
io-test: $(IO_TEST_BIN)
	$(IO_TEST_BIN) --jobs 2

# The test command of the README: every suite, then one summary line.
test: deps
	@$(MAKE) --no-print-directory all
	@tests/run-all.sh $(BUILD)

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE="-fsanitize=address -fno-omit-frame-pointer" unit-test

ubsan:
	@$(MAKE) --no-print-directory BUILD=build/ubsan \
		SANITIZE="-fsanitize=undefined -fno-sanitize-recover=all" unit-test

# libFuzzer, two targets, each for FUZZ_SECONDS: fuzz-translate over parse
# + translate, both directions (seeds in tests/fuzz/corpus), then
# fuzz-pipeline over the whole stateful engine fed sequences of packets
# (seeds in tests/fuzz/corpus_pipeline, longer inputs). New inputs go to
# scratch directories so the repository's corpora only change on purpose.
FUZZ_CFLAGS := -std=c17 -D_DEFAULT_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -Icore
fuzz-build: $(FUZZ_BIN) $(FUZZ_PIPE_BIN)
$(FUZZ_BIN): tests/fuzz/fuzz_translate.c tests/fuzz/fuzz_csum.h $(CORE_SRC) core/*.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_translate.c $(CORE_SRC)
$(FUZZ_PIPE_BIN): tests/fuzz/fuzz_pipeline.c tests/fuzz/fuzz_csum.h $(CORE_SRC) core/*.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_pipeline.c $(CORE_SRC)

fuzz: deps $(FUZZ_BIN) $(FUZZ_PIPE_BIN)
	@tests/fuzz/run.sh $(FUZZ_BIN) $(FUZZ_SECONDS)
	@FUZZ_MAX_LEN=8192 tests/fuzz/run.sh $(FUZZ_PIPE_BIN) $(FUZZ_SECONDS) tests/fuzz/corpus_pipeline

# Core benchmark: 1M UDP + 1M TCP flows in memory (about 1 min, 700 MB).
# Options: make bench-core BENCH_ARGS="-f 262144 -r 3" (build/bench-core -h).
BENCH_ARGS ?=
bench-core: $(BENCH_CORE)
	$(BENCH_CORE) $(BENCH_ARGS)
$(BENCH_CORE): bench/bench_core.c $(CORE_LIB)
	$(CC) $(CFLAGS) -Icore -o $@ $< $(CORE_LIB) $(LDFLAGS) -pthread
# The bare TUN forwarder, bench-e2e's no-translation baseline.
$(TUN_FWD): bench/tun_forward.c $(IO_LIB)
	$(CC) $(CFLAGS) -Iio -o $@ $< $(IO_LIB) $(LDFLAGS) -pthread

# The README's demo (root): installs what it lacks, builds, then an IPv6-only
# client fetches a page by name from an IPv4-only server through DNS64 and
# nat64d, in three network namespaces it deletes on exit.
demo:
	@scripts/demo.sh

# End to end (root, about 4-5 minutes): iperf3, ab and UDP sessions through
# plain kernel IPv6 forwarding, a bare TUN forwarder, nat64d (default, 1 and 2
# workers) and TAYGA + NAT44 in network namespaces; docs/performance-e2e.md.
# BENCH_E2E_SECONDS per test; BENCH_E2E_ARGS e.g. "--paths kernel,nat64d".
BENCH_E2E_SECONDS ?= 8
BENCH_E2E_ARGS ?=
bench-e2e:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory $(DAEMON_BIN) $(CLI_BIN) $(TUN_FWD)
	@python3 bench/bench_e2e.py -t $(BENCH_E2E_SECONDS) --nat64d $(DAEMON_BIN) \
		--nat64 $(CLI_BIN) --tun-forward $(TUN_FWD) $(BENCH_E2E_ARGS)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

-include $(CORE_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(CTL_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(BUILD)/cli/main.d $(IO_OBJ:.o=.d) $(IO_TEST_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d)
