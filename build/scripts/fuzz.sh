#!/usr/bin/env bash
# Usage: fuzz.sh [TARGET ...]         (make fuzz FUZZ_SECONDS=N FUZZ_TARGETS=...)
# Builds the libFuzzer targets in t/fuzz/ with clang and
# -fsanitize=fuzzer,address,undefined (the APR-only core compiled the same
# way), then runs each for FUZZ_SECONDS seconds (default 10) from its seed
# corpus t/fuzz/corpus/<target>/ with t/fuzz/notify.dict.
# Fails on any crash, leak, timeout, out-of-memory or undefined-behaviour
# report; the input that caused it is kept as t/fuzz/build/<target>-crash-*.
# Prints a line per target with libFuzzer's exec count.
# Inputs a run finds go to a scratch corpus (t/fuzz/build/work/<target>),
# not into the committed seeds.
set -euo pipefail

cd "$(dirname "$0")/../.."
top=$(pwd -P)

seconds=${FUZZ_SECONDS:-10}
jobs=${FUZZ_JOBS:-1}
cc=${FUZZ_CC:-clang}
out=t/fuzz/build
pkgs="apr-1 apr-util-1 jansson libcurl openssl"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-g -O1 -fno-omit-frame-pointer -Wall -Wextra -Iinclude $san
        $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs)"

if ! command -v "$cc" >/dev/null; then
    echo "fuzz: $cc is missing (make deps installs clang)" >&2
    exit 1
fi

mkdir -p "$out/core" "$out/work"

# The core, instrumented for coverage and the sanitizers. Rebuilt when a
# source or a header is newer than its object.
objs=()
newest_header=$(ls -t include/*.h | head -n 1)
for src in mod_notify/notify_*.c; do
    obj="$out/core/$(basename "${src%.c}").o"
    if [[ ! -f $obj || $src -nt $obj || $newest_header -nt $obj ]]; then
        # shellcheck disable=SC2086 # flag lists
        "$cc" $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    fi
    objs+=("$obj")
done

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=()
    for src in t/fuzz/fuzz_*.c; do
        targets+=("$(basename "${src%.c}")")
    done
fi

status=0
for target in "${targets[@]}"; do
    src=t/fuzz/$target.c
    bin=$out/$target
    if [[ ! -f $src ]]; then
        echo "fuzz: no target $src" >&2
        exit 1
    fi
    if [[ ! -x $bin || $src -nt $bin || t/fuzz/fuzz.h -nt $bin ]] \
        || [[ -n $(find "$out/core" -newer "$bin" -name '*.o' | head -n 1) ]]; then
        # shellcheck disable=SC2086
        "$cc" $cflags -fsanitize=fuzzer "$src" "${objs[@]}" $libs -o "$bin"
    fi

    work=$out/work/$target
    mkdir -p "$work"
    log=$out/$target.log
    # -rss_limit_mb: libFuzzer's default (2048) is the out-of-memory bar;
    # -timeout: one input taking this long is a hang, and fails the run.
    # With -jobs, libFuzzer writes fuzz-N.log into the current folder: it
    # runs in $out, so paths are absolute.
    parallel=()
    if [[ $jobs -gt 1 ]]; then
        parallel=(-jobs="$jobs" -workers="$jobs")
    fi
    rc=0
    (
        cd "$out"
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
            "$top/$bin" -max_total_time="$seconds" -timeout=10 \
                -rss_limit_mb=2048 -max_len=65536 -dict="$top/t/fuzz/notify.dict" \
                "${parallel[@]}" -print_final_stats=1 \
                -artifact_prefix="$top/$out/$target-" \
                "$top/$work" "$top/t/fuzz/corpus/$target"
    ) >"$log" 2>&1 || rc=$?
    if [[ $jobs -gt 1 ]]; then
        cat "$out"/fuzz-*.log >>"$log" 2>/dev/null || true
        rm -f "$out"/fuzz-*.log
    fi
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" \
        | awk '{ s += $2 } END { print s + 0 }')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{ print $2 }')
    if [[ $rc -ne 0 ]] || grep -qE \
            'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' \
            "$log"; then
        echo "FAIL $target: exit $rc after $runs execs; from $log:" >&2
        grep -E -A 30 'ERROR:|runtime error:' "$log" | head -n 60 >&2 || tail -n 40 "$log" >&2
        ls "$out/$target"-* 2>/dev/null | sed 's/^/  input: /' >&2 || true
        status=1
    else
        echo "ok   $target: $runs execs in ${seconds}s, coverage ${cov:-?} edges, $(ls "$work" | wc -l) inputs in $work"
    fi
done
exit "$status"
