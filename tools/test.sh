#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run). Stages, each timed; the first failure stops:
#   format   clang-format check of every C file
#   release  Release build with -Werror, every ctest
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer build, every ctest
#   mingw    Windows cross-build with mingw-w64 (compile and link)
#   fuzz     each libFuzzer target for a short run over its corpus (needs clang)
# --quick runs format and release only.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[[ ${1:-} == --quick ]] && quick=1
jobs=$(nproc)
t_all=$(date +%s)

stage() {
    local name=$1
    shift
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
    stage fuzz fuzz_smoke
fi
echo "==== all stages passed in $(($(date +%s) - t_all)) s" >&2
