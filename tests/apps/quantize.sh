#!/usr/bin/env bash
# temoto quantize on the synthetic llama model: each recipe gives exactly the per-tensor
# types of the llama.cpp-quantized file in ../shared, and the logits error against the F32
# golden is no worse than llama.cpp's own file of that type (within 25%).
set -euo pipefail
shared=../shared
src=$shared/models/synthetic/llama-f32.gguf
if [[ ! -f $src ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $src" >&2; exit 1; }
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-quant.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tokens=$(python3 -c "import json; print(','.join(map(str, json.load(open('$shared/golden/synthetic/llama-f32.json'))['token_ids'])))")
types() { "$TEMOTO" info --json "$1" | python3 -c '
import json, sys
print("\n".join(sorted(t["name"] + " " + t["type"] for t in json.load(sys.stdin)["tensors"])))'; }
fail=0
for q in Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K; do
    lq=${q,,}
    "$TEMOTO" quantize "$src" "$tmp/$lq.gguf" "$q" -t 2 2>"$tmp/log" || { cat "$tmp/log"; fail=1; continue; }
    if ! diff <(types "$tmp/$lq.gguf") <(types "$shared/models/synthetic/llama-$lq.gguf") >"$tmp/diff"; then
        echo "FAIL $q: tensor types differ from llama.cpp's file"; cat "$tmp/diff"; fail=1
    fi
    "$TEMOTO" logits -m "$tmp/$lq.gguf" --tokens "$tokens" --out "$tmp/ours.f32" 2>/dev/null
    "$TEMOTO" logits -m "$shared/models/synthetic/llama-$lq.gguf" --tokens "$tokens" --out "$tmp/theirs.f32" 2>/dev/null
    python3 - "$q" "$tmp/ours.f32" "$tmp/theirs.f32" "$shared/golden/synthetic/llama-f32.f32" <<'PY' || fail=1
import struct, sys
def load(p):
    b = open(p, 'rb').read()
    return struct.unpack('<%df' % (len(b) // 4), b)
q, ours, theirs, ref = sys.argv[1], load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
assert len(ours) == len(ref) == len(theirs)
def err(x):
    return sum(abs(a - b) for a, b in zip(x, ref)) / len(ref)
e_ours, e_theirs = err(ours), err(theirs)
ok = e_ours <= 1.25 * e_theirs + 1e-4
print(f"{'ok  ' if ok else 'FAIL'} {q:7s} mean |logit - f32| ours {e_ours:.5f}, llama.cpp's file {e_theirs:.5f}")
sys.exit(0 if ok else 1)
PY
done
# bad usage and bad input
set +e
"$TEMOTO" quantize "$src" "$tmp/x.gguf" Q9_9 2>/dev/null; [[ $? == 2 ]] || { echo "FAIL: unknown type"; fail=1; }
"$TEMOTO" quantize "$tmp/missing.gguf" "$tmp/x.gguf" Q4_0 2>/dev/null; [[ $? == 1 ]] || { echo "FAIL: missing input"; fail=1; }
"$TEMOTO" quantize tests/gguf/hostile/tensors_overlap.gguf "$tmp/x.gguf" Q4_0 2>/dev/null
[[ $? == 1 ]] || { echo "FAIL: hostile input"; fail=1; }
[[ ! -e $tmp/x.gguf ]] || { echo "FAIL: output left behind after an error"; fail=1; }
set -e
exit $fail
