# The two commands of README's quick start, and a few more.
#   make run    install what is missing, build, run roamsmtpd on 127.0.0.1:2525
#   make check  install what is missing, build (plain and ASan+UBSan), test

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)
RUN_DIR     = $(abspath $(BUILD))/run

.PHONY: all build deps test-deps run check check-plain check-asan check-fuzz \
	bench fuzz reliability clean

all: build

deps:
	@packaging/install-deps.sh build

test-deps:
	@packaging/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

$(RUN_DIR)/roamsmtp.conf:
	@mkdir -p $(RUN_DIR)/profiles
	@printf '%s\n' '[daemon]' 'listen = 127.0.0.1:2525' \
	    'state-dir = $(RUN_DIR)/state' 'runtime-dir = $(RUN_DIR)/runtime' \
	    'profiles-dir = $(RUN_DIR)/profiles' > $@

run: build $(RUN_DIR)/roamsmtp.conf
	@echo "roamsmtpd on 127.0.0.1:2525; profiles in $(RUN_DIR)/profiles;" \
	    "control: $(BUILD)/daemon/roamsmtpctl -c $(RUN_DIR)/roamsmtp.conf status"
	$(BUILD)/daemon/roamsmtpd -f -c $(RUN_DIR)/roamsmtp.conf

check: test-deps check-plain check-asan check-fuzz

check-plain:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j 2

check-asan:
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	# The package test builds and installs its own (plain) packages: once
	# in check-plain is enough.
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j 2 -E '^e2e/package_install$$'

# libFuzzer targets (clang, ASan+UBSan), each run for a bounded short time;
# their corpora are also replayed by every plain and ASan build.
check-fuzz:
	@if command -v clang >/dev/null; then \
	  cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang \
	    -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON -DWITH_TRAY=OFF >/dev/null && \
	  cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_targets && \
	  cd $(BUILD_FUZZ) && ctest --output-on-failure -L '^fuzz$$' -j 2; \
	else echo "check-fuzz: no clang; fuzz corpora replayed only"; fi

fuzz:
	BUILD_FUZZ=$(BUILD_FUZZ) bench/fuzz 300

reliability: build
	BUILD_FUZZ=$(BUILD_FUZZ) bench/reliability.sh $(BUILD)

bench: build
	@packaging/install-deps.sh bench
	bench/relay_bench.sh $(BUILD)
	bench/switch_bench.sh $(BUILD)
	bench/pop_bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
