#!/bin/sh
# Regenerates the deliberately broken model files in this folder.
#
# They are derived with head/tail/printf from a valid model that the unit test
# builds by hand (`test_model_file --write-model FILE`), rather than from the
# trained default model, so they stay tiny and do not change when the corpus
# or the trainer does.  The .stm files are committed, so the CLI and unit
# tests need no extra build step; rerun this after a model format change:
#
#     make build/tests/test_model_file && tests/bad-models/make.sh [BUILD_DIR]
#
# Each kind of damage is done to a format 1 file (deflated, as earlier
# versions wrote them: NAME.stm) and to a format 2 file (stored: v2-NAME.stm).
# Every file here must be refused by `stance_model_load` (STANCE_ERR_MODEL or
# STANCE_ERR_VERSION); tests/unit/test_model_file.c checks that.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# byte_xor FILE OFFSET MASK: FILE with the byte at OFFSET xor'ed with MASK
byte_xor() {
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    head -c "$2" "$1"
    printf "\\$(printf '%03o' $((b ^ $3)))"
    tail -c +"$(($2 + 2))" "$1"
}

# broken VALID PREFIX: the damaged copies of one valid file
broken() {
    v=$1
    p=$here/$2
    size=$(wc -c <"$v")
    head -c 20 "$v" >"${p}truncated-header.stm"
    head -c $((size - 40)) "$v" >"${p}truncated.stm"
    { printf 'STANCEMX'; tail -c +9 "$v"; } >"${p}bad-magic.stm"
    { head -c 8 "$v"; printf '\007\000\000\000'; tail -c +13 "$v"; } >"${p}future-version.stm"
    { cat "$v"; printf 'trailing garbage\n'; } >"${p}trailing-garbage.stm"
    byte_xor "$v" 32 255 >"${p}bad-checksum.stm"          # CRC-32 field
    byte_xor "$v" $((size / 2)) 85 >"${p}corrupt-payload.stm"
    byte_xor "$v" 19 64 >"${p}huge-payload-length.stm"     # u64 payload length, byte 3
}

"$build/tests/test_model_file" --write-model "$tmp/v1.stm" v1
"$build/tests/test_model_file" --write-model "$tmp/v2.stm"
broken "$tmp/v1.stm" ""
broken "$tmp/v2.stm" "v2-"
: >"$here/empty.stm"
printf 'label\ttext\nsupport\tWe welcome the agreement.\n' >"$here/text-file.stm"
