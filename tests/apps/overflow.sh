#!/usr/bin/env bash
# Context limits (--overflow, --keep) in temoto run and temoto chat, and temoto info --memory:
# - a prompt longer than -c is an error naming both numbers, unless a policy says otherwise;
# - truncate-left runs, reports what it dropped and leaves room for generation;
# - shift generates past the context (-c 64 -n 200), the same text for the same seed, and
#   the same text on 1 and 2 threads; without it generation stops at a full context;
# - chat drops whole old turns (truncate-left, shift) and shifts inside a long reply;
# - info --memory prints the estimate; bad flag values are usage errors.
set -uo pipefail # no -e: every check reports, then the status says
shared=../shared
model=$shared/models/stories260K-f32.v3.gguf
chat_model=$shared/models/synthetic/llama-f32.gguf
for f in "$model" "$chat_model"; do
    if [[ ! -f $f ]]; then
        [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $f" >&2; exit 1; }
        echo "skipped: $f is missing" >&2
        exit 77
    fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-overflow.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME STATUS: the last check's result was as wanted
    if [[ $2 != 0 ]]; then
        echo "FAIL: $1" >&2
        fail=1
    else
        echo "ok   $1"
    fi
}
long=$(python3 -c 'print("Once upon a time there was a cat. " * 20)')
n_long=$("$TEMOTO" tokenize -m "$model" --ids --text "$long" | wc -w)

# 1. the default: an error with both numbers, exit 1, nothing on stdout
"$TEMOTO" run -m "$model" -p "$long" -c 64 -n 8 -t 2 >"$tmp/out.txt" 2>"$tmp/err.txt"
rc=$?
[[ $rc == 1 ]] && grep -q "^error: the prompt has $n_long tokens, the context holds 64$" \
    "$tmp/err.txt" && [[ ! -s $tmp/out.txt ]]
check "too long a prompt is an error naming $n_long and 64 (rc $rc: $(head -c 200 "$tmp/err.txt"))" $?

# 2. truncate-left: BOS and the prompt's end, room for -n 8: 64 - 8 = 56 tokens kept
"$TEMOTO" run -m "$model" -p "$long" -c 64 -n 8 -t 2 --temp 0 --overflow truncate-left \
    >"$tmp/out.txt" 2>"$tmp/err.txt"
rc=$?
[[ $rc == 0 && -s $tmp/out.txt ]] &&
    grep -q "^note: the prompt has $n_long tokens, the context holds 64: dropped $((n_long - 56)) tokens after the first 1, kept 56" "$tmp/err.txt" &&
    grep -q "^prompt: 56 tokens" "$tmp/err.txt"
check "truncate-left keeps 56 tokens and says it dropped $((n_long - 56))" $?
# a long -n reserves at most half the context
"$TEMOTO" run -m "$model" -p "$long" -c 64 -n 500 -t 2 --temp 0 --overflow truncate-left \
    --ignore-eos >/dev/null 2>"$tmp/err.txt"
grep -q "kept 32 " "$tmp/err.txt" && grep -q "generated: 33 tokens" "$tmp/err.txt" &&
    grep -q "^stopped: the context of 64 tokens is full" "$tmp/err.txt"
check "truncate-left reserves at most half the context, then stops when it is full" $?
# --keep 5 keeps the first five tokens
"$TEMOTO" run -m "$model" -p "$long" -c 64 -n 8 -t 2 --temp 0 --overflow truncate-left \
    --keep 5 >/dev/null 2>"$tmp/err.txt"
grep -q "after the first 5, kept 56" "$tmp/err.txt"
check "--keep 5" $?

# 3. error policy during generation: stops at a full context, says so, exit 0
"$TEMOTO" run -m "$model" -p "Once upon a time" -c 64 -n 200 -t 2 --temp 0 --ignore-eos \
    >/dev/null 2>"$tmp/err.txt"
rc=$?
[[ $rc == 0 ]] && grep -q "^stopped: the context of 64 tokens is full" "$tmp/err.txt" &&
    grep -q "generated: 60 tokens" "$tmp/err.txt"
check "without shift generation stops at the context's end" $?

# 4. shift: 200 tokens in a context of 64, deterministic, independent of the thread count
for run in a:2 b:2 c:1; do
    "$TEMOTO" run -m "$model" -p "Once upon a time" -c 64 -n 200 -t "${run#*:}" --temp 0.9 \
        --seed 7 --ignore-eos --overflow shift >"$tmp/shift-${run%:*}.txt" 2>"$tmp/err.txt"
    rc=$?
done
[[ $rc == 0 ]] && grep -q "generated: 200 tokens" "$tmp/err.txt" &&
    grep -q "^context shifts: [1-9]" "$tmp/err.txt"
