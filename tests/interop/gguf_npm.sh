#!/usr/bin/env bash
# Files temoto writes (quantize, synth, convert-llama2c) read identically in Hugging Face's
# independent GGUF parser (@huggingface/gguf, installed from npm into the build folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(pwd)
if ! command -v npm >/dev/null; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "npm is missing (tools/deps.sh installs it)" >&2; exit 1; }
    echo "skipped: npm is missing" >&2
    exit 77
fi
shared=../shared
[[ -f $shared/models/synthetic/llama-f32.gguf ]] || { [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && exit 1; exit 77; }
deps=${TM_BUILD_DIR:-/tmp}/interop-node
mkdir -p "$deps"
cp "$here/package.json" "$here/gguf_check.mjs" "$deps/"
if [[ ! -d $deps/node_modules/@huggingface/gguf ]]; then
    (cd "$deps" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-interop.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$TEMOTO" quantize "$shared/models/synthetic/llama-f32.gguf" "$tmp/q4_k_m.gguf" Q4_K_M 2>/dev/null
"$TEMOTO" quantize "$shared/models/synthetic/llama-f32.gguf" "$tmp/q8_0.gguf" Q8_0 2>/dev/null
"$TEMOTO" synth --preset tiny --type Q4_0 -o "$tmp/tiny.gguf" 2>/dev/null
"$TEMOTO" convert-llama2c "$shared/models/stories260K.bin" "$shared/models/tok512.bin" "$tmp/l2c.gguf" 2>/dev/null
cd "$deps"
node gguf_check.mjs "$TEMOTO" "$tmp/q4_k_m.gguf" "$tmp/q8_0.gguf" "$tmp/tiny.gguf" "$tmp/l2c.gguf" \
    "$root/$shared/models/synthetic/llama-q4_k_m.gguf"
