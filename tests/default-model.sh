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
# the same model in format 1 (deflated, as earlier versions wrote it) still
# loads, and classifies exactly the same
if python3 - models/default.stm "$tmp/v1.stm" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"STANCEMD" and struct.unpack("<I", d[8:12])[0] == 2
p = d[36:]
c = zlib.compressobj(9, zlib.DEFLATED, -15, 8)
z = c.compress(p) + c.flush()
crc = struct.unpack("<I", d[32:36])[0]
open(sys.argv[2], "wb").write(d[:8] + struct.pack("<IIQQI", 1, 0, len(p), len(z), crc) + z)
PY
then
    ./stance classify --probs -f jsonl corpus/seed/article.txt >"$tmp/v2.out"
    ./stance classify -m "$tmp/v1.stm" --probs -f jsonl corpus/seed/article.txt >"$tmp/v1.out"
    if [ -s "$tmp/v2.out" ] && cmp -s "$tmp/v1.out" "$tmp/v2.out"; then
        pass=$((pass + 1))
    else
        echo "FAIL: the default model in format 1 classifies differently"
        fail=$((fail + 1))
    fi
else
    echo "FAIL: cannot write the default model in format 1"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
