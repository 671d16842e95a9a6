#!/usr/bin/env bash
# The tests of the sanitizer build (make sanitize: clang-14, ASan + UBSan):
#   1. a short property run: every ctest test labelled `property` (not soak),
#      run directly with its ctest environment but 1/SANITIZE_PROPERTY_DIVISOR
#      of its RapidCheck sequences (RC_PARAMS max_success; default divisor 10),
#      since ctest's ENVIRONMENT property would override an outer RC_PARAMS;
#   2. ctest -L 'unit|integration' (soak excluded).
#   .ci/sanitize-tests.sh BUILD_DIR        (JOBS=2: ctest -j)
# Leak detection is on; the known leaks of uninstrumented library globals are
# suppressed by .ci/lsan.supp (nothing of Ratchet's own is).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
jobs=${JOBS:-2}
divisor=${SANITIZE_PROPERTY_DIVISOR:-10}

export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/.ci/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
# client_install_test configures examples/client_project against the installed
# (instrumented) client library: it must compile and link the same way.
export CXX=clang++-14 CXXFLAGS="-fsanitize=address,undefined" LDFLAGS="-fsanitize=address,undefined"

failed=()

# 1. Short property run.
tests_json=$(cd "$build" && ctest --show-only=json-v1 -L property -LE soak)
count=$(jq '.tests | length' <<<"$tests_json")
if [ "$count" -eq 0 ]; then
  echo "sanitize: no property tests in $build" >&2
  failed+=("(no property tests)")
fi
for i in $(seq 0 $((count - 1))); do
  name=$(jq -r ".tests[$i].name" <<<"$tests_json")
  mapfile -t cmd < <(jq -r ".tests[$i].command[]" <<<"$tests_json")
  workdir=$(jq -r "(.tests[$i].properties // [])[] | select(.name == \"WORKING_DIRECTORY\") | .value" \
    <<<"$tests_json")
  mapfile -t env < <(jq -r "(.tests[$i].properties // [])[] | select(.name == \"ENVIRONMENT\") | .value[]" \
    <<<"$tests_json")
  for j in "${!env[@]}"; do
    if [[ ${env[$j]} == RC_PARAMS=*max_success=* ]]; then
      n=$(sed -E 's/.*max_success=([0-9]+).*/\1/' <<<"${env[$j]}")
      n=$(( (n + divisor - 1) / divisor ))
      env[$j]=$(sed -E "s/max_success=[0-9]+/max_success=$n/" <<<"${env[$j]}")
    fi
  done
  echo "sanitize: property test $name (${env[*]:-no environment})"
  start=$(date +%s)
  if (cd "${workdir:-$build}" && env "${env[@]}" "${cmd[@]}") >"$build/$name.sanitize.log" 2>&1; then
    echo "sanitize: $name passed in $(( $(date +%s) - start )) s"
  else
    echo "sanitize: $name FAILED in $(( $(date +%s) - start )) s; last lines of $build/$name.sanitize.log:"
    tail -n 60 "$build/$name.sanitize.log"
    failed+=("$name")
  fi
done

# 2. Unit and integration tests.
if ! (cd "$build" && ctest --output-on-failure -j "$jobs" -L 'unit|integration' -LE soak); then
  failed+=("ctest -L 'unit|integration'")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitize: FAILED: ${failed[*]}" >&2
  exit 1
fi
