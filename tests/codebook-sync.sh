#!/bin/bash
# corpus/README.md carries a copy of the shared codebook between two markers;
# fail when the copy and the original differ.  The original lives beside the
# repository (../shared/CODEBOOK.md); without it there is nothing to compare.
set -u
cd "$(dirname "$0")/.."
shared=../shared/CODEBOOK.md
if [ ! -f "$shared" ]; then
    echo "codebook-sync: $shared not found, nothing to compare"
    echo "0 passed, 0 failed"
    exit 0
fi
copy=$(sed -n '/<!-- codebook:begin -->/,/<!-- codebook:end -->/p' corpus/README.md | sed '1d;$d')
if [ "$copy" = "$(cat "$shared")" ]; then
    echo "1 passed, 0 failed"
else
    diff <(echo "$copy") "$shared" | head -20
    echo "codebook-sync: corpus/README.md's codebook differs from $shared"
    echo "0 passed, 1 failed"
    exit 1
fi