check "shift generates 200 tokens in a context of 64" $?
[[ -s $tmp/shift-a.txt ]] && cmp -s "$tmp/shift-a.txt" "$tmp/shift-b.txt"
check "shift: the same seed gives the same text" $?
cmp -s "$tmp/shift-a.txt" "$tmp/shift-c.txt"
check "shift: the same text on 1 and 2 threads" $?
# a prompt too long for the context is cut as by truncate-left, then generation shifts
"$TEMOTO" run -m "$model" -p "$long" -c 64 -n 100 -t 2 --temp 0 --ignore-eos --overflow shift \
    >/dev/null 2>"$tmp/err.txt"
grep -q "kept 32 " "$tmp/err.txt" && grep -q "generated: 100 tokens" "$tmp/err.txt"
check "shift cuts a long prompt, then goes on" $?

# 5. chat: a conversation beyond the context
turns=$'hello there\nhow are you?\nand then?\nwhat next\n'
opts=(-m "$chat_model" --temp 0 -n 30 -c 96 -t 2)
printf '%s' "$turns" | "$TEMOTO" chat "${opts[@]}" >/dev/null 2>"$tmp/err.txt"
rc=$?
[[ $rc == 1 ]] && grep -q "error: the conversation has [0-9]* tokens, the context holds 96" \
    "$tmp/err.txt" && [[ $(grep -o "error:" "$tmp/err.txt" | wc -l) == 1 ]]
check "chat: too long a conversation is one error naming both numbers" $?
printf '%s' "$turns" | "$TEMOTO" chat "${opts[@]}" --overflow truncate-left >"$tmp/tl.txt" \
    2>"$tmp/err.txt"
rc=$?
[[ $rc == 0 && $(wc -l <"$tmp/tl.txt") == 4 ]] &&
    grep -q "^\[the conversation had [0-9]* tokens, the context holds 96: dropped the oldest" \
        "$tmp/err.txt"
check "chat: truncate-left drops the oldest turns and answers every message" $?
for i in 1 2; do
    printf '%s' "$turns" | "$TEMOTO" chat "${opts[@]}" -n 100 --overflow shift \
        >"$tmp/cs$i.txt" 2>"$tmp/err.txt"
    rc=$?
done
[[ $rc == 0 && $(wc -l <"$tmp/cs1.txt") == 4 ]] && grep -q "^\[context shift: dropped" "$tmp/err.txt" &&
    cmp -s "$tmp/cs1.txt" "$tmp/cs2.txt"
check "chat: shift inside replies, the same replies twice" $?
"$TEMOTO" chat "${opts[@]}" --overflow truncate-left --message "$(python3 -c 'print("word " * 200)')" \
    >/dev/null 2>"$tmp/err.txt"
rc=$?
[[ $rc == 1 ]] && grep -q "^error: the message makes a prompt of [0-9]* tokens on its own, the context holds 96" "$tmp/err.txt"
check "chat: a message too long on its own is an error even with truncate-left" $?

# 6. bad values are usage errors (exit 2)
"$TEMOTO" run -m "$model" -p x --overflow wrap 2>"$tmp/err.txt"
[[ $? == 2 ]] && grep -q "not a policy (error, truncate-left, shift)" "$tmp/err.txt"
check "--overflow wrap is a usage error" $?
"$TEMOTO" run -m "$model" -p x --keep -1 2>/dev/null
[[ $? == 2 ]]
check "--keep -1 is a usage error" $?
"$TEMOTO" chat -m "$chat_model" --overflow "" --message hi 2>/dev/null
[[ $? == 2 ]]
check "chat --overflow '' is a usage error" $?

# 7. info --memory: weights = the file's tensor bytes; KV = 5 layers x 100 positions (128 in
#    whole blocks of 32) x (4 kv heads x 8 x 2) x 4 bytes (f32), for each of 2 sequences
"$TEMOTO" info "$model" --json -c 100 --kv-type f32 --parallel 2 -t 1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = d["memory"]
assert m["weights_bytes"] == sum(t["bytes"] for t in d["tensors"]), m
assert m["kv_bytes"] == 2 * 5 * 128 * 4 * 8 * 2 * 4, m
assert m["n_ctx"] == 100 and m["n_batch"] == 100 and m["n_threads"] == 1 and m["n_parallel"] == 2
assert m["total_bytes"] == m["weights_bytes"] + m["kv_bytes"] + m["scratch_bytes"]
'
check "info --memory --json" $?
"$TEMOTO" info "$model" --memory -t 1 | grep -q "^  KV cache .* bytes"
check "info --memory (text)" $?
"$TEMOTO" info "$model" --parallel 0 >/dev/null 2>&1
[[ $? == 2 ]]
check "info --parallel 0 is a usage error" $?
exit $fail
