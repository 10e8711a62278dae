#!/usr/bin/env bash
# temoto info: a real file's header, keys and tensors; a hostile file is a clear error.
set -euo pipefail
model=../shared/models/stories260K-f32.v3.gguf
if [[ ! -f $model ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $model" >&2; exit 1; }
    exit 77
fi
fail=0
out=$("$TEMOTO" info "$model")
grep -q 'general.architecture *string: "llama"' <<<"$out" || { echo "FAIL: architecture"; fail=1; }
grep -q '^tensors (48)' <<<"$out" || { echo "FAIL: tensor count"; fail=1; }
grep -q 'token_embd.weight *f32 *64 x 512' <<<"$out" || { echo "FAIL: tensor row"; fail=1; }
"$TEMOTO" info --json "$model" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] == 3 and len(d["tensors"]) == 48, d["version"]
assert d["metadata"]["general.architecture"] == "llama"
' || { echo "FAIL: --json"; fail=1; }
set +e
"$TEMOTO" info tests/gguf/hostile/tensors_overlap.gguf >/dev/null 2>/tmp/tm-info-err.$$
rc=$?
set -e
[[ $rc == 1 ]] && grep -q '^error: .*overlap' /tmp/tm-info-err.$$ || { echo "FAIL: hostile file (rc $rc)"; fail=1; }
rm -f /tmp/tm-info-err.$$
"$TEMOTO" info --help >/dev/null || { echo "FAIL: --help"; fail=1; }
exit $fail
