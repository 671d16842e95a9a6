# Ratchet: the two set-up commands are `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run stop bench soak clean

all: build

deps:
	./deploy/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test in make test: unit, property, integration and crash labels.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE soak

# The main job on real input: starts ratchetd (127.0.0.1:7070, data in
# ./ratchet-data) in the background, digests every file of /usr/share/doc and
# /usr/share/common-licenses through it, and prints a summary. ratchetd stays
# up for `./build/client/ratchet` to inspect; `make stop` stops it.
run: build
	./deploy/ratchetd.sh start $(BUILD_DIR)
	./$(BUILD_DIR)/examples/digest --transient-error-rate 0.02 --vanished 2
	@echo
	@echo "ratchetd is still running. Try: ./$(BUILD_DIR)/client/ratchet queues list"
	@echo "                                ./$(BUILD_DIR)/client/ratchet dlq list digest"
	@echo "Stop it with: make stop"

stop:
	./deploy/ratchetd.sh stop

bench: build
	./$(BUILD_DIR)/bench/engine_bench
	./$(BUILD_DIR)/bench/grpc_bench
	./$(BUILD_DIR)/bench/workflow_bench

# Long runs: 100x the property sequences and more crash cycles.
soak: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L soak

clean:
	rm -rf $(BUILD_DIR)
