#!/bin/sh
# make-big.sh DIR - write the bad corpora too big to keep in the repository
# into DIR (created if needed):
#   long-line.tsv   a header, then one record line of exactly 10485760 bytes
#                   (10 MiB, ten times the 1 MiB line limit) plus its '\n'
#   long-line.jsonl the same as a JSON Lines record
#   truncated.tsv.gz a valid corpus, gzip-compressed, cut in half
# Prints nothing; exits non-zero on failure.
set -eu
dir=${1:?usage: make-big.sh DIR}
mkdir -p "$dir"

big=10485760
# the record line: five short fields, then a text of 'a's filling it up
pre=$(printf 'a1\tneutral\ten\tn\tx\t' | wc -c)
{
    printf 'id\tlabel\tlang\tvoice\tsituation\ttext\n'
    printf 'a1\tneutral\ten\tn\tx\t'
    head -c $((big - pre)) /dev/zero | tr '\0' a
    printf '\n'
} >"$dir/long-line.tsv"

pre=$(printf '{"label":"neutral","text":"' | wc -c)
{
    printf '{"label":"neutral","text":"'
    head -c $((big - pre - 2)) /dev/zero | tr '\0' a
    printf '"}\n'
} >"$dir/long-line.jsonl"

{
    printf 'id\tlabel\ttext\n'
    i=0
    while [ $i -lt 200 ]; do
        printf 'r%d\tneutral\tSentence number %d says the talks will resume next week.\n' $i $i
        i=$((i + 1))
    done
} | gzip -9 >"$dir/full.tsv.gz"
size=$(wc -c <"$dir/full.tsv.gz")
head -c $((size / 2)) "$dir/full.tsv.gz" >"$dir/truncated.tsv.gz"
rm -f "$dir/full.tsv.gz"
