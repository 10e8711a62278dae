#!/usr/bin/env bash
# temoto tokenize: ids equal the llama2.c encoder's for the golden prompts (BOS included),
# --no-bos, the id<TAB>piece form, standard input, --special, and errors.
set -euo pipefail
shared=../shared
model=$shared/models/stories260K-f32.v3.gguf
if [[ ! -f $model ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $model" >&2; exit 1; }
    exit 77
fi
fail=0
want=$(sed -n 's/^prompt_ids: //p' "$shared/golden/stories260K/case2.ids.txt")
got=$("$TEMOTO" tokenize -m "$model" --text "Once upon a time" --ids)
[[ $got == "$want" ]] || { echo "FAIL: ids '$got' want '$want'"; fail=1; }
got=$("$TEMOTO" tokenize -m "$model" --text "Once upon a time" --ids --no-bos)
[[ $got == "${want#1 }" ]] || { echo "FAIL: --no-bos '$got'"; fail=1; }
got=$(printf 'Once upon a time' | "$TEMOTO" tokenize -m "$model" --ids)
[[ $got == "$want" ]] || { echo "FAIL: stdin '$got'"; fail=1; }
lines=$("$TEMOTO" tokenize -m "$model" --text "Once upon")
[[ $(head -1 <<<"$lines") == $'1\t<s>' && $(sed -n 2p <<<"$lines") == $'403\t Once' ]] ||
    { echo "FAIL: id<TAB>piece form:"; echo "$lines"; fail=1; }
got=$("$TEMOTO" tokenize -m "$model" --text "a</s>" --ids --no-bos --special)
[[ $got == *" 2" ]] || { echo "FAIL: --special '$got'"; fail=1; }
got=$("$TEMOTO" tokenize -m "$model" --text "a</s>" --ids --no-bos)
[[ $got != *" 2" ]] || { echo "FAIL: control token without --special '$got'"; fail=1; }
if [[ -f $shared/vocab/ggml-vocab-gpt-2.gguf ]]; then # byte-level BPE, a vocabulary-only file
    got=$("$TEMOTO" tokenize -m "$shared/vocab/ggml-vocab-gpt-2.gguf" --text "Hello world" --ids)
    [[ $got == "15496 995" ]] || { echo "FAIL: gpt-2 '$got'"; fail=1; }
fi
set +e
"$TEMOTO" tokenize --text x 2>/dev/null; [[ $? == 2 ]] || { echo "FAIL: no -m"; fail=1; }
got=$("$TEMOTO" tokenize -m "$shared/vocab/ggml-vocab-bert-bge.gguf" --text "Hello, world" --ids)
[[ $got == "101 7592 1010 2088 102" ]] || { echo "FAIL: WordPiece '$got'"; fail=1; }
rm -f /tmp/tm-tok-err.$$
set -e
[[ $fail == 0 ]] && echo "ok   tokenize"
exit $fail
