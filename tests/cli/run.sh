#!/usr/bin/env bash
# run.sh STANCE_BINARY [CASE...] - the data-driven CLI tests (see README.md).
#
# Trains two small fixture models from data/mini.tsv into a temporary folder,
# then runs every tests/cli/cases/*.case (or only the CASE files named) against
# STANCE_BINARY.  Prints one line per failing case with the reason and a diff,
# then "N passed, N failed".  Exits 1 if any case failed, 2 if the fixtures
# could not be built.
set -u

if [ $# -lt 1 ]; then
    echo "usage: tests/cli/run.sh STANCE_BINARY [CASE...]" >&2
    exit 2
fi
case $1 in
/*) STANCE=$1 ;;
*) STANCE=$PWD/$1 ;;
esac
shift
if [ ! -x "$STANCE" ]; then
    echo "run.sh: $STANCE is not an executable file" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$HERE/data
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stance-cli.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
VERBOSE=${VERBOSE:-0}
CASE_TIMEOUT=${CASE_TIMEOUT:-300}

# A predictable environment: no default model unless a case sets one, the C
# locale, no colour or terminal.
unset STANCE_MODEL
export LC_ALL=C
# sanitizer builds: report everything, and make a report fail the case
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# --------------------------------------------------------------- fixtures
# Trained inside data/ with a relative corpus name, so the provenance record
# (and thus the model bytes) does not depend on where the tree lives.
MODEL=$WORK/model.stm
MODEL2=$WORK/model2.stm
BIG=$WORK/big
fixture() {
    local log=$WORK/fixture.log
    if ! (cd "$DATA" && "$STANCE" "$@") >"$log" 2>&1; then
        echo "run.sh: could not build a fixture: stance $*" >&2
        cat "$log" >&2
        exit 2
    fi
}
# Every option the expected outputs depend on is spelled out (solver, seed,
# features), so that a change of train's defaults, which is a change of the
# default model, does not change these small fixtures.
fixture train -q --solver libsvm --char-ngrams 2-5 --cv 3 --seed 1 -o "$MODEL" mini.tsv
fixture train -q --solver liblinear --char-ngrams 2-5 --seed 1 -o "$MODEL2" mini.tsv
if ! sh "$ROOT/tests/bad-corpora/make-big.sh" "$BIG"; then
    echo "run.sh: tests/bad-corpora/make-big.sh failed" >&2
    exit 2
fi
export STANCE MODEL MODEL2 DATA ROOT BIG

# what the cases must not change: every file in data/, its size and time
data_state() { (cd "$DATA" && find . -mindepth 1 -printf '%p %s %T@\n' | sort | sha256sum); }
data_before=$(data_state)

# ------------------------------------------------------------------ cases
# parse_case FILE DIR: split FILE into DIR/{args,exit,stdin-file,env,...} and
# one file per block (DIR/block.NAME).  Returns 1 with a message on a
# malformed case.
parse_case() {
    local file=$1 dir=$2 line block="" n=0
    : >"$dir/env"
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        if [[ $line == "--- "* ]]; then
            block=${line#--- }
            local name=${block%% *} arg=""
            [[ $block == *" "* ]] && arg=${block#* }
            case $name in
            stdin | run | stdout | stderr | stdout-contains | stderr-contains | \
                stdout-not-contains | stderr-not-contains)
                [ -z "$arg" ] || { echo "$file:$n: '--- $name' takes no argument"; return 1; }
                : >"$dir/block.$name"
                ;;
            stdout-lines)
                [[ $arg =~ ^[0-9]+$ ]] || { echo "$file:$n: '--- stdout-lines N' needs a number"; return 1; }
                echo "$arg" >"$dir/stdout-lines"
                name=""
                ;;
            *) echo "$file:$n: unknown block '--- $name'"; return 1 ;;
            esac
            block=$name
            continue
        fi
        if [ -n "$block" ]; then
            printf '%s\n' "$line" >>"$dir/block.$block"
            continue
        fi
        case $line in
        "" | "#"*) ;;
        "args: "* | "args:") printf '%s' "${line#args:}" >"$dir/args" ;;
        "exit: "*) printf '%s' "${line#exit: }" >"$dir/exit" ;;
        "stdin: "*) printf '%s' "${line#stdin: }" >"$dir/stdin-file" ;;
        "env: "*) printf '%s\n' "${line#env: }" >>"$dir/env" ;;
        *) echo "$file:$n: expected 'args:', 'exit:', 'stdin:', 'env:' or a '--- ' block"; return 1 ;;
        esac
    done <"$file"
    if [ ! -f "$dir/args" ] && [ ! -f "$dir/block.run" ]; then
        echo "$file: no 'args:' line and no '--- run' block"
        return 1
    fi
    if [ -f "$dir/args" ] && [ -f "$dir/block.run" ]; then
        echo "$file: both 'args:' and '--- run'"
        return 1
    fi
    if [ -f "$dir/stdin-file" ] && [ -f "$dir/block.stdin" ]; then
        echo "$file: both 'stdin:' and '--- stdin'"
        return 1
    fi
    return 0
}

# run_case DIR TMP: run the parsed case in data/ with its own TMP; leaves
# DIR/out, DIR/err and DIR/rc.
run_case() {
    local dir=$1
    (
        export TMP=$2
        cd "$DATA" || exit 125
        while IFS= read -r kv; do
            [ -n "$kv" ] || continue
            eval "export $kv" || exit 125
        done <"$dir/env"
        local in=/dev/null
        if [ -f "$dir/stdin-file" ]; then
            in=$DATA/$(cat "$dir/stdin-file")
        elif [ -f "$dir/block.stdin" ]; then
            in=$dir/block.stdin
        fi
        local to=()
        command -v timeout >/dev/null && to=(timeout -k 5 "$CASE_TIMEOUT")
        if [ -f "$dir/block.run" ]; then
            "${to[@]}" bash "$dir/block.run" <"$in"
        else
            eval "set -- $(cat "$dir/args")" || exit 125
            "${to[@]}" "$STANCE" "$@" <"$in"
        fi
    ) >"$dir/out" 2>"$dir/err"
    echo $? >"$dir/rc"
}

# every line of the block must (or must not) occur in the output
check_lines() {
    local block=$1 output=$2 want=$3 what=$4 ok=0 line
    while IFS= read -r line || [ -n "$line" ]; do
        [ -n "$line" ] || continue
        if grep -qF -- "$line" "$output"; then
            [ "$want" = yes ] || { echo "    $what contains: $line"; ok=1; }
        else
            [ "$want" = no ] || { echo "    $what lacks: $line"; ok=1; }
        fi
    done <"$block"
    return $ok
}

show() { # show FILE LABEL: the first lines of an output, indented
    if iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; then
        echo "    --- $2 ($(wc -c <"$1") bytes):"
        head -n 20 "$1" | cut -c1-300 | sed 's/^/    | /'
    else
        echo "    --- $2 ($(wc -c <"$1") bytes, not valid UTF-8, shown with cat -v):"
        head -n 20 "$1" | cut -c1-300 | cat -v | sed 's/^/    | /'
    fi
}

pass=0
fail=0
failed=()
if [ $# -gt 0 ]; then
    cases=("$@")
else
    cases=("$HERE"/cases/*.case)
fi
for case_file in "${cases[@]}"; do
    name=$(basename "$case_file" .case)
    dir=$WORK/case.$name
    mkdir -p "$dir/tmp"
    problems=$(
        if ! parse_case "$case_file" "$dir"; then exit 1; fi
        run_case "$dir" "$dir/tmp"
        rc=$(cat "$dir/rc")
        bad=0
        want=$(cat "$dir/exit" 2>/dev/null || echo 0)
        if ! [[ "|$want|" == *"|$rc|"* ]]; then
            echo "    exit status $rc, expected $want"
            bad=1
        fi
        # a sanitizer report or a crash fails every case, whatever it expects
        if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation fault|core dumped' "$dir/err"; then
            echo "    stderr has a sanitizer report or a crash"
            bad=1
        fi
        if [ "$rc" -ge 128 ] && ! [[ "|$want|" == *"|$rc|"* ]]; then
            echo "    killed by signal $((rc - 128))"
            bad=1
        fi
        if [ -f "$dir/block.stdout" ] && ! cmp -s "$dir/block.stdout" "$dir/out"; then
            echo "    stdout differs (- expected, + actual):"
            diff -u "$dir/block.stdout" "$dir/out" | tail -n +3 | head -n 60 | sed 's/^/    /'
            bad=1
        fi
        if [ -f "$dir/block.stderr" ] && ! cmp -s "$dir/block.stderr" "$dir/err"; then
            echo "    stderr differs (- expected, + actual):"
            diff -u "$dir/block.stderr" "$dir/err" | tail -n +3 | head -n 60 | sed 's/^/    /'
            bad=1
        fi
        for s in stdout stderr; do
            f=$dir/out
            [ $s = stderr ] && f=$dir/err
            if [ -f "$dir/block.$s-contains" ]; then
                check_lines "$dir/block.$s-contains" "$f" yes $s || bad=1
            fi
            if [ -f "$dir/block.$s-not-contains" ]; then
                check_lines "$dir/block.$s-not-contains" "$f" no $s || bad=1
            fi
        done
        if [ -f "$dir/stdout-lines" ]; then
            want_n=$(cat "$dir/stdout-lines")
            got_n=$(wc -l <"$dir/out")
            if [ "$got_n" -ne "$want_n" ]; then
                echo "    stdout has $got_n lines, expected $want_n"
                bad=1
            fi
        fi
        if [ $bad = 1 ]; then
            [ -f "$dir/block.stdout" ] || show "$dir/out" stdout
            [ -f "$dir/block.stderr" ] || show "$dir/err" stderr
            exit 1
        fi
        exit 0
    )
    if [ $? = 0 ]; then
        pass=$((pass + 1))
        [ "$VERBOSE" = 1 ] && echo "ok   $name"
    else
        fail=$((fail + 1))
        failed+=("$name")
        echo "FAIL $name"
        printf '%s\n' "$problems"
    fi
done

if [ "$(data_state)" != "$data_before" ]; then
    echo "FAIL data-unchanged: the cases changed tests/cli/data (write only under \$TMP)"
    fail=$((fail + 1))
    failed+=(data-unchanged)
fi
[ $fail -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
