#!/usr/bin/env bash
# The KV cache from the command line:
# - --prompt-cache: the first run writes the file, the second restores all but the prompt's
#   last token and prints the same greedy text; a longer prompt restores the shared part;
#   a file of other KV types or a damaged one is a warning, the run goes on from scratch;
# - --kv-type-k/--kv-type-v, --kv-mem and --no-prefix-cache are accepted, bad values are
#   usage errors, a budget below one block is an error;
# - bench --prefix-test: the JSON test "prefix<N>" with ttft_cold_ms, ttft_warm_ms and the
#   prefix reused (all of it); with --no-prefix-cache nothing is reused;
# - info --memory --kv-mem: the KV figure is the budget's whole blocks.
set -uo pipefail # no -e: every check reports, then the status says
shared=../shared
model=$shared/models/stories260K-f32.v3.gguf
if [[ ! -f $model ]]; then
    [[ ${TM_REQUIRE_SHARED:-0} == 1 ]] && { echo "missing $model" >&2; exit 1; }
    echo "skipped: $model is missing" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-kv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TM_MEMBW_GBS=20
fail=0
check() { # check NAME STATUS
    if [[ $2 != 0 ]]; then
        echo "FAIL: $1" >&2
        fail=1
    else
        echo "ok   $1"
    fi
}
prompt="Once upon a time there was a little girl named Lily who loved to play in the park"
pc=$tmp/prompt.kv

# 1. --prompt-cache
"$TEMOTO" run -m "$model" -p "$prompt" -n 12 --temp 0 --prompt-cache "$pc" >"$tmp/a.txt" 2>"$tmp/a.err"
[[ -s $pc ]] && grep -q "saved .* positions" "$tmp/a.err"
check "first run writes the prompt cache" $?
"$TEMOTO" run -m "$model" -p "$prompt" -n 12 --temp 0 --prompt-cache "$pc" >"$tmp/b.txt" 2>"$tmp/b.err"
n=$(grep -o "^prompt: [0-9]* tokens" "$tmp/b.err" | grep -o "[0-9]*")
grep -q "restored from" "$tmp/b.err" && [[ $n == 1 ]] && cmp -s "$tmp/a.txt" "$tmp/b.txt"
check "second run restores all but the last token, same text" $?
"$TEMOTO" run -m "$model" -p "$prompt with her dog" -n 4 --temp 0 --prompt-cache "$pc" \
    >/dev/null 2>"$tmp/c.err"
grep -q "saved .* positions" "$tmp/c.err" && [[ $(grep -o "^prompt: [0-9]* tokens" "$tmp/c.err" | grep -o "[0-9]*") -le 5 ]]
check "a longer prompt restores the shared start" $?
"$TEMOTO" run -m "$model" -p "$prompt" -n 4 --temp 0 --kv-type f32 --prompt-cache "$pc" \
    >/dev/null 2>"$tmp/d.err"
[[ $? == 0 ]] && grep -q "warning: prompt cache not used: .* holds f16 keys" "$tmp/d.err"
check "other KV types: a warning, the run goes on" $?
head -c 200 "$pc" >"$tmp/cut.kv"
"$TEMOTO" run -m "$model" -p "$prompt" -n 4 --temp 0 --kv-type f32 --prompt-cache "$tmp/cut.kv" \
    >/dev/null 2>"$tmp/e.err"
[[ $? == 0 ]] && grep -q "warning: prompt cache not used: .* truncated" "$tmp/e.err"
check "a truncated prompt cache: a warning, the run goes on" $?

# 2. KV flags
"$TEMOTO" run -m "$model" -p "$prompt" -n 4 --temp 0 --kv-type-k f32 --kv-type-v f16 --kv-mem 1M \
    --no-prefix-cache >/dev/null 2>&1
check "--kv-type-k/-v, --kv-mem, --no-prefix-cache" $?
"$TEMOTO" run -m "$model" -p "$prompt" --kv-mem lots 2>/dev/null
[[ $? == 2 ]]
check "--kv-mem lots is a usage error" $?
"$TEMOTO" run -m "$model" -p "$prompt" --kv-type-v q5 2>/dev/null
[[ $? == 2 ]]
check "--kv-type-v q5 is a usage error" $?
"$TEMOTO" run -m "$model" -p "$prompt" --kv-mem 100 2>"$tmp/f.err"
[[ $? == 1 ]] && grep -q "holds no block" "$tmp/f.err"
check "a budget below one block is an error" $?
"$TEMOTO" run -m "$model" -p "$prompt" --kv-mem 40k -n 100 --ignore-eos 2>"$tmp/g.err" >/dev/null
[[ $? == 1 ]] && grep -q "KV cache is full: 2 blocks" "$tmp/g.err"
check "generation beyond the budget (2 blocks): the cache is full" $?

# 3. bench --prefix-test
"$TEMOTO" bench -m "$model" --prefix-test 200 -r 3 -t 2 --json >"$tmp/p.json"
python3 - "$tmp/p.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [t["name"] for t in d["tests"]]
assert names == ["prefix200"], names
t = d["tests"][0]
assert t["n_prompt"] == 220 and t["reused_tokens"] == 200, t
# times only positive: which is faster is the machine's to say (the work is reused_tokens)
assert t["ttft_warm_ms"] > 0 and t["ttft_cold_ms"] > 0, t
assert abs(t["warm_over_cold"] - t["ttft_warm_ms"] / t["ttft_cold_ms"]) < 1e-3, t
PY
check "bench --prefix-test --json" $?
"$TEMOTO" bench -m "$model" --prefix-test 100 -r 1 --no-prefix-cache --json | python3 -c '
import json, sys
t = json.load(sys.stdin)["tests"][0]
assert t["reused_tokens"] == 0, t'
check "bench --prefix-test --no-prefix-cache reuses nothing" $?
out=$("$TEMOTO" bench -m "$model" --prefix-test 64 -r 1 -n 4)
grep -q "^tg4 " <<<"$out" && grep -q "^prefix64: time to first token, cold" <<<"$out"
check "bench --prefix-test with -n runs both" $?

# 4. info --memory with a budget: 5 layers x (4 kv heads x 8 values, keys and values) x 2 bytes
#    (f16) x 32 positions = 20480 bytes a block; 1M holds 51 of them
"$TEMOTO" info "$model" --json --kv-mem 1M -t 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)["memory"]
assert m["kv_bytes"] == 51 * 20480, m'
check "info --memory --kv-mem" $?
exit $fail
