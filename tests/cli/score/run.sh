#!/usr/bin/env bash
# tests/cli/score/run.sh STANCE MODEL - end-to-end tests of `stance score`.
#
# Builds its inputs in a temporary folder: every input kind, ordering across
# thread counts, every kind of bad document, --max-errors, --keep-fields,
# closed and full outputs, and a GNU parallel --pipe recipe.  Prints one line
# per check and "N passed, N failed" last; exits non-zero on any failure.
set -u

STANCE=${1:?usage: run.sh STANCE MODEL}
MODEL=${2:?usage: run.sh STANCE MODEL}
case $STANCE in /*) ;; *) STANCE=$PWD/$STANCE ;; esac
case $MODEL in /*) ;; *) MODEL=$PWD/$MODEL ;; esac

T=$(mktemp -d "${TMPDIR:-/tmp}/stance-score-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() {
    fail=$((fail + 1))
    printf 'FAIL  %s\n' "$1"
    shift
    for line in "$@"; do printf '      %s\n' "$line"; done
}
# check NAME COMMAND...: passes when COMMAND succeeds
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name" "command: $*"; fi
}
# same NAME GOT WANT
same() {
    if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "got:  $(printf %q "$2")" "want: $(printf %q "$3")"; fi
}

score() { "$STANCE" score -m "$MODEL" -q "$@"; }
ids() { sed -e 's/^{"id":\("[^"]*"\|[^,]*\),.*/\1/'; }
nlines() { wc -l < "$1" | tr -d ' '; }
# every line of a file is a JSON object (when jq is available)
valid_json() {
    if command -v jq > /dev/null; then jq -c . "$1" > /dev/null 2>&1; else true; fi
}

S1='The minister condemned the shelling of the city in the strongest terms.'
S2='Both sides agreed to resume talks in Geneva next week.'
S3='We call on all parties to exercise restraint and avoid escalation.'

# ------------------------------------------------------------------ inputs

# directories: recursion in byte order of names, --glob on base names
mkdir -p d/b d/z d/.h
echo "$S1" > d/a.txt
echo "$S2 $S3" > d/b.txt
echo "$S3" > d/b/c.txt
echo "$S1" > d/z/skip.md
echo "$S1" > d/.h/h.txt
ln -s .. d/b/loop     # a symbolic link to a directory is not followed
score d > out 2> err
rc=$?
same "dir: exit 0" "$rc" 0
same "dir: every file, sorted by name, links to folders skipped" "$(ids < out | tr '\n' ' ')" \
    '"d/.h/h.txt" "d/a.txt" "d/b/c.txt" "d/b.txt" "d/z/skip.md" '
check "dir: a skipped link to a folder is named on stderr" \
    grep -qx 'stance score: d/b/loop: a symbolic link to a folder, not followed (name it to score it)' err
# a named pipe in a folder is no document that can be read: an error record
mkdir p && echo "$S1" > p/a.txt && mkfifo p/f.txt
score p > out 2> err
rc=$?
same "dir: a named pipe gives exit 1" "$rc" 1
same "dir: a named pipe gets an error record in its place" "$(sed -n 2p out)" \
    '{"id":"p/f.txt","error":"p/f.txt: a named pipe, not a file"}'
score --glob 'a*' p > out 2> err
same "dir: --glob passes over a named pipe it does not match" "$?$(nlines out)" 01
score --glob '*.txt' d/ > out
same "dir: --glob filters base names" "$(ids < out | tr '\n' ' ')" \
    '"d/.h/h.txt" "d/a.txt" "d/b/c.txt" "d/b.txt" '
score --glob '*.md' d/z/skip.md d/a.txt > out
same "dir: named files are scored whatever --glob says" "$(nlines out)" 2
score d/b.txt > out
check "dir: record fields" grep -q '^{"id":"d/b.txt","sentences":2,"counts":{.*},"mean_probs":{.*},"dominant":"[a-z_]*","share":[01]\.[0-9]*,"model":"[0-9a-f]\{16\}"}$' out

# gzip, including concatenated members
printf '%s\n' "$S1" | gzip > one.txt.gz
{ printf '%s\n' "$S2" | gzip; printf '%s\n' "$S3" | gzip; } > two.gz
score --sentences one.txt.gz two.gz > out
same "gz: one record per file" "$(ids < out | tr '\n' ' ')" '"one.txt.gz" "two.gz" '
check "gz: concatenated members both read" grep -q '"id":"two.gz","sentences":2,' out
check "gz: second member's text present" grep -qF "\"text\":\"$S3\"" out

