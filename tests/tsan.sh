#!/bin/bash
# ThreadSanitizer over the commands that run threads: classify -j, score -j
# and train's parallel class pairs, on inputs large enough for every thread
# to get work.  Any data race aborts the command (halt_on_error); the
# outputs must also equal those of one thread.
#
#   tests/tsan.sh            (builds ./stance-tsan with make)
#
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
if ! make -s stance-tsan >/dev/null 2>&1; then
    echo "tsan: cannot build stance-tsan"
    echo "0 passed, 1 failed"
    exit 1
fi
export TSAN_OPTIONS=halt_on_error=1:exitcode=66
T=./stance-tsan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # name command...
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name"
    fi
}

# a model of our own, trained with two threads (races in training show here)
check "train with 2 threads" "$T" train -q -j 2 --seed 1 -o "$tmp/m.stm" tests/cli/data/mini.tsv

# a file of several chunks: -j 3 under TSan, compared with -j 1
for i in $(seq 250); do cat corpus/seed/article.txt; cut -f6 corpus/ru.tsv | head -30; done >"$tmp/in.txt"
classify_same() {
    "$T" classify -m "$tmp/m.stm" -j 3 --probs "$tmp/in.txt" >"$tmp/c3" &&
        ./stance classify -m "$tmp/m.stm" -j 1 --probs "$tmp/in.txt" >"$tmp/c1" &&
        cmp -s "$tmp/c1" "$tmp/c3"
}
check "classify -j 3 == -j 1" classify_same
classify_nul() {
    cp "$tmp/in.txt" "$tmp/nul.txt"
    printf 'x\000y\n' >>"$tmp/nul.txt"
    cat "$tmp/in.txt" >>"$tmp/nul.txt"
    "$T" classify -m "$tmp/m.stm" -j 3 "$tmp/nul.txt" >/dev/null 2>"$tmp/err"
    [ $? -eq 3 ]
}
check "classify -j 3 stops at a late NUL (exit 3)" classify_nul

# score over a folder of documents and over JSON Lines
mkdir "$tmp/docs"
split -l 40 "$tmp/in.txt" "$tmp/docs/d"
score_same() {
    "$T" score -q -m "$tmp/m.stm" -j 3 "$tmp/docs" >"$tmp/s3" &&
        ./stance score -q -m "$tmp/m.stm" -j 1 "$tmp/docs" >"$tmp/s1" &&
        cmp -s "$tmp/s1" "$tmp/s3"
}
check "score -j 3 == -j 1 (folder)" score_same
score_jsonl() {
    awk '{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); printf "{\"id\":\"r%d\",\"text\":\"%s\"}\n", NR, $0 }' \
        "$tmp/in.txt" >"$tmp/in.jsonl"
    "$T" score -q -m "$tmp/m.stm" -j 3 --jsonl "$tmp/in.jsonl" >"$tmp/j3" &&
        ./stance score -q -m "$tmp/m.stm" -j 1 --jsonl "$tmp/in.jsonl" >"$tmp/j1" &&
        cmp -s "$tmp/j1" "$tmp/j3"
}
check "score -j 3 == -j 1 (JSON Lines)" score_jsonl

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
