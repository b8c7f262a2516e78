# A thin front over CMake and scripts/: `make run`, `make test`, `make stop`.
# ROSTRUM_PORT (default 8080) and ROSTRUM_DATA_DIR (default ./var) choose where a stack lives.
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)

.PHONY: all deps build fuzz-build run stop test unit fuzz format clean install deb

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DROSTRUM_FUZZ_DIR=$(abspath $(FUZZ_BUILD)) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

fuzz-build: deps
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -DROSTRUM_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

run: build
	@scripts/stack.sh up

stop:
	@scripts/stack.sh down

test: build fuzz-build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# FHS install (docs/deploy-server.md): make install PREFIX=/usr DESTDIR=/tmp/stage. The units
# carry the prefix's paths, so the prefix is set when the build is configured.
PREFIX ?= /usr/local
install: deps
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DROSTRUM_FUZZ_DIR=$(abspath $(FUZZ_BUILD)) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake --install $(BUILD) --strip

# The Debian package of this build (docs/deploy-server.md): build/rostrum_<version>_<arch>.deb.
deb: build
	@cd $(BUILD) && cpack -G DEB >/dev/null && ls $(abspath $(BUILD))/rostrum_*.deb

unit: build
	@cd $(BUILD) && ctest --output-on-failure -L unit

# Longer fuzzing on demand: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 300
fuzz: fuzz-build
	@for t in $(FUZZ_BUILD)/fuzz_*; do \
	  n=$$(basename $$t); tests/fuzz/run_fuzz.sh $$t tests/fuzz/corpus/$$n $(BUILD)/fuzz-long/$$n $(FUZZ_SECONDS) || exit 1; done

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