# standard input as one text document, with and without '-'
printf '%s %s\n' "$S1" "$S2" | score > out
check "stdin: one document with id stdin" grep -q '^{"id":"stdin","sentences":2,' out
printf '%s\n' "$S1" | score - > out
same "stdin: '-' works too" "$(ids < out)" '"stdin"'

# JSON Lines on standard input needs --jsonl
{
    printf '{"id":"j1","text":"%s"}\n' "$S1"
    printf '{"text":"%s %s"}\n' "$S2" "$S3"
    printf '\n'
    printf '{"id":"j4","body":"%s"}\n' "$S3"
} > in.jsonl
score --jsonl < in.jsonl > out 2> err
same "jsonl stdin: exit 1 (j4 has no text)" "$?" 1
check "jsonl stdin: j4's error record" grep -qF '{"id":"j4","error":"stdin:4: no \"text\" field"}' out
same "jsonl stdin: ids, FILE:LINE when missing, blank lines skipped" \
    "$(ids < out | tr '\n' ' ')" '"j1" "stdin:2" "j4" '
score --jsonl --text-field body --id-field text < in.jsonl > out 2> /dev/null
check "jsonl: --text-field / --id-field" grep -q '^{"id":"stdin:4","sentences":1,' out
score < in.jsonl > out
same "jsonl: without --jsonl stdin is one text document" "$(nlines out)" 1

# .jsonl.gz detected by name, concatenated members too
{ head -2 in.jsonl | gzip; tail -1 in.jsonl | gzip; } > in.jsonl.gz
score in.jsonl.gz > out 2> /dev/null
same "jsonl.gz: detected by name, every member" "$(ids < out | tr '\n' ' ')" \
    '"j1" "in.jsonl.gz:2" "j4" '

# --files-from FILE and -
printf 'd/a.txt\n\nin.jsonl\none.txt.gz\n' > list
score --files-from list > out 2> /dev/null
same "files-from FILE" "$(ids < out | tr '\n' ' ')" '"d/a.txt" "j1" "in.jsonl:2" "j4" "one.txt.gz" '
printf 'd/b\nd/a.txt\n' | score --files-from - > out
same "files-from -" "$(ids < out | tr '\n' ' ')" '"d/b/c.txt" "d/a.txt" '
score --files-from list - < /dev/null > out 2> /dev/null
same "files-from FILE plus '-' argument" "$(ids < out | tr '\n' ' ')" '"stdin" "d/a.txt" "j1" "in.jsonl:2" "j4" "one.txt.gz" '
printf 'd/a.txt\n' | score --files-from - - > /dev/null 2> err
same "files-from - with '-' argument: exit 2" "$?" 2

# ------------------------------------------------------------- ordering
# 200 documents of different lengths, so that workers finish out of order
mkdir many
awk -v a="$S1" -v b="$S2" -v c="$S3" 'BEGIN {
    for (i = 0; i < 200; i++) {
        n = 1 + (i * 37) % 23
        f = sprintf("many/%03d.txt", i)
        for (j = 0; j < n; j++) print (j % 3 == 0 ? a : j % 3 == 1 ? b : c) > f
        close(f)
        printf "{\"id\":\"r%03d\",\"text\":\"", i > "many.jsonl"
        for (j = 0; j < n; j++) printf "%s ", (j % 3 == 0 ? b : j % 3 == 1 ? c : a) > "many.jsonl"
        printf "\",\"n\":%d}\n", i > "many.jsonl"
    }
}'
score -j 1 many > j1
score -j 2 many > j2
score -j 7 many > j7
same "order: 200 files, 200 records" "$(nlines j1)" 200
check "order: -j 1 == -j 2 byte for byte (files)" cmp -s j1 j2
check "order: -j 1 == -j 7 byte for byte (files)" cmp -s j1 j7
same "order: input order" "$(ids < j2 | head -3 | tr '\n' ' ')" '"many/000.txt" "many/001.txt" "many/002.txt" '
score -j 1 --sentences --probs many.jsonl > j1
score -j 2 --sentences --probs many.jsonl > j2
same "order: 200 lines, 200 records" "$(nlines j1)" 200
check "order: -j 1 == -j 2 byte for byte (jsonl)" cmp -s j1 j2
check "order: records are JSON" valid_json j2
score -j 2 --format tsv many.jsonl > t2
score -j 1 --format tsv many.jsonl > t1
check "order: -j 1 == -j 2 byte for byte (tsv)" cmp -s t1 t2

