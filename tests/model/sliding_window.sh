#!/usr/bin/env bash
# Sliding-window attention on llama files that set llama.attention.sliding_window (Mistral):
# with one layer, the logits of the last of 20 tokens with a window of 8 equal the logits
# of the last token of those 8 tokens alone without a window (RoPE depends only on relative
# positions; what differs is rounding of the rotation angles), and the window does change
# the logits of the whole sequence.
set -euo pipefail
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-swa.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
shape=(--dim 64 --layers 1 --heads 4 --kv-heads 2 --ffn 128 --vocab 300 --ctx 64 --seed 7)
"$TEMOTO" synth "${shape[@]}" --sliding-window 8 -o "$tmp/swa.gguf" 2>/dev/null
"$TEMOTO" synth "${shape[@]}" -o "$tmp/full.gguf" 2>/dev/null
ids=(11 42 7 99 250 3 18 77 5 123 64 201 9 33 180 2 71 140 56 288)
all=$(IFS=,; echo "${ids[*]}")
last8=$(IFS=,; echo "${ids[*]:12:8}")
"$TEMOTO" logits -m "$tmp/swa.gguf" --tokens "$all" --out "$tmp/swa_all.f32" --kv-type f32 -t 1 2>/dev/null
"$TEMOTO" logits -m "$tmp/swa.gguf" --tokens "$all" --out "$tmp/swa_dec.f32" --decode --kv-type f32 -t 1 2>/dev/null
"$TEMOTO" logits -m "$tmp/full.gguf" --tokens "$last8" --out "$tmp/full_8.f32" --kv-type f32 -t 1 2>/dev/null
"$TEMOTO" logits -m "$tmp/full.gguf" --tokens "$all" --out "$tmp/full_all.f32" --kv-type f32 -t 1 2>/dev/null
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
def rows(name):
    b = open(f"{d}/{name}", "rb").read()
    v = struct.unpack(f"<{len(b)//4}f", b)
    return [v[i:i + 300] for i in range(0, len(v), 300)]
swa, dec, full8, full = rows("swa_all.f32"), rows("swa_dec.f32"), rows("full_8.f32"), rows("full_all.f32")
diff = lambda a, b: max(abs(x - y) for x, y in zip(a, b))
same_window = diff(swa[-1], full8[-1])
batch_vs_decode = max(diff(a, b) for a, b in zip(swa, dec))
inside = max(diff(swa[i], full[i]) for i in range(8))
changed = diff(swa[-1], full[-1])
print(f"window of 8 vs the last 8 tokens alone: max |diff| {same_window:.2e}; "
      f"batched vs one by one {batch_vs_decode:.2e}; first 8 positions vs no window "
      f"{inside:.2e}; last position vs no window {changed:.3f}")
ok = same_window < 1e-4 and batch_vs_decode < 1e-4 and inside < 1e-5 and changed > 1e-3
sys.exit(0 if ok else 1)
PY
