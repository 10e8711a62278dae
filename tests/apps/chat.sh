#!/usr/bin/env bash
# temoto chat on the synthetic models (random weights: the text is noise, but greedy
# decoding makes it a deterministic function of the prompt):
# - the prompt it evaluates is the model's template rendered and tokenized (checked against
#   `temoto template | temoto tokenize --special`);
# - a reply in a piped conversation equals the --message reply for the same history, and
#   reusing the held prefix gives the same replies as evaluating every prompt afresh;
# - /clear, /system, /settings, Ctrl-C during a reply, and the errors behave as documented.
set -uo pipefail # no -e: every check reports, then the status says
shared=../shared
model=$shared/models/synthetic/llama-f32.gguf
if [[ ! -f $model ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $model" >&2; exit 1; }
    echo "skipped: $model is missing" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-chat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME: the last command's result was as wanted
    if [[ $2 != 0 ]]; then
        echo "FAIL: $1" >&2
        fail=1
    fi
}
opts=(--temp 0 -n 12 -t 2)

# 1. the prompt is the rendered template, tokenized with special tokens (and BOS in front)
for m in llama-f32 llama3-f32 gemma3-f32 phi3-f32 qwen2-f32; do
    f=$shared/models/synthetic/$m.gguf
    "$TEMOTO" chat -m "$f" --system "あなたは秘書です。" --message "明日の予定は？" "${opts[@]}" -v \
        >"$tmp/reply.txt" 2>"$tmp/err.txt"
    got=$(sed -n 's/^\[prompt ids: \(.*\)\]$/\1/p' "$tmp/err.txt")
    printf '{"messages": [{"role": "system", "content": "あなたは秘書です。"}, {"role": "user", "content": "明日の予定は？"}], "add_generation_prompt": true}' |
        "$TEMOTO" template -m "$f" >"$tmp/prompt.txt" 2>"$tmp/terr.txt" || true
    if [[ -s $tmp/terr.txt ]]; then # the template refuses a system message: so must chat
        grep -q "raise_exception" "$tmp/err.txt"
        check "$m: template error passed on" $?
        continue
    fi
    want=$("$TEMOTO" tokenize -m "$f" --special --no-bos --ids <"$tmp/prompt.txt")
    # BOS is prepended when the vocabulary asks for it and the template did not write it
    [[ $got == "$want" || $got == "$(sed -n 's/.*bos_token_id *uint32: //p' <("$TEMOTO" info "$f")) $want" ]]
    check "$m: prompt ids" $?
    [[ -s $tmp/reply.txt ]]
    check "$m: a reply" $?
done

# 2. piped conversation = --message for turn 1; prefix reuse = fresh evaluation
"$TEMOTO" chat -m "$model" --message "hello" "${opts[@]}" >"$tmp/one.txt" 2>/dev/null
printf 'hello\nhow are you?\nand then?\n' | "$TEMOTO" chat -m "$model" "${opts[@]}" -v \
    >"$tmp/reuse.txt" 2>"$tmp/reuse.err"
printf 'hello\nhow are you?\nand then?\n' | "$TEMOTO" chat -m "$model" "${opts[@]}" \
    --no-prefix-reuse >"$tmp/fresh.txt" 2>/dev/null
cmp -s <(head -n 1 "$tmp/reuse.txt") "$tmp/one.txt"
check "turn 1 equals --message" $?
cmp -s "$tmp/reuse.txt" "$tmp/fresh.txt"
check "prefix reuse gives the same replies" $?
grep -q "reused" "$tmp/reuse.err" && ! grep -q "prompt: [0-9]* tokens, 0 reused" <(sed -n '2,$p' <(grep "prompt:" "$tmp/reuse.err"))
check "later turns reuse the held prefix" $?

# 3. commands: /clear makes the next reply equal the first; /system changes the prompt
printf 'hello\n/clear\nhello\n/settings\n/system be brief\nhello\n/nope\n' |
    "$TEMOTO" chat -m "$model" "${opts[@]}" >"$tmp/cmd.txt" 2>"$tmp/cmd.err"
[[ $(sed -n 1p "$tmp/cmd.txt") == "$(sed -n 2p "$tmp/cmd.txt")" ]]
check "/clear starts over" $?
grep -q "^sampling: temp 0" "$tmp/cmd.err" && grep -q "system message set" "$tmp/cmd.err" &&
    grep -q "^commands:" "$tmp/cmd.err"
check "/settings, /system, unknown command" $?

# 4. Ctrl-C stops a long reply; the chat goes on to the next line and ends normally
mkfifo "$tmp/in"
"$TEMOTO" chat -m "$model" --temp 0 -n 100000 -c 512 -t 1 <"$tmp/in" >"$tmp/int.txt" \
    2>"$tmp/int.err" &
pid=$!
exec 3>"$tmp/in"
echo "tell me a long story" >&3
for _ in $(seq 500); do # Ctrl-C once the reply streams
    [[ -s $tmp/int.txt ]] && break
    sleep 0.01
done
kill -INT "$pid"
echo "/settings" >&3
exec 3>&-
wait "$pid"
check "exit status after Ctrl-C" $?
grep -q "\[stopped\]" "$tmp/int.err" && grep -q "^sampling:" "$tmp/int.err"
check "Ctrl-C stopped the reply and the chat went on" $?

# 5. errors: no template, a bad --template, a conversation longer than the context
if "$TEMOTO" chat -m "$shared/models/stories260K-f32.v3.gguf" --message hi 2>"$tmp/e1.txt"; then
    check "no template is an error" 1
fi
grep -q "has no chat template" "$tmp/e1.txt"
check "no template message" $?
printf '{%% for m in messages %%}{{ m.content }}{%% endfor %%}' >"$tmp/t.jinja"
"$TEMOTO" chat -m "$shared/models/stories260K-f32.v3.gguf" --template "$tmp/t.jinja" \
    --message "Once upon a time" --temp 0 -n 8 >"$tmp/story.txt" 2>/dev/null
check "--template on a model without one" $?
printf '{%% if %%}' >"$tmp/bad.jinja"
if "$TEMOTO" chat -m "$model" --template "$tmp/bad.jinja" --message hi 2>"$tmp/e2.txt"; then
    check "bad template is an error" 1
fi
grep -q "line 1" "$tmp/e2.txt"
check "bad template message names the line" $?
long=$(python3 -c 'print("word " * 600)')
if "$TEMOTO" chat -m "$model" --message "$long" -c 128 2>"$tmp/e3.txt" >/dev/null; then
    check "too long is an error" 1
fi
grep -q "the context holds 128" "$tmp/e3.txt"
check "too long message" $?

# --prompt-cache: the second chat restores the system message's part of the first prompt and
# replies as a chat without the cache does
sys_msg="You are a careful secretary. Answer in one short sentence, and list dates as YYYY-MM-DD."
"$TEMOTO" chat -m "$model" --system "$sys_msg" --message "first question" "${opts[@]}" \
    --prompt-cache "$tmp/chat.kv" >/dev/null 2>&1
[[ -s $tmp/chat.kv ]]
check "chat --prompt-cache writes the file" $?
"$TEMOTO" chat -m "$model" --system "$sys_msg" --message "another question" "${opts[@]}" -v \
    --prompt-cache "$tmp/chat.kv" >"$tmp/pc1.txt" 2>"$tmp/pc1.err"
"$TEMOTO" chat -m "$model" --system "$sys_msg" --message "another question" "${opts[@]}" \
    >"$tmp/pc2.txt" 2>/dev/null
grep -q "prompt cache: [0-9]* tokens restored" "$tmp/pc1.err" &&
    ! grep -q "prompt: [0-9]* tokens, 0 reused" "$tmp/pc1.err" && cmp -s "$tmp/pc1.txt" "$tmp/pc2.txt"
check "chat --prompt-cache restores the system message, same reply" $?
exit $fail