# ------------------------------------------------------ document details
printf '{"id":"e","text":""}\n{"id":"w","text":"   "}\n' > empty.jsonl
score empty.jsonl > out
check "empty: dominant null and share 0" grep -q '^{"id":"e","sentences":0,.*"dominant":null,"share":0.000000,' out
same "empty: two records" "$(nlines out)" 2
printf 'Caf\xe9 talks ended. \xff\xfe The sides met again.\n' > latin1.txt
score latin1.txt > out
check "invalid UTF-8: repaired and flagged" grep -q '"invalid_utf8":3[,}]' out
check "invalid UTF-8: output is JSON" valid_json out
score --format tsv empty.jsonl d/b.txt > out
same "tsv: header + one line per document" "$(nlines out)" 4
check "tsv: header" grep -q $'^id\tsentences\tdominant\tshare\t.*\tp_[a-z_]*\terror$' out
same "tsv: same column count on every line" "$(awk -F'\t' '{print NF}' out | sort -u | wc -l | tr -d ' ')" 1
check "tsv: no sentences -> empty dominant, share 0" grep -q $'^e\t0\t\t0.000000\t' out

# ----------------------------------------------------------- bad documents
printf 'Real text.\0binary tail\n' > nul.txt
printf '\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0' > rnd.bin
# a file that exists but cannot be read: mode 000, or for root a file whose
# read fails (reading /proc/self/mem at offset 0 is EIO)
if [ "$(id -u)" -ne 0 ]; then
    echo "$S1" > unreadable.txt && chmod 000 unreadable.txt
    UNREAD=unreadable.txt
else
    UNREAD=/proc/self/mem
fi
seq 1 400 | sed "s/.*/$S1/" | gzip > long.txt.gz
sz=$(wc -c < long.txt.gz)
head -c $((sz / 2)) long.txt.gz > trunc.txt.gz
awk -v s="$S2" 'BEGIN { for (i = 1; i <= 300; i++) printf "{\"id\":\"g%d\",\"text\":\"%s %d\"}\n", i, s, i }' | gzip > g.jsonl.gz
gsz=$(wc -c < g.jsonl.gz)
head -c $((gsz * 2 / 3)) g.jsonl.gz > gtrunc.jsonl.gz
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "word " }' > big.txt
{
    printf '{"id":"ok1","text":"%s"}\n' "$S1"
    printf '{"id":"badjson","text": "unterminated}\n'
    printf '{"id":"notext","title":"x"}\n'
    printf '{"id":"numtext","text":42}\n'
    printf '{"id":"nul","text":"a\\u0000b"}\n'
    printf '[1,2]\n'
    printf '{"id":"long","text":"%s"}\n' "$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "word " }')"
    printf '{"id":"ok2","text":"%s"}\n' "$S2"
} > bad.jsonl
ln -s /nonexistent/target dangling.txt
mkdir baddir && ln -s ../nowhere baddir/x.txt
score --max-bytes 4096 "$UNREAD" nul.txt rnd.bin missing.txt trunc.txt.gz big.txt bad.jsonl \
    gtrunc.jsonl.gz baddir d/a.txt > out 2> err
rc=$?
same "bad: exit 1 when some documents failed" "$rc" 1
check "bad: output is JSON" valid_json out
# in: unreadable nul rnd missing trunc big + 8 jsonl + gtrunc(k good + 1) + baddir(1) + d/a.txt
gk=$(grep -c '"id":"g[0-9]*","sentences"' out)
same "bad: records in == records out" "$(nlines out)" $((6 + 8 + gk + 1 + 1 + 1))
check "bad: gzip records before the cut are kept" test "$gk" -gt 10
ids < out > got_ids
check "bad: every document has its record, in order" \
    diff <(head -14 got_ids) <(printf '%s\n' "\"$UNREAD\"" '"nul.txt"' '"rnd.bin"' '"missing.txt"' \
        '"trunc.txt.gz"' '"big.txt"' '"ok1"' '"bad.jsonl:2"' '"notext"' '"numtext"' '"nul"' \
        '"bad.jsonl:6"' '"bad.jsonl:7"' '"ok2"')
