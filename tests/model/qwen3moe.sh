#!/usr/bin/env bash
# qwen3moe loads and routes: the synthetic Qwen3 model rewritten as a mixture of 4
# identical experts (2 used, renormalised, zero router) gives the dense model's logits,
# batched and one by one. The MoE arithmetic itself is checked against llama.cpp's logits
# on the qwen2moe and Mixtral goldens (test_golden_synthetic).
set -euo pipefail
shared=../shared
dense=$shared/models/synthetic/qwen3-f32.gguf
if [[ ! -f $dense ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $dense" >&2; exit 1; }
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-moe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 tools/gguf_dense_to_moe.py "$dense" "$tmp/moe.gguf" qwen3moe 4 2
info=$("$TEMOTO" info "$tmp/moe.gguf") # not piped into grep -q: an early exit is SIGPIPE
[[ $info =~ general.architecture\ *string:\ \"qwen3moe\" ]]
ids=1,17,200,33,450,8,91,300,12,77
"$TEMOTO" logits -m "$dense" --tokens $ids --out "$tmp/dense.f32" -t 2 2>/dev/null
"$TEMOTO" logits -m "$tmp/moe.gguf" --tokens $ids --out "$tmp/moe.f32" -t 2 2>/dev/null
"$TEMOTO" logits -m "$tmp/moe.gguf" --tokens $ids --out "$tmp/moe_dec.f32" --decode -t 2 2>/dev/null
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
def load(n):
    b = open(f"{d}/{n}", "rb").read()
    return struct.unpack(f"<{len(b)//4}f", b)
dense, moe, dec = load("dense.f32"), load("moe.f32"), load("moe_dec.f32")
a = max(abs(x - y) for x, y in zip(dense, moe))
b = max(abs(x - y) for x, y in zip(dense, dec))
print(f"qwen3moe (4 identical experts) vs qwen3: max |diff| batched {a:.2e}, one by one {b:.2e}")
sys.exit(0 if len(dense) == len(moe) and a < 1e-4 and b < 1e-4 else 1)
PY
