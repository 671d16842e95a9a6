#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (make fuzz).
#   .ci/fuzz.sh BUILD_DIR SECONDS [TARGET...]
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>) and
# what earlier runs found (BUILD_DIR/corpus/<target>, where new inputs go; the
# committed corpus is never written). Crashing inputs are saved as
# BUILD_DIR/artifacts/<target>-crash-<sha1>; replay one with
# BUILD_DIR/tests/fuzz/<target>_fuzz <file>. Prints executions per target and
# exits non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:?usage: .ci/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: .ci/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(server recovery keys tick_spec config workflow_json)
fi

mkdir -p "$build/artifacts" "$build/fuzz-logs"
supp="$PWD/.ci/lsan-fuzz.supp"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
failed=0
rows=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/${t}_fuzz"
  work="$build/corpus/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$work"
  echo "=== fuzz: $t for ${seconds}s"
  status=ok
  # -timeout: one input taking 30 s is a hang; -rss_limit_mb: ASan's shadow
  # and RocksDB's memtables need more than the 2 GiB default on a bad day.
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=30 \
    -rss_limit_mb=4096 -artifact_prefix="$build/artifacts/$t-" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    status=CRASH
    failed=1
    grep -E 'ERROR:|FUZZ_CHECK|runtime error|Test unit written' "$log" | head -5 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rows+=("$(printf '%-14s %10s execs %9s execs/s %6s inputs  %s' "$t" "${execs:-?}" \
    "$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))" "$(ls "$work" | wc -l)" "$status")")
done
echo "=== fuzz: ${seconds}s per target (logs in $build/fuzz-logs)"
printf '  %s\n' "${rows[@]}"
exit $failed
