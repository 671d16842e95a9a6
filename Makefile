# Ratchet: the two set-up commands are `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

# The sanitizer build (make sanitize): clang-14 with AddressSanitizer and
# UndefinedBehaviorSanitizer, -Wthread-safety and -Werror, no benchmarks, in its
# own build directory. libstdc++ (clang's default here) as the Debian-built
# gRPC, protobuf and RocksDB use.
SAN_BUILD_DIR ?= build-clang
SAN_CMAKE_FLAGS ?=
# Line tables only (-gline-tables-only): symbolized sanitizer stacks at a
# fraction of full debug info's compile and link time.
CLANG_DEBUG_FLAGS = -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG"
SAN_CONFIG = $(CLANG_DEBUG_FLAGS) -DCMAKE_CXX_COMPILER=clang++-14 \
  -DRATCHET_SANITIZE=address,undefined -DRATCHET_THREAD_SAFETY=ON -DRATCHET_WERROR=ON \
  -DRATCHET_BUILD_BENCH=OFF

# The fuzz build (make fuzz): clang-14 with libFuzzer, ASan and UBSan, in its
# own build directory; only the fuzz targets and the libraries they link.
FUZZ_BUILD_DIR ?= build-fuzz
# Seconds each fuzz target runs in make fuzz (tests/fuzz; docs/architecture.md
# gives each target's executions per second).
FUZZ_SECONDS ?= 600
FUZZ_CONFIG = $(CLANG_DEBUG_FLAGS) -DCMAKE_CXX_COMPILER=clang++-14 -DRATCHET_FUZZ=ON \
  -DRATCHET_BUILD_TESTS=OFF -DRATCHET_BUILD_BENCH=OFF

.PHONY: all deps configure build build-tests test run stop bench soak clean install \
  format-check tidy sanitize sanitize-build fuzz fuzz-build

all: build

deps:
	./deploy/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

# Everything: libraries, ratchetd, the CLI, examples, tests and benchmarks.
build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Everything the tests need (all but the benchmarks).
build-tests: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target ratchet_tests

# Every test in make test: unit, property, integration and crash labels.
test: build-tests
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE soak

# The main job on real input: starts ratchetd (127.0.0.1:7070, data in
# ./ratchet-data) in the background, digests every file of /usr/share/doc and
# /usr/share/common-licenses through it, and prints a summary. ratchetd stays
# up for `./build/client/ratchet` to inspect; `make stop` stops it.
# Builds only what it runs: ratchetd, the ratchet CLI and the digest example.
run: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target ratchetd ratchet digest
	./deploy/ratchetd.sh start $(BUILD_DIR)
	./$(BUILD_DIR)/examples/digest --transient-error-rate 0.02 --vanished 2
	@echo
	@echo "ratchetd is still running. Open the dashboard: http://$${RATCHET_HTTP_LISTEN:-127.0.0.1:7071}/ui/"
	@echo "                                Try: ./$(BUILD_DIR)/client/ratchet queues list"
	@echo "                                ./$(BUILD_DIR)/client/ratchet dlq list digest"
	@echo "Stop it with: make stop"

stop:
	./deploy/ratchetd.sh stop

# Installs ratchetd, the ratchet CLI, the client library and headers, the
# systemd unit and the example config under PREFIX (default /usr/local;
# the unit expects /usr/local/bin/ratchetd). docs/operations.md, "Install".
PREFIX ?= /usr/local
install: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target ratchetd ratchet ratchet_client
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

bench: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target ratchet_benchmarks
	./$(BUILD_DIR)/bench/engine_bench
	./$(BUILD_DIR)/bench/grpc_bench
	./$(BUILD_DIR)/bench/worker_bench
	./$(BUILD_DIR)/bench/bytes_per_job_bench --dir $(BUILD_DIR)/bytes-bench-data
	./$(BUILD_DIR)/bench/workflow_bench
	./$(BUILD_DIR)/bench/dashboard_bench --dir $(BUILD_DIR)/dashboard-bench-data
	./$(BUILD_DIR)/bench/scale_bench --mode retention
	./$(BUILD_DIR)/bench/scale_bench --mode reopen
	./$(BUILD_DIR)/bench/schedule_catchup_bench
	./$(BUILD_DIR)/bench/sequencer_hold_bench
	./$(BUILD_DIR)/bench/flow_control_bench

# Long runs: 100x the property sequences and more crash cycles.
soak: build-tests
	cd $(BUILD_DIR) && ctest --output-on-failure -L soak

# House rules (issue 9).
# Every tracked *.cc/*.h must be clang-format-14 clean (.clang-format).
format-check: deps
	./.ci/format-check.sh

# clang-tidy-14 (.clang-tidy) over the project's .cc files, with the flags of
# $(BUILD_DIR)/compile_commands.json; builds first for the generated headers.
tidy: build-tests
	JOBS=$(JOBS) ./.ci/tidy.sh $(BUILD_DIR)

# clang-14 + ASan + UBSan + -Wthread-safety -Werror in $(SAN_BUILD_DIR); runs the
# unit and integration tests and a short property run (.ci/sanitize-tests.sh).
# (The build directory ignores itself for git, as meson's do.)
sanitize-build: deps
	mkdir -p $(SAN_BUILD_DIR) && echo '*' >$(SAN_BUILD_DIR)/.gitignore
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(SAN_BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(SAN_CONFIG) $(SAN_CMAKE_FLAGS)
	cmake --build $(SAN_BUILD_DIR) -j $(JOBS) --target ratchet_tests

sanitize: sanitize-build
	JOBS=$(JOBS) ./.ci/sanitize-tests.sh $(SAN_BUILD_DIR)

# libFuzzer targets (tests/fuzz), each run for FUZZ_SECONDS on its committed
# seed corpus plus what earlier runs found (kept in $(FUZZ_BUILD_DIR)/corpus);
# prints executions per target and fails on any crash (inputs saved in
# $(FUZZ_BUILD_DIR)/artifacts). .ci/run runs a short smoke of it.
fuzz-build: deps
	mkdir -p $(FUZZ_BUILD_DIR) && echo '*' >$(FUZZ_BUILD_DIR)/.gitignore
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(FUZZ_CONFIG)
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target ratchet_fuzz

fuzz: fuzz-build
	./.ci/fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(SAN_BUILD_DIR) $(FUZZ_BUILD_DIR)