same "bad: last two records" "$(tail -2 got_ids | tr '\n' ' ')" '"baddir/x.txt" "d/a.txt" '
reason() { grep -F "{\"id\":$1,\"error\":" out | grep -qF -- "$2"; }
check "bad: unreadable file" reason "\"$UNREAD\"" "$UNREAD: "
check "bad: NUL byte, its line and byte named" reason '"nul.txt"' 'nul.txt: binary content (NUL byte on line 1, byte 10)'
check "bad: binary file" reason '"rnd.bin"' 'rnd.bin: binary content'
check "bad: missing file" reason '"missing.txt"' 'missing.txt: No such file'
check "bad: truncated gzip text" reason '"trunc.txt.gz"' 'trunc.txt.gz: truncated gzip'
check "bad: over --max-bytes, the option named" reason '"big.txt"' 'big.txt: larger than the limit of 4096 bytes (--max-bytes)'
check "bad: invalid JSON names file and line" reason '"bad.jsonl:2"' 'bad.jsonl:2: invalid JSON: column'
check "bad: missing text field" reason '"notext"' 'bad.jsonl:3: no \"text\" field'
check "bad: text not a string" reason '"numtext"' 'bad.jsonl:4: field \"text\" is not a string'
check "bad: NUL in JSON text" reason '"nul"' 'bad.jsonl:5: binary content'
check "bad: not an object" reason '"bad.jsonl:6"' 'bad.jsonl:6: invalid JSON'
check "bad: JSON line over --max-bytes" reason '"bad.jsonl:7"' 'bad.jsonl:7: line longer than the limit of 4096 bytes (--max-bytes)'
check "bad: reading resumes after the long line" grep -q '^{"id":"ok2","sentences":1,' out
check "bad: truncated .jsonl.gz" grep -q '"error":"gtrunc.jsonl.gz:[0-9]*: truncated gzip data' out
check "bad: dangling link in a folder" reason '"baddir/x.txt"' 'baddir/x.txt: No such file'
check "bad: message on stderr" grep -q 'documents could not be scored' err

# --max-errors
score --max-errors 2 bad.jsonl > out 2> err
rc=$?
same "max-errors: exit 1" "$rc" 1
same "max-errors: stops right after the 2nd error" "$(ids < out | tr '\n' ' ')" '"ok1" "bad.jsonl:2" "notext" '
check "max-errors: message" grep -q 'stopped after 2 documents.*--max-errors 2' err
score -j 3 --max-errors 2 bad.jsonl > out3 2> /dev/null
check "max-errors: same output with -j 3" cmp -s out out3

# --summary and --summary-json
score --summary --summary-json sum.json bad.jsonl > /dev/null 2> err
check "summary: table on stderr" grep -q '^stance score: 8 documents, 5 errors, 3 sentences' err
check "summary: json" grep -q '^{"documents":8,"errors":5,"sentences":3,"complete":true,"model":"[0-9a-f]*","labels":{.*}}$' sum.json
score --summary-json /nonexistent/dir/s.json d/a.txt > /dev/null 2> err
same "summary: unwritable summary file is exit 4" "$?" 4

# ----------------------------------------------------------- --keep-fields
printf '%s\n' \
    '{"id":"k1","meta":{"a":[1, 2.50, {"b":null}] },"text":"'"$S1"'","n":1.0e+10,"s":"caf\u00e9 \"q\"","t":true}' \
    '{"id" : "k2" , "text" : "'"$S2"'" , "x":"y"}' \
    '{"id":"k3","text":7,"kept":"even for errors"}' > keep.jsonl
score --keep-fields keep.jsonl > out 2> /dev/null
check "keep: nested value byte-exact" grep -qF '"meta":{"a":[1, 2.50, {"b":null}] }' out
check "keep: number byte-exact" grep -qF '"n":1.0e+10' out
check "keep: escapes byte-exact" grep -qF '"s":"caf\u00e9 \"q\""' out
check "keep: literal" grep -qF '"t":true}' out
check "keep: text and id not copied" test "$(grep -c '"text"' out)" -eq 0
check "keep: spaced record" grep -q '^{"id":"k2",.*,"x":"y"}$' out
check "keep: fields kept on error records" grep -qF '{"id":"k3","error":"keep.jsonl:3: field \"text\" is not a string","kept":"even for errors"}' out
check "keep: output is JSON" valid_json out
score keep.jsonl > out 2> /dev/null
check "keep: nothing copied without --keep-fields" test "$(grep -c '"meta"' out)" -eq 0

