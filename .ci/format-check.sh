#!/usr/bin/env bash
# clang-format-14 --dry-run -Werror (.clang-format) over every tracked *.cc and
# *.h file. Lists the files that need formatting and exits 1 if there are any.
# Fix with: git ls-files -z '*.cc' '*.h' | xargs -0 clang-format-14 -i
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -d '' -t tracked < <(git ls-files -z -- '*.cc' '*.h')
files=()
for f in "${tracked[@]}"; do
  [ -f "$f" ] && files+=("$f")  # tracked but deleted in the work tree: skip
done
if [ ${#files[@]} -eq 0 ]; then
  echo "format-check: no tracked *.cc/*.h files" >&2
  exit 1
fi
bad=()
for f in "${files[@]}"; do
  if ! clang-format-14 --dry-run -Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "format-check: ${#bad[@]} of ${#files[@]} files are not clang-format-14 clean:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "format-check: first differences:" >&2
  clang-format-14 --dry-run -Werror "${bad[@]}" 2>&1 | head -n 40 >&2 || true
  echo "fix with: clang-format-14 -i ${bad[*]}" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files clean (clang-format-14)"
