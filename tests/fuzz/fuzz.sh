#!/usr/bin/env bash
# ./test.sh --fuzz [SECONDS]: runs every fuzzer of tests/fuzz/ for SECONDS
# (default 120) under ASan + UBSan with libFuzzer (build-fuzz/), one after
# another, starting from its committed corpus. The corpus is then replaced by
# the smallest set of inputs that covers what it and the new inputs cover
# (libFuzzer -merge=1; named seeds and regress-* inputs always stay). Prints
# executions per target.
#
# A crash or a failed property stops the run with the fuzzer's report; the
# input that caused it is in build-fuzz/fuzz-crashes/<name>/. Fix the cause,
# then keep the input as tests/fuzz/corpus/<name>/regress-<what> so that
# every later ./test.sh replays it.
#
#   PARLEY_FUZZ_ONLY=envelope,receipt ./test.sh --fuzz 60   some fuzzers only
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/debian-deps.sh
parley_install_packages "${PARLEY_BUILD_PACKAGES[@]}" "${PARLEY_TEST_PACKAGES[@]}" \
  "${PARLEY_SANITIZER_PACKAGES[@]}"

seconds="${1:-120}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: ./test.sh --fuzz [SECONDS]   (SECONDS: a whole number > 0)" >&2
  exit 2
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/testing/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

tree="${PARLEY_FUZZ_DIR:-build-fuzz}"
parley_configure_clang "$tree" address,undefined -O1 -DPARLEY_BUILD_TESTS=ON \
  -DPARLEY_FUZZ=ON
mapfile -t names < "$tree/fuzzers.txt"
if [ -n "${PARLEY_FUZZ_ONLY:-}" ]; then
  IFS=, read -r -a names <<< "$PARLEY_FUZZ_ONLY"
fi
targets=()
for name in "${names[@]}"; do
  [ -n "$name" ] || continue
  if ! grep -qx "$name" "$tree/fuzzers.txt"; then
    echo "no fuzzer named $name (see $tree/fuzzers.txt)" >&2
    exit 2
  fi
  targets+=("${name}_fuzzer")
done
parley_build_tree "$tree" "${targets[@]}"

work="$(mktemp -d "${TMPDIR:-/tmp}/parley-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
summary=()
for name in "${names[@]}"; do
  [ -n "$name" ] || continue
  fuzzer="$tree/tests/fuzz/${name}_fuzzer"
  corpus="tests/fuzz/corpus/$name"
  if [ ! -d "$corpus" ]; then
    echo "no corpus for $name: $corpus" >&2
    exit 2
  fi
  crashes="$tree/fuzz-crashes/$name"
  mkdir -p "$work/$name" "$crashes"
  echo "fuzzing $name for ${seconds}s..." >&2
  # New inputs go to $work/$name; the committed corpus is only read.
  if ! "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$crashes/" \
      "$work/$name" "$corpus" 2> "$work/$name.log"; then
    tail -n 60 "$work/$name.log" >&2
    echo "FUZZ FAILURE in $name: input kept in $crashes/" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
  # Merge and minimise: the smallest set of inputs that covers what the
  # committed corpus and the new inputs cover replaces the corpus's
  # hash-named files; named seeds and regress-* inputs always stay.
  before=$(find "$corpus" -type f | wc -l)
  mkdir -p "$work/$name.min"
  "$fuzzer" -merge=1 "$work/$name.min" "$corpus" "$work/$name" \
    2>> "$work/$name.log" >/dev/null
  find "$corpus" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' \
    -delete
  find "$work/$name.min" -type f -exec cp -n {} "$corpus/" \;
  # libFuzzer names inputs by their SHA-1: drop copies of named inputs.
  find "$corpus" -type f -regextype posix-extended \
    ! -regex '.*/[0-9a-f]{40}' -exec sha1sum {} + |
    while read -r sum _; do rm -f "$corpus/$sum"; done
  after=$(find "$corpus" -type f | wc -l)
  line="$(printf '%-22s %11s executions %7d/s  corpus %d -> %d' \
    "$name" "$runs" $((runs / seconds)) "$before" "$after")"
  echo "$line" >&2
  summary+=("$line")
done
printf '%s\n' "${summary[@]}"
