#!/usr/bin/env bash
# temoto bench suite --endpoint against tests/apps/openai_stub.py on 127.0.0.1 (a free port):
# the request carries the fixed conditions and the API key; the breakage rates the suite
# computes from the stub's fixed replies are exact (P1 alternates valid and broken: 0.5; P2
# valid: 0; P3 fails its schema: 1); a prompt the server refuses as too long is skipped with
# the server's message; replies without usage are counted by chunks; and every bad server
# (nothing listening, HTTP 500, an HTML page, garbage, a cut-off stream, an endless line) is a
# clear error with exit 1.
set -euo pipefail
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-suite-ep.XXXXXX")
stub_pid=""
cleanup() {
    [[ -n $stub_pid ]] && kill "$stub_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v python3 >/dev/null || { echo "skipped: python3 is missing"; exit 77; }

# a port nothing listens on (bound, then released)
free_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
set +e
"$TEMOTO" bench suite --endpoint "http://127.0.0.1:$free_port" --model ok --runs 1 -q \
    --out "$tmp/none" >/dev/null 2>"$tmp/err"
rc=$?
set -e
if grep -q 'built without libcurl' "$tmp/err"; then
    echo "skipped: $(cat "$tmp/err")"
    exit 77
fi
fail=0
[[ $rc == 1 ]] && grep -q "^error: request cold: http://127.0.0.1:$free_port/v1/chat/completions: .*onnect" "$tmp/err" ||
    { echo "FAIL: nothing listening: rc $rc"; cat "$tmp/err"; fail=1; }

python3 "$here/openai_stub.py" --port-file "$tmp/port" --log "$tmp/requests.jsonl" --ctx 5000 \
    --lifetime 120 &
stub_pid=$!
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.05; done
port=$(cat "$tmp/port")
url="http://127.0.0.1:$port"

"$TEMOTO" bench suite --endpoint "$url" --model ok --api-key sekret --runs 2 --warmup 1 \
    --long 1024,8192 --prefix-tokens 512 --max-tokens 16 --json-max-tokens 200 --seed 7 \
    --out "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr" ||
    { echo "FAIL: suite against the stub"; cat "$tmp/stderr"; exit 1; }
python3 - "$tmp/out" "$tmp/requests.jsonl" "$url" <<'PY' || fail=1
import json, sys, xml.etree.ElementTree as ET
out, reqs, url = sys.argv[1:]
r = json.load(open(f"{out}/results.json"))
assert r["mode"] == "endpoint" and r["run_log"]["model"] is None
assert r["run_log"]["endpoint"] == {"url": url, "model": "ok"}
assert r["load_ms"] is None and r["peak_rss_bytes"] is None and r["run_log"]["threads"] is None
c = r["run_log"]["conditions"]
assert c["top_k"] is None and c["seed"] == 7 and c["timeout_s"] == 600
tasks = {t["id"]: t for t in r["json_tasks"]}
assert tasks["P1"]["breakage_rate"] == 0.5 and tasks["P1"]["parse_failure_rate"] == 0.5, tasks["P1"]
assert tasks["P2"]["breakage_rate"] == 0.0 and tasks["P2"]["valid"] == 2, tasks["P2"]
assert tasks["P3"]["breakage_rate"] == 1.0 and tasks["P3"]["schema_failure_rate"] == 1.0
assert "$.start_time" in tasks["P3"]["attempts"][0]["reason"]
assert [a["valid"] for a in tasks["P1"]["attempts"]] == [True, False]
assert r["breakage_rate"] == 0.5  # 3 of 6
names = [c["name"] for c in r["classes"]]
assert names == ["short", "long1k"], names
for cl in r["classes"]:
    for k in ("ttft_ms", "e2e_ms"):
        s = cl[k]
        assert s["min"] <= s["p50"] <= s["p95"] <= s["max"], s
    for s in cl["samples"]:
        assert s["n_prompt_exact"] and s["n_gen_exact"] and 0 < s["ttft_ms"] <= s["e2e_ms"]
# the stub counts 3 bytes a token, as its usage says: the long prompt is sized to it
want = 1024 - 16 - 32 - 1024 // 50  # long1k fills 1024 positions with its reply
assert abs(r["classes"][1]["n_prompt"]["p50"] - want) <= want * 0.05, r["classes"][1]["n_prompt"]
skipped = {s["name"]: s["reason"] for s in r["skipped"]}
assert list(skipped) == ["long8k"] and "HTTP 400: the request exceeds the available context" in skipped["long8k"], skipped
assert r["prefix_cache"]["on"]["runs"] == 2 and r["prefix_cache"]["off"]["runs"] == 2
log = [json.loads(l) for l in open(reqs, encoding="utf-8")]
assert all(q["path"] == "/v1/chat/completions" and q["authorization"] == "Bearer sekret" for q in log)
b = log[0]["body"]
assert b["stream"] is True and b["stream_options"] == {"include_usage": True}
assert (b["model"], b["max_tokens"], b["temperature"], b["top_p"], b["seed"]) == ("ok", 16, 0.7, 0.9, 7), b
assert b["messages"][0]["role"] == "user" and b["messages"][0]["content"].startswith("ID: cold\n\n")
p1 = [q["body"] for q in log if q["body"]["messages"][0]["content"].startswith("ID: P1-")]
assert [q["seed"] for q in p1] == [7, 8] and all(q["max_tokens"] == 200 for q in p1)
# the prefix test: "on" requests share their start, "off" ones begin with their own ID
on = [q["body"]["messages"][0]["content"] for q in log if not q["body"]["messages"][0]["content"].startswith("ID: ")]
import os.path
on = on[1:]  # the first is the calibration request (4 KiB of the document)
common = os.path.commonprefix(on)
assert len(on) == 3 and len(common) >= 0.8 * min(map(len, on)), (len(on), len(common))
for f in ("latency.svg", "tps.svg", "breakage.svg"):
    ET.parse(f"{out}/{f}")
md = open(f"{out}/report.md", encoding="utf-8").read()
assert "Mode: **endpoint**" in md and "| P1 task extraction from a memo | 2 | 1 | 0 | **0.50** |" in md, md
print("ok   suite --endpoint: conditions sent, breakage 0.5 / 0 / 1 exact, long8k skipped")
PY

# without usage: the reply's tokens are its content chunks, the prompt's unknown
"$TEMOTO" bench suite --endpoint "$url/v1" --model nousage --runs 2 --warmup 0 --tasks short,p3 \
    --out "$tmp/nousage" -q >/dev/null || { echo "FAIL: nousage"; fail=1; }
python3 - "$tmp/nousage/results.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
s = r["classes"][0]["samples"][0]
assert s["n_prompt"] is None and not s["n_prompt_exact"] and not s["n_gen_exact"] and s["n_gen"] > 0, s
assert r["json_tasks"][0]["breakage_rate"] == 1.0
print("ok   suite --endpoint without usage")
PY

set +e
check_error() { # model, expected message
    "$TEMOTO" bench suite --endpoint "$url" --model "$1" --runs 1 -q --out "$tmp/$1" \
        >/dev/null 2>"$tmp/err"
    local rc=$?
    [[ $rc == 1 ]] && grep -q "^error: .*$2" "$tmp/err" ||
        { echo "FAIL: $1: rc $rc"; cat "$tmp/err"; fail=1; }
}
check_error http500 "answered HTTP 500: the stub is broken on purpose"
check_error html "Content-Type text/html.*no server-sent events"
check_error garbage "event 1 is not JSON"
check_error truncated "without a finish_reason or \[DONE\] (cut off?)"
check_error huge "longer than 1048576 bytes"
"$TEMOTO" bench suite --endpoint "$url/v1/chat/completions" --model ok --runs 1 --timeout 0 \
    >/dev/null 2>&1
[[ $? == 2 ]] || { echo "FAIL: --timeout 0"; fail=1; }
set -e
[[ $fail == 0 ]] && echo "ok   suite --endpoint errors: refused, HTTP 500, HTML, garbage, cut off, endless"
exit $fail
