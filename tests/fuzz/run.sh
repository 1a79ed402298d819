#!/bin/bash
# Build the libFuzzer targets (make fuzz) and run each for a while.
#
#   tests/fuzz/run.sh [SECONDS]       (default 10 seconds per target)
#
# Each build-fuzz/fuzz_NAME runs with -max_len=65536 on a working corpus
# build-fuzz/corpus/fuzz_NAME (kept between runs, so coverage accumulates)
# seeded from tests/fuzz/seeds/fuzz_NAME (plus tests/bad-models for the model
# target).  A target passes when libFuzzer exits 0 and leaves no crash, leak,
# timeout or out-of-memory artifact; artifacts go to build-fuzz/artifacts/.
# Ends with "N passed, N failed".  A missing clang or libFuzzer runtime is
# one failure: tools/install-deps installs both.
set -u
cd "$(dirname "$0")/../.."

secs=${1:-10}
case $secs in
'' | *[!0-9]*)
    echo "usage: tests/fuzz/run.sh [SECONDS]" >&2
    exit 2
    ;;
esac
cc=${FUZZ_CC:-clang}
out=build-fuzz

# libFuzzer's own exit codes are what counts; make the sanitizers agree
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

log=$(mktemp)
probe=$(mktemp -d)
trap 'rm -rf "$log" "$probe"' EXIT

# Is there a clang that links libFuzzer with ASan and UBSan?
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (tools/install-deps installs clang)"
    echo "0 passed, 1 failed"
    exit 1
fi
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$probe/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$probe/probe" "$probe/probe.c" >"$log" 2>&1; then
    cat "$log"
    echo "fuzz: $cc cannot link -fsanitize=fuzzer,address,undefined" \
        "(tools/install-deps installs libclang-rt-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi

if ! make -s fuzz FUZZ_CC="$cc" >"$log" 2>&1; then
    cat "$log"
    echo "fuzz: make fuzz failed"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
mkdir -p "$out/artifacts"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    bin=$out/$name
    if [ ! -x "$bin" ]; then
        echo "FAIL $name: $bin was not built"
        failed=$((failed + 1))
        continue
    fi
    work=$out/corpus/$name
    mkdir -p "$work"
    seeds=()
    [ -d "tests/fuzz/seeds/$name" ] && seeds+=("tests/fuzz/seeds/$name")
    [ "$name" = fuzz_model ] && [ -d tests/bad-models ] && seeds+=(tests/bad-models)
    prefix=$out/artifacts/$name-
    rm -f "$prefix"*
    "$bin" -max_total_time="$secs" -max_len=65536 -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$prefix" "$work" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    artifacts=$(ls "$prefix"* 2>/dev/null)
    stats=$(grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" |
        sed 's/^stat:://' | tr -s ' \n' ' ')
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then
        echo "ok   $name ($cov; $stats)"
        passed=$((passed + 1))
    else
        echo "FAIL $name: libFuzzer exited $rc"
        grep -E 'ERROR: |SUMMARY: |runtime error|^fuzz_|^    #[0-9]+ ' "$log" | head -n 40
        for a in $artifacts; do
            echo "  reproducer: $a (run: $bin $a)"
        done
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
