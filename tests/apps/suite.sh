#!/usr/bin/env bash
# temoto bench suite in-process: on a synthetic model with a long context (the latency
# classes, a long prompt, one that does not fit, the prefix cache on and off, P1 and P3; P2
# does not fit its context) and on stories260K (no chat template: raw prompts); the
# results.json contract and its numbers' sanity, report.md, the SVGs as XML, the replies and
# prompts on disk; bad usage exits 2, failures 1.
set -euo pipefail
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-suite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
# 2 layers of 64, 8192 positions: a 2048-token prompt takes a fraction of a second
"$TEMOTO" synth --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 192 --vocab 512 --ctx 8192 \
    -o "$tmp/m.gguf" 2>/dev/null
t0=$(date +%s.%N)
"$TEMOTO" bench suite -m "$tmp/m.gguf" --runs 2 --warmup 1 -t 2 --max-tokens 8 \
    --json-max-tokens 24 --long 2048,32768 --prefix-tokens 1024 -c 6144 --out "$tmp/out" \
    >"$tmp/stdout" 2>"$tmp/stderr" || { echo "FAIL: suite run"; cat "$tmp/stderr"; exit 1; }
t1=$(date +%s.%N)
echo "     suite on a synthetic model: $(python3 -c "print(round($t1 - $t0, 1))") s"
python3 - "$tmp/out" "$tmp/m.gguf" "$tmp/stdout" <<'PY' || fail=1
import hashlib, json, os, sys, xml.etree.ElementTree as ET
out, model, stdout = sys.argv[1:]
r = json.load(open(f"{out}/results.json"))
for k in ("schema", "mode", "run_log", "load_ms", "cold", "peak_rss_bytes", "classes",
          "prefix_cache", "json_tasks", "breakage_rate", "skipped"):
    assert k in r, k
assert r["schema"] == "temoto-bench-suite/1" and r["mode"] == "in-process"
log = r["run_log"]
m = log["model"]
assert m["sha256"] == hashlib.sha256(open(model, "rb").read()).hexdigest(), m
assert m["quant"] == "F32" and m["arch"] == "llama" and m["n_ctx_train"] == 8192
assert m["chat_template"] is False and m["bytes"] == os.path.getsize(model)
assert log["endpoint"] is None and log["threads"] == 2 and log["kernels"]
c = log["temoto"]["commit"]
assert c == "unknown" or (len(c) == 12 and all(ch in "0123456789abcdef" for ch in c)), c
assert log["machine"]["logical_cpus"] >= 1 and log["machine"]["ram_bytes"] > 0
cond = log["conditions"]
assert (cond["runs"], cond["warmup"], cond["max_tokens"], cond["json_max_tokens"]) == (2, 1, 8, 24)
assert (cond["temperature"], cond["top_p"], cond["seed"], cond["top_k"]) == (0.7, 0.9, 42, 0)
assert cond["long_tokens"] == [2048, 32768] and cond["kv_type"] == "f16"
assert 0 < cond["n_ctx"] <= 6144, cond["n_ctx"]
assert r["load_ms"] >= 0 and r["peak_rss_bytes"] > 0
assert r["cold"]["ttft_ms"] > 0 and r["cold"]["e2e_ms"] >= r["cold"]["ttft_ms"]

def sane(st, what):
    assert st["n"] >= 1 and st["min"] <= st["p50"] <= st["p95"] <= st["max"], (what, st)

names = [c["name"] for c in r["classes"]]
assert names == ["short", "long2k"], names
for c in r["classes"]:
    assert c["runs"] == 2 and len(c["samples"]) == 2
    for k in ("ttft_ms", "e2e_ms", "prompt_tps", "n_prompt", "n_gen"):
        sane(c[k], (c["name"], k))
    assert c["ttft_ms"]["p50"] <= c["e2e_ms"]["p50"]
    for s in c["samples"]:
        assert 0 < s["ttft_ms"] <= s["e2e_ms"] and s["n_prompt_exact"] and s["n_reused"] == 0