# ---------------------------------------------------------- output errors
score --sentences many > /dev/null # warm the page cache
set -o pipefail
score --sentences -j 2 many 2> err | head -c 10 > /dev/null
rc=$?
set +o pipefail
if [ "$rc" -eq 4 ] || [ "$rc" -eq 0 ]; then ok "closed stdout: exit 4 (got $rc)"; else bad "closed stdout: exit 4" "got $rc"; fi
if [ "$rc" -eq 4 ]; then
    check "closed stdout: message" grep -q 'stance score: error writing output: Broken pipe' err
fi
if [ -w /dev/full ]; then
    score many > /dev/full 2> err
    same "full disk: exit 4" "$?" 4
    check "full disk: message" grep -q 'error writing output: No space left on device' err
fi

# ------------------------------------------------------ bounded memory
# JSON Lines are streamed: peak memory must not grow with the file.  Lines of
# 4 KB that fail to parse go through reader, workers and writer quickly.
if [ -x /usr/bin/time ]; then
    awk 'BEGIN { s = sprintf("%4000s", ""); gsub(/ /, "x", s); for (i = 0; i < 1000; i++) print s }' > small.jsonl
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cat small.jsonl; done > large.jsonl
    /usr/bin/time -f %M -o rss.small "$STANCE" score -m "$MODEL" -q -j 2 small.jsonl > /dev/null 2>&1
    /usr/bin/time -f %M -o rss.large "$STANCE" score -m "$MODEL" -q -j 2 large.jsonl > out 2>&1
    same "memory: every line of 80 MB has its record" "$(grep -c '"error":"large.jsonl:[0-9]*: invalid JSON' out)" 20000
    small_kb=$(tail -1 rss.small)
    large_kb=$(tail -1 rss.large)
    if [ -n "${STANCE_SANITIZED:-}" ]; then
        # AddressSanitizer keeps freed memory in quarantine (256 MB), so peak
        # RSS measures the sanitizer, not the program: checked in plain runs
        echo "skip  memory: peak RSS under a sanitizer ($small_kb KB, $large_kb KB)"
    elif [ $((large_kb - small_kb)) -lt 16384 ]; then
        ok "memory: peak RSS 80 MB file $large_kb KB vs 4 MB file $small_kb KB"
    else
        bad "memory: peak RSS grows with the file" "4 MB: $small_kb KB, 80 MB: $large_kb KB"
    fi
else
    echo "skip  memory: /usr/bin/time is not installed"
fi

# ------------------------------------------------------- a slow trickle
# Records that come slowly still come out before the input ends: the writer
# is not woken for every record, but its naps bring each finished one out
# (and flush it) within a fraction of a second.
{
    printf '{"id":"t1","text":"%s"}\n' "$S1"
    sleep 3
    printf '{"id":"t2","text":"%s"}\n' "$S2"
} | score --jsonl -j 2 - > trickle &
trickle_pid=$!
sleep 1.5
same "trickle: the first record is out while the input is still open" "$(ids < trickle)" '"t1"'
wait "$trickle_pid"
same "trickle: both records in the end" "$(ids < trickle | tr '\n' ' ')" '"t1" "t2" '

# -------------------------------------------------------------- usage
score --format xml d > /dev/null 2>&1
same "usage: bad --format is exit 2" "$?" 2
score -j 0 d > /dev/null 2>&1
same "usage: -j 0 is exit 2" "$?" 2
score --format tsv --keep-fields d > /dev/null 2>&1
same "usage: tsv with --keep-fields is exit 2" "$?" 2
"$STANCE" score -m /nonexistent.stm d > /dev/null 2>&1
same "usage: missing model is exit 4" "$?" 4

# -------------------------------------------------------- GNU parallel
if command -v parallel > /dev/null; then
    score -j 2 many.jsonl | sort > single
    parallel --will-cite --pipe -N 50 "$STANCE" score --jsonl -q -j 1 -m "$MODEL" < many.jsonl |
        sort > par
    same "parallel: 200 records" "$(nlines par)" 200
    check "parallel --pipe, sorted by id == single process" cmp -s single par
else
    echo "skip  parallel: GNU parallel is not installed"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
