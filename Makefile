# Ratchet: the two set-up commands are `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run bench soak clean

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

# The embedded demo: jobs flowing through the engine, with a retry, a dead
# letter and a redrive. Data lives in ./ratchet-data.
run: build
	./$(BUILD_DIR)/examples/embedded_demo --data-dir ./ratchet-data

bench: build
	./$(BUILD_DIR)/bench/engine_bench

# Long runs: 100x the property sequences and more crash cycles.
soak: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L soak

clean:
	rm -rf $(BUILD_DIR)
