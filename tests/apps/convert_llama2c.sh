#!/usr/bin/env bash
# temoto convert-llama2c: both llama2.c checkpoint layouts of stories260K convert to GGUF
# files whose logits are bit-identical to the reference GGUF's and whose greedy stories equal
# llama2.c run.c's; broken inputs are clear errors and leave no output behind.
set -euo pipefail
shared=../shared
golden=$shared/golden/stories260K
if [[ ! -f $shared/models/stories260K.bin ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing shared models" >&2; exit 1; }
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-l2c.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
# every id of golden case 4 (byte-fallback tokens included): prompt and run.c's continuation
ids=$(sed -n 's/^[a-z_]*ids: //p' "$golden/case4.ids.txt" | tr -s ' \n' ',' | sed 's/,$//')
"$TEMOTO" logits -m "$shared/models/stories260K-f32.v3.gguf" --tokens "$ids" --out "$tmp/ref.f32" 2>/dev/null
for ckpt in stories260K.bin stories260K.v1.bin; do
    "$TEMOTO" convert-llama2c "$shared/models/$ckpt" "$shared/models/tok512.bin" "$tmp/m.gguf" 2>/dev/null
    "$TEMOTO" logits -m "$tmp/m.gguf" --tokens "$ids" --out "$tmp/m.f32" 2>/dev/null
    cmp -s "$tmp/m.f32" "$tmp/ref.f32" && echo "ok   $ckpt: logits identical to the GGUF reference" ||
        { echo "FAIL $ckpt: logits differ"; fail=1; }
    for c in 1 2 3; do
        n_prompt=$(sed -n 's/^prompt_ids: //p' "$golden/case$c.ids.txt" | wc -w)
        "$TEMOTO" run -m "$tmp/m.gguf" -p "$(cat "$golden/case$c.prompt.txt")" -n $((201 - n_prompt)) \
            --temp 0 >"$tmp/out.txt" 2>/dev/null
        prompt_bytes=$(wc -c <"$golden/case$c.prompt.txt")
        tail -c +$((prompt_bytes + 1)) "$golden/case$c.output.txt" >"$tmp/want.txt"
        cmp -s "$tmp/out.txt" "$tmp/want.txt" || { echo "FAIL $ckpt case $c: story differs"; fail=1; }
    done
done
# hostile inputs: truncated checkpoint, wrong tokenizer, garbage header
head -c 100000 "$shared/models/stories260K.bin" >"$tmp/short.bin"
head -c 3000 "$shared/models/tok512.bin" >"$tmp/short_tok.bin"
printf 'not a checkpoint at all, just text' >"$tmp/junk.bin"
set +e
for args in "$tmp/short.bin $shared/models/tok512.bin" "$shared/models/stories260K.bin $tmp/short_tok.bin" \
    "$tmp/junk.bin $shared/models/tok512.bin" "$shared/models/stories260K.bin $shared/vocab/llama2c/tokenizer.bin"; do
    # shellcheck disable=SC2086
    "$TEMOTO" convert-llama2c $args "$tmp/bad.gguf" 2>"$tmp/err.txt"
    rc=$?
    if [[ $rc != 1 ]] || ! grep -q '^error:' "$tmp/err.txt" || [[ -e $tmp/bad.gguf ]]; then
        echo "FAIL: convert-llama2c $args: rc $rc"; cat "$tmp/err.txt"; fail=1
    fi
done
"$TEMOTO" convert-llama2c only-one-arg 2>/dev/null; [[ $? == 2 ]] || { echo "FAIL: usage"; fail=1; }
set -e
exit $fail
