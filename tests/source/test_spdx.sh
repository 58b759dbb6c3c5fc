#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every source file of the project says its licence in its first lines
# (SPDX-License-Identifier: Apache-2.0; LICENSE holds the text), so a file
# copied out of the tree still says under which terms. Source files: C, shell,
# Python and CMake under src/, include/, tests/ (not tests/data), scripts/,
# packaging/, systemd/ and .ci/, and CMakeLists.txt.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
[ -f LICENSE ] && grep -q "Apache License" LICENSE || { echo "FAIL: LICENSE is missing" >&2; exit 1; }
missing=0 checked=0
while IFS= read -r -d '' f; do
    case "$f" in
        *.c|*.h|*.sh|*.py|*.cmake|*/CMakeLists.txt|./scripts/*|./.ci/*|*.postinst|*.prerm|*.postrm) ;;
        *) continue ;;
    esac
    checked=$((checked + 1))
    if ! head -n 3 "$f" | grep -q "SPDX-License-Identifier: Apache-2.0"; then
        echo "$f: no SPDX-License-Identifier line in its first three lines" >&2
        missing=$((missing + 1))
    fi
done < <(find ./src ./include ./tests ./scripts ./packaging ./systemd ./.ci ./CMakeLists.txt \
              -path ./tests/data -prune -o -type f -print0)
[ "$checked" -gt 200 ] || { echo "FAIL: only $checked source files found" >&2; exit 1; }
[ "$missing" -eq 0 ] || { echo "FAIL: $missing of $checked files without a licence line" >&2; exit 1; }
echo "PASS: $checked source files carry the SPDX line"
