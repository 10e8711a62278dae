#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run). Stages, each timed; the first failure stops:
#   format   clang-format check of every C file
#   release  Release build with -Werror, every ctest
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer build, every ctest
#   mingw    Windows cross-build with mingw-w64 (compile and link)
#   arm64    Linux arm64 cross-build; under qemu-aarch64 the kernel, quantizer and golden-logit
#            tests of every Arm kernel table on an emulated CPU with every extension (max),
#            then the kernel tests on one without the dot product (cortex-a53)
#   fuzz     each libFuzzer target for a short run over its corpus (needs clang)
# --quick runs format and release only; --stage NAME runs that stage only.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
only=""
[[ ${1:-} == --quick ]] && quick=1
[[ ${1:-} == --stage ]] && only=${2:?"--stage needs a stage name"}
jobs=$(nproc)
t_all=$(date +%s)

stage() {
    local name=$1
    shift
    [[ -n $only && $name != "$only" ]] && return 0
    local t0
    t0=$(date +%s)
    echo "==== $name" >&2
    "$@"
    echo "==== $name: ok in $(($(date +%s) - t0)) s" >&2
}

format_check() {
    find src include tests fuzz \( -name '*.c' -o -name '*.h' \) -print0 |
        xargs -0 clang-format --dry-run --Werror
}

build_and_test() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -G Ninja -DTM_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    ctest --test-dir "$dir" -j"$jobs" --output-on-failure
}

mingw_build() {
    cmake -S . -B build/ci-mingw -G Ninja -DTM_WERROR=ON \
        -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake >/dev/null
    cmake --build build/ci-mingw -j"$jobs"
}

arm64_test() {
    local dir=build/ci-arm64
    cmake -S . -B "$dir" -G Ninja -DTM_WERROR=ON \
        -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux.cmake >/dev/null
    cmake --build "$dir" -j"$jobs"
    # the golden tests once per Arm table (model/test_golden_synthetic.<table>): under
    # emulation every table costs minutes, and the reference is checked natively;
    # stories260K is an F32 model, whose kernels (attention) all Arm tables share
    QEMU_CPU=max ctest --test-dir "$dir" -j"$jobs" --output-on-failure -R \
        '^(base/test_cpu|tensor/test_kernels|tensor/test_quant|model/test_blocks|model/test_golden_synthetic\.[a-z0-9]+|model/test_golden_stories\.neon)$'
    QEMU_CPU=cortex-a53 ctest --test-dir "$dir" --output-on-failure \
        -R '^(base/test_cpu|tensor/test_kernels)$'
}

fuzz_smoke() {
    if [[ ! -f fuzz/CMakeLists.txt ]]; then
        echo "no fuzz targets yet" >&2
        return 0
    fi
    CC=clang cmake -S . -B build/ci-fuzz -G Ninja -DTM_FUZZ=ON -DTM_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build/ci-fuzz -j"$jobs"
    for target in build/ci-fuzz/fuzz/fuzz_*; do
        [[ -x $target ]] || continue
        local name corpus work
        name=$(basename "$target")
        corpus=fuzz/corpus/${name#fuzz_}
        work=$(mktemp -d)
        [[ -d $corpus ]] && cp -r "$corpus"/. "$work"/
        echo "-- $name, 30 s" >&2
        "$target" -max_total_time=30 -rss_limit_mb=2048 -artifact_prefix="$work/" "$work" 2>&1 | tail -3
        rm -rf "$work"
    done
}

tools/deps.sh
stage format format_check
stage release build_and_test build/ci-release -DCMAKE_BUILD_TYPE=Release
if [[ $quick == 0 ]]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1
    stage asan build_and_test build/ci-asan -DCMAKE_BUILD_TYPE=Debug -DTM_SANITIZE=ON
    stage mingw mingw_build
    stage arm64 arm64_test
    stage fuzz fuzz_smoke
fi
echo "==== all stages passed in $(($(date +%s) - t_all)) s" >&2
