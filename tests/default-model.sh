#!/bin/bash
# Rebuilding the default model from the same corpus gives the same bytes.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
make -s models/default.stm >/dev/null
cp models/default.stm "$tmp/first.stm"
rm -f models/default.stm
make -s models/default.stm >/dev/null
if cmp -s models/default.stm "$tmp/first.stm"; then
    pass=$((pass + 1))
else
    echo "FAIL: rebuilding models/default.stm changed its bytes"
    fail=$((fail + 1))
fi
# the model loads and classifies the seed article into 21 sentences
n=$(./stance classify -f tsv corpus/seed/article.txt | tail -n +2 | wc -l)
if [ "$n" -eq 21 ]; then pass=$((pass + 1)); else echo "FAIL: seed article gave $n sentences"; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