lk = r["classes"][1]
# long2k's prompt and its 8-token reply fill about 2048 positions (docs/bench.md)
want = 2048 - 8 - 32 - 2048 // 50
assert abs(lk["n_prompt"]["p50"] - want) <= want * 0.02, lk["n_prompt"]
assert r["classes"][0]["n_prompt"]["p50"] < lk["n_prompt"]["p50"]
skipped = {s["name"]: s["reason"] for s in r["skipped"]}
assert set(skipped) == {"long32k", "P2"}, skipped
assert "the context is 6144 (-c)" in skipped["long32k"] and "positions" in skipped["P2"]
p = r["prefix_cache"]
assert p["target_tokens"] == 1024 and p["on"]["runs"] == p["off"]["runs"] == 2
assert p["on"]["n_reused"]["min"] >= 0.85 * 1024 and p["off"]["n_reused"]["max"] == 0, p
assert 0 < p["ttft_on_over_off"] < 0.8, p["ttft_on_over_off"]
tasks = {t["id"]: t for t in r["json_tasks"]}
assert set(tasks) == {"P1", "P3"}, tasks.keys()
runs = broken = 0
for t in tasks.values():
    assert t["runs"] == 2 and len(t["attempts"]) == 2
    assert t["broken"] == sum(not a["valid"] for a in t["attempts"])
    assert t["runs"] - t["parsed"] == sum(not a["parsed"] for a in t["attempts"])
    for k in ("breakage_rate", "parse_failure_rate", "schema_failure_rate"):
        assert 0 <= t[k] <= 1, (k, t[k])
    assert abs(t["breakage_rate"] - t["broken"] / t["runs"]) < 1e-9
    assert abs(t["parse_failure_rate"] + t["schema_failure_rate"] - t["breakage_rate"]) < 1e-9
    for a in t["attempts"]:
        assert os.path.isfile(f"{out}/{a['output']}") and (a["valid"] or a["reason"])
    runs += t["runs"]
    broken += t["broken"]
assert abs(r["breakage_rate"] - broken / runs) < 1e-9
md = open(f"{out}/report.md", encoding="utf-8").read()
for s in ("# temoto bench suite", "## Latency", "## Prefix cache", "## JSON breakage",
          "## Skipped", "## Run log", "latency.svg", "tps.svg", "breakage.svg", m["sha256"]):
    assert s in md, s
for f in ("latency.svg", "tps.svg", "breakage.svg"):
    root = ET.parse(f"{out}/{f}").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
for f in ("short.txt", "P1.txt", "P2.txt", "P3.txt", "P1.schema.json"):
    assert os.path.getsize(f"{out}/tasks/{f}") > 100, f
json.load(open(f"{out}/tasks/P3.schema.json"))
so = open(stdout).read()
assert "P1 breakage rate" in so and "long32k skipped" in so, so
print("ok   suite in-process: results.json, report.md, charts, outputs")
PY
if command -v xmllint >/dev/null; then
    xmllint --noout "$tmp"/out/*.svg || { echo "FAIL: xmllint"; fail=1; }
fi

# stories260K has no chat template: the prompts go in raw; its vocabulary spells Japanese in
# bytes, so the short prompt needs -c beyond the trained 512
stories=../shared/models/stories260K-f32.v3.gguf
if [[ -f $stories ]]; then
    "$TEMOTO" bench suite -m "$stories" --runs 2 --warmup 0 -t 1 --max-tokens 4 \
        --json-max-tokens 8 --tasks short,p3 -c 2048 --out "$tmp/st" -q >/dev/null ||
        { echo "FAIL: suite on stories260K"; fail=1; }
    python3 - "$tmp/st/results.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["run_log"]["model"]["chat_template"] is False
assert [c["name"] for c in r["classes"]] == ["short"] and r["prefix_cache"] is None
assert [t["id"] for t in r["json_tasks"]] == ["P3"] and r["skipped"] == []
print("ok   suite on stories260K (raw prompts), breakage %.2f" % r["breakage_rate"])
PY
elif [[ ${TM_REQUIRE_SHARED:-0} == 1 ]]; then
    echo "missing $stories" >&2
    fail=1
fi

# a context too small for the short prompt: a failure that says so
set +e
"$TEMOTO" bench suite -m "$tmp/m.gguf" -c 256 --runs 1 -q --out "$tmp/small" >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc == 1 ]] && grep -q '^error: .*do not fit the context of 256' "$tmp/err" ||
    { echo "FAIL: small context: rc $rc"; cat "$tmp/err"; fail=1; }
"$TEMOTO" bench suite -m "$tmp/missing.gguf" --out "$tmp/x" -q >/dev/null 2>&1
[[ $? == 1 ]] || { echo "FAIL: missing model"; fail=1; }
"$TEMOTO" bench suite --help | grep -q -- '--endpoint URL' || { echo "FAIL: --help"; fail=1; }
for bad in "" "-m $tmp/m.gguf --endpoint http://127.0.0.1:1 --model x" "-m $tmp/m.gguf --runs 0" \
    "-m $tmp/m.gguf --tasks short,bogus" "-m $tmp/m.gguf --long 4096,5" "-m $tmp/m.gguf --model x" \
    "--endpoint http://127.0.0.1:1" "--endpoint ftp://127.0.0.1:1 --model x" \
    "-m $tmp/m.gguf --kv-type q5" "-m $tmp/m.gguf --api-key k" "-m $tmp/m.gguf --temp 3" \
    "-m $tmp/m.gguf --frobnicate"; do
    # shellcheck disable=SC2086
    "$TEMOTO" bench suite $bad >/dev/null 2>"$tmp/err"
    rc=$?
    [[ $rc == 2 ]] && grep -q '^error: ' "$tmp/err" || { echo "FAIL: suite $bad: rc $rc"; fail=1; }
done
set -e
[[ $fail == 0 ]] && echo "ok   suite usage and errors"
exit $fail
