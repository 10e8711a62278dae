#!/usr/bin/env bash
# Files temoto writes (quantize, synth, convert-llama2c) read identically in Hugging Face's
# independent GGUF parser (@huggingface/gguf, installed from npm into the build folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(pwd)
shared=../shared
[[ -f $shared/models/synthetic/llama-f32.gguf ]] || { [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && exit 1; exit 77; }
source "$here/npm_deps.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-interop.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$TEMOTO" quantize "$shared/models/synthetic/llama-f32.gguf" "$tmp/q4_k_m.gguf" Q4_K_M 2>/dev/null
"$TEMOTO" quantize "$shared/models/synthetic/llama-f32.gguf" "$tmp/q8_0.gguf" Q8_0 2>/dev/null
"$TEMOTO" synth --preset tiny --type Q4_0 -o "$tmp/tiny.gguf" 2>/dev/null
"$TEMOTO" convert-llama2c "$shared/models/stories260K.bin" "$shared/models/tok512.bin" "$tmp/l2c.gguf" 2>/dev/null
cd "$deps"
node gguf_check.mjs "$TEMOTO" "$tmp/q4_k_m.gguf" "$tmp/q8_0.gguf" "$tmp/tiny.gguf" "$tmp/l2c.gguf" \
    "$root/$shared/models/synthetic/llama-q4_k_m.gguf"
