#!/usr/bin/env bash
# temoto synth: deterministic files that load and run, in every --type, with the recipe's
# tensor types; bad shapes are refused.
set -euo pipefail
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-synth.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
"$TEMOTO" synth --preset tiny --seed 5 -o "$tmp/a.gguf" 2>/dev/null
"$TEMOTO" synth --preset tiny --seed 5 -o "$tmp/b.gguf" -t 1 2>/dev/null
"$TEMOTO" synth --preset tiny --seed 6 -o "$tmp/c.gguf" 2>/dev/null
cmp -s "$tmp/a.gguf" "$tmp/b.gguf" || { echo "FAIL: same seed, different files"; fail=1; }
cmp -s "$tmp/a.gguf" "$tmp/c.gguf" && { echo "FAIL: different seeds, same file"; fail=1; }
grep -q 'llama.block_count *uint32: 2' <<<"$("$TEMOTO" info "$tmp/a.gguf")" || { echo "FAIL: info"; fail=1; }
# a bigger custom shape, so the K-quants (256-wide blocks) apply
for t in F16 Q8_0 Q4_0 Q4_K_M Q5_K_M Q6_K Q3_K_M Q2_K; do
    "$TEMOTO" synth --dim 256 --layers 2 --heads 4 --kv-heads 2 --ffn 512 --vocab 600 --type $t \
        -o "$tmp/$t.gguf" 2>/dev/null || { echo "FAIL: synth --type $t"; fail=1; continue; }
    "$TEMOTO" logits -m "$tmp/$t.gguf" --tokens 1,50,300,599 --out "$tmp/$t.f32" 2>/dev/null ||
        { echo "FAIL: logits on $t"; fail=1; continue; }
    python3 - "$tmp/$t.f32" <<'PY' || { echo "FAIL: $t logits"; fail=1; }
import math, struct, sys
b = open(sys.argv[1], 'rb').read()
v = struct.unpack('<%df' % (len(b) // 4), b)
assert len(v) == 4 * 600 and all(math.isfinite(x) for x in v) and max(map(abs, v)) > 0
PY
    out=$("$TEMOTO" run -m "$tmp/$t.gguf" -p "Once upon a time" -n 8 --seed 1 2>/dev/null) ||
        { echo "FAIL: run on $t"; fail=1; }
done
grep -q 'output.weight *q6_K' <<<"$("$TEMOTO" info "$tmp/Q4_K_M.gguf")" || { echo "FAIL: Q4_K_M recipe"; fail=1; }
set +e
"$TEMOTO" synth --dim 65 --layers 1 --heads 4 --ffn 8 --vocab 300 -o "$tmp/bad.gguf" 2>/dev/null
[[ $? == 1 && ! -e $tmp/bad.gguf ]] || { echo "FAIL: bad shape accepted"; fail=1; }
"$TEMOTO" synth --preset nope -o "$tmp/bad.gguf" 2>/dev/null; [[ $? == 2 ]] || { echo "FAIL: preset"; fail=1; }
"$TEMOTO" synth --preset tiny 2>/dev/null; [[ $? == 2 ]] || { echo "FAIL: no -o"; fail=1; }
set -e
[[ $fail == 0 ]] && echo "ok   synth"
exit $fail
