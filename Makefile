# sluice — the two commands (`make run`, `make test`) and the rest.
#
# Build directories: build/ (RelWithDebInfo, what `make run` and `make bench`
# use), build-asan/ (ASan+UBSan, what `make test` runs the suite in),
# build-fuzz/ (clang + libFuzzer) and build-release/ (Release, prefix /usr,
# only what is installed: what `make deb` packages and the packaging test
# unpacks). JOBS defaults to the number of cores.

JOBS ?= $(shell nproc)
CMAKE ?= cmake
FUZZ_SECONDS ?= 300

.PHONY: all setup build build-asan build-fuzz build-release deb run test test-unit bench fuzz format clean

all: build

setup:
	@./scripts/setup.sh

build: setup
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(CMAKE) --build build -j $(JOBS)

build-asan: setup
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
	$(CMAKE) --build build-asan -j $(JOBS)

build-fuzz: setup
	CC=clang CXX=clang++ $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON >/dev/null
	$(CMAKE) --build build-fuzz -j $(JOBS)

build-release: setup
	$(CMAKE) -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	  -DSLUICE_TESTS=OFF >/dev/null
	$(CMAKE) --build build-release -j $(JOBS)

# The Debian packages sluice, libsluice0 and libsluice-dev in build-release/.
deb: build-release
	cd build-release && cpack -G DEB

run: build
	./scripts/run.sh

# Every test under ASan+UBSan except the resident-set ones (ASan's shadow
# memory and quarantine make RSS meaningless), then the unit tests, the
# RSS tests and the full-size exactly-once kill test in the optimised
# build, then a short fuzz pass. The Release
# build is there so that CI builds Release with -Werror too, and for the
# packaging test (tests/integration/deb_package.sh).
test: build build-asan build-fuzz build-release
	cd build-asan && ctest --output-on-failure -j $(JOBS) -LE rss
	cd build && ctest --output-on-failure -j $(JOBS) -L 'unit|rss|full'
	./scripts/fuzz.sh smoke

test-unit: build-asan
	cd build-asan && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	./bench/run.sh

fuzz: build-fuzz
	./scripts/fuzz.sh long $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

clean:
	rm -rf build build-asan build-fuzz build-release
