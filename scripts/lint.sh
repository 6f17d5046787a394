#!/bin/sh
# Style and static checks, as CI runs them (scripts/test.sh): clang-format (.clang-format)
# on every C/C++ file, then clang-tidy (.clang-tidy: function size, use-after-move, ...) on
# every source file of src/ and launcher/. Needs a configured build directory with
# compile_commands.json (default build/). Usage: scripts/lint.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
files=$(git ls-files '*.cc' '*.h' '*.c')
if ! clang-format-14 --dry-run --Werror $files; then
  echo "lint: clang-format differs (fix: clang-format-14 -i FILE)" >&2
  exit 1
fi
sources=$(git ls-files 'src/*.cc' 'launcher/*.cc')
if ! printf '%s\n' $sources | xargs -n 4 -P "$(nproc)" clang-tidy-14 -p "$build" --quiet 2>/dev/null; then
  echo "lint: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "lint: clang-format and clang-tidy clean ($(printf '%s\n' $files | wc -l) files formatted, $(printf '%s\n' $sources | wc -l) checked)"
