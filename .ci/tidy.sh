#!/usr/bin/env bash
# clang-tidy-14 with the checks of .clang-tidy over the project's own .cc files
# (the entries of BUILD_DIR/compile_commands.json under the source tree; the
# generated *.pb.cc and anything inside the build directory are left out).
#   .ci/tidy.sh [BUILD_DIR]      (default: build; JOBS=2 parallel clang-tidy runs)
# The full output goes to BUILD_DIR/clang-tidy.log; the findings (deduplicated,
# one line each) to BUILD_DIR/clang-tidy-findings.txt, with a count per check.
# Exits 1 when there is any finding or clang-tidy fails on a file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_arg=${1:-build}
jobs=${JOBS:-2}

if [ ! -f "$build_arg/compile_commands.json" ]; then
  echo "tidy: $build_arg/compile_commands.json not found; configure and build first (make build)" >&2
  exit 2
fi
build=$(cd "$build_arg" && pwd)

mapfile -t files < <(jq -r '.[].file' "$build/compile_commands.json" |
  grep -F "$root/" | grep -v -F "$build/" | grep -v '\.pb\.cc$' | sort -u)
existing=()
for f in "${files[@]}"; do
  [ -f "$f" ] && existing+=("$f")
done
if [ ${#existing[@]} -eq 0 ]; then
  echo "tidy: no source files in $build/compile_commands.json" >&2
  exit 2
fi

# run-clang-tidy takes regular expressions: escape each path and anchor it.
patterns=()
for f in "${existing[@]}"; do
  patterns+=("^$(printf '%s' "$f" | sed 's/[].[*^$()+?{}|\\]/\\&/g')\$")
done

log=$build/clang-tidy.log
findings=$build/clang-tidy-findings.txt
echo "tidy: clang-tidy-14 on ${#existing[@]} files, -j $jobs (log: $log)"
start=$(date +%s)
status=0
(cd "$root" && run-clang-tidy-14 -clang-tidy-binary clang-tidy-14 -p "$build" -j "$jobs" -quiet \
  "${patterns[@]}") >"$log" 2>&1 || status=$?

# One line per finding: path:line:col: warning: text [check]; generated
# headers and duplicates (a header seen from several files) removed.
# (run-clang-tidy-14 always passes --use-color: strip the colour codes.)
sed -i 's/\x1b\[[0-9;]*m//g' "$log"
grep -E '^/[^ ]+:[0-9]+:[0-9]+: (warning|error): .*\[[A-Za-z0-9.,-]+\]$' "$log" |
  grep -v -E '\.pb\.h:' | grep -v -F "$build/" | sed "s|^$root/||" | sort -u >"$findings" || true
count=$(wc -l <"$findings")
echo "tidy: $count findings in $(( $(date +%s) - start )) s"
if [ "$count" -gt 0 ]; then
  sed -E 's/.*\[([A-Za-z0-9.,-]+)\]$/\1/' "$findings" | sort | uniq -c | sort -rn
  echo "tidy: the list is in $findings"
fi
if [ "$status" -ne 0 ] && ! grep -q -E ': (warning|error): ' "$log"; then
  echo "tidy: run-clang-tidy-14 failed (exit $status); see $log" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
[ "$count" -eq 0 ]
