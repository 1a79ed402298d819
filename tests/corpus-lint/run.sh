#!/bin/bash
# Tests for tools/corpus-lint.  Usage: tests/corpus-lint/run.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LINT="$ROOT/tools/corpus-lint"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
H=$'id\tlabel\tlang\tvoice\tsituation\ttext'

ok()  { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' <<<"$2"; }

# mk NAME LINE...  -> writes $TMP/NAME.tsv (lines joined with LF, trailing LF)
mk() { local f="$TMP/$1.tsv"; shift; printf '%s\n' "$@" >"$f"; echo "$f"; }

# expect NAME WANT_RC PATTERN [ARGS...]  -- run lint, check rc and fixed-string pattern
expect() {
    local name=$1 want=$2 pat=$3; shift 3
    local out rc
    out=$("$LINT" "$@" 2>&1); rc=$?
    if [ "$rc" -ne "$want" ]; then bad "$name (exit $rc, want $want)" "$out"; return; fi
    if [ -n "$pat" ] && ! grep -qF -- "$pat" <<<"$out"; then
        bad "$name (no '$pat' in output)" "$out"; return
    fi
    ok "$name"
}

# single-violation file: exit 1, message present, and exactly 1 violation
expect1() {
    local name=$1 pat=$2 f=$3
    expect "$name" 1 "$pat" "$f"
    expect "$name: only one violation" 1 "files, 1 violations" --quiet "$f"
}

S1='The ministry condemned the strike as a flagrant breach of international law.'
S2='Officials urged all parties to exercise maximum restraint and avoid escalation.'
S3='Both governments agreed to keep trade talks open despite the dispute.'
T=$'\t'

f=$(mk header $'id\tlabel\tlanguage\tvoice\tsituation\ttext' "a1${T}neutral${T}en${T}news${T}x-1${T}$S1")
expect1 "wrong header" "$f:1: bad header" "$f"

f=$(mk label "$H" "a1${T}condemn${T}en${T}official${T}x-1${T}$S1")
expect1 "unknown label" "$f:2: unknown label 'condemn'" "$f"

f=$(mk lang "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}$S1" "a2${T}restraint${T}fr${T}news${T}x-1${T}$S2")
expect1 "bad lang" "$f:3: unknown lang 'fr'" "$f"

f=$(mk voice "$H" "a1${T}neutral${T}en${T}blog${T}x-1${T}$S1")
expect1 "bad voice" "$f:2: unknown voice 'blog'" "$f"

f=$(mk slug "$H" "a1${T}neutral${T}en${T}news${T}Iraq_2003${T}$S1")
expect1 "bad situation slug" "$f:2: bad situation slug 'Iraq_2003'" "$f"

f=$(mk short "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}Talks resumed.")
expect1 "2-word text" "$f:2: text has 2 words (min 3)" "$f"

long=$(printf 'word%d ' $(seq 1 61)); long=${long% }
f=$(mk long "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}$long")
expect1 "61-word text" "$f:2: text has 61 words (max 60)" "$f"

f=$(mk space "$H" "a1${T}neutral${T}en${T}news${T}x-1${T} $S1")
expect1 "leading space in text" "$f:2: leading whitespace in text" "$f"

f=$(mk empty "$H" "a1${T}neutral${T}en${T}${T}x-1${T}$S1")
expect1 "empty field" "$f:2: empty field 'voice'" "$f"

f="$TMP/utf8.tsv"
{ echo "$H"; echo "a1${T}neutral${T}en${T}news${T}x-1${T}$S1";
  printf 'a2\trestraint\tes\tnews\tx-1\tLa canciller\xeda pidi\xf3 moderaci\xf3n a todas las partes.\n'; } >"$f"
expect1 "invalid UTF-8" "$f:3: invalid UTF-8 byte 0xed" "$f"

f="$TMP/crlf.tsv"
printf '%s\r\n' "$H" >"$f"
expect "CRLF line ending" 1 "$f:1: carriage return" "$f"

f=$(mk dup "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}$S1" "a2${T}neutral${T}en${T}news${T}x-1${T}$S2" \
    "a3${T}condemnation${T}en${T}official${T}x-1${T}the ministry  CONDEMNED the strike as a flagrant breach of international law.")
expect1 "duplicate text" "$f:4: duplicate text of $f:2" "$f"

f=$(mk run "$H" "a1${T}restraint${T}en${T}official${T}x-1${T}$S2" "a2${T}neutral${T}en${T}news${T}x-1${T}$S1" \
    "a3${T}restraint${T}en${T}news${T}x-2${T}On Tuesday, \"officials urged all parties to exercise maximum restraint\" again.")
expect1 "8-word shared run" "$f:4: shares an 8-word run with $f:2: \"officials urged all parties to exercise maximum restraint\"" "$f"

f=$(mk id "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}$S1" "a1${T}restraint${T}en${T}news${T}x-1${T}$S2")
expect1 "duplicate id" "$f:3: duplicate id 'a1'" "$f"

g=$(mk id2 "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}$S3")
f=$(mk id1 "$H" "a1${T}restraint${T}en${T}news${T}x-1${T}$S2")
expect "duplicate id across files" 1 "$g:2: duplicate id 'a1' (first at $f:2)" "$f" "$g"

f=$(mk fields "$H" "a1${T}neutral${T}en${T}news${T}x-1${T}$S1${T}extra")
expect1 "7 fields" "$f:2: expected 6 fields, got 7" "$f"

valid=$(mk valid "$H" \
    "en-1${T}condemnation${T}en${T}official${T}gaza-2024-strike${T}$S1" \
    "es-1${T}restraint${T}es${T}news${T}venezuela-2026-raid${T}La cancillería pidió «moderación» a todas las partes, según fuentes oficiales." \
    "ru-1${T}pragmatic_engagement${T}ru${T}analysis${T}syria-2015${T}Москва, по мнению экспертов, продолжит диалог с новыми властями." \
    "en-2${T}strategic_opportunism${T}en${T}news${T}venezuela-2026-raid${T}Beijing moved quickly to offer credit lines to the interim government." \
    "en-3${T}neutral${T}en${T}official${T}venezuela-2026-raid${T}$S3")
expect "valid file exits 0" 0 "corpus-lint: 5 sentences, 1 files, 0 violations" "$valid"
expect "valid file prints counts table" 0 "strategic_opportunism" "$valid"
out=$("$LINT" --quiet "$valid" 2>&1)
[ "$out" = "corpus-lint: 5 sentences, 1 files, 0 violations" ] && ok "--quiet prints only summary" || bad "--quiet prints only summary" "$out"
expect "--limits on small file" 1 "corpus: 5 sentences in total, need at least 5000" --limits "$valid"

expect "nonexistent file exits 2" 2 "cannot read" "$TMP/nonexistent.tsv"
expect "unknown option exits 2" 2 "" --bogus "$valid"

# Default mode: lints <root>/corpus/*.tsv relative to the script, not the cwd.
mkdir -p "$TMP/repo/tools" "$TMP/repo/corpus" "$TMP/elsewhere"
cp "$LINT" "$TMP/repo/tools/"
cp "$valid" "$TMP/repo/corpus/a.tsv"
printf '%s\n' "$H" "s1${T}neutral${T}en${T}news${T}venezuela-2026-raid${T}January 8, 2026" >"$TMP/repo/corpus/seed.tsv"
out=$(cd "$TMP/elsewhere" && "$TMP/repo/tools/corpus-lint" --quiet 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -qF "corpus-lint: 6 sentences, 2 files" <<<"$out" \
   && grep -qF "corpus: 6 sentences in total" <<<"$out" && ! grep -q "words (min" <<<"$out"; then
    ok "default mode lints root corpus/*.tsv with limits; seed.tsv min 1 word"
else
    bad "default mode" "$out"
fi

# Speed: 10,000 sentences must lint quickly.
/usr/bin/python3 - "$TMP/big.tsv" <<'PY'
import random, sys
r = random.Random(1)
L = ["condemnation", "restraint", "pragmatic_engagement", "strategic_opportunism", "neutral"]
with open(sys.argv[1], "w") as f:
    f.write("id\tlabel\tlang\tvoice\tsituation\ttext\n")
    for i in range(10000):
        words = " ".join("w%d" % r.randrange(10**7) for _ in range(r.randint(6, 40)))
        f.write("b%d\t%s\ten\tnews\ts-%d\t%s.\n" % (i, L[i % 5], i % 100, words))
PY
start=$(date +%s%N)
expect "10,000 sentences" 0 "10000 sentences, 1 files, 0 violations" --quiet "$TMP/big.tsv"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -lt 10000 ]; then ok "10,000 sentences in ${ms} ms"; else bad "10,000 sentences too slow: ${ms} ms"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
