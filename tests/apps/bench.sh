#!/usr/bin/env bash
# temoto bench: the text table and the --json contract (keys, names, numbers) on a small
# synthetic model; first with the bandwidth given by TM_MEMBW_GBS, then measured (a read of
# the model's weights before each generation repetition), and null without a generation test;
# lists of -p, -n, -d and -t values, and malformed or too many ones refused.
set -euo pipefail
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export TM_MEMBW_GBS=20
"$TEMOTO" synth --preset tiny -o "$tmp/tiny.gguf" 2>/dev/null
fail=0
"$TEMOTO" bench -m "$tmp/tiny.gguf" -p 32 -n 8 -d 16 -r 3 -t 2 --json >"$tmp/out.json"
python3 - "$tmp/out.json" "$tmp/tiny.gguf" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
assert d["model"] == sys.argv[2], d["model"]
assert d["threads"] == 2 and d["kernels"] in ("ref", "avx2", "avx512", "amx", "neon", "dotprod", "i8mm"), d
assert d["mem_bw_gbs"] == 20 and d["peak_rss_bytes"] > 0
names = [t["name"] for t in d["tests"]]
assert names == ["pp32", "tg8@d16"], names
pp, tg = d["tests"]
assert (pp["n_prompt"], pp["n_gen"], pp["depth"]) == (32, 0, 0)
assert (tg["n_prompt"], tg["n_gen"], tg["depth"]) == (0, 8, 16)
for t in d["tests"]:
    s = t["tps"]
    assert 0 < s["min"] <= s["median"] <= s["max"], s
# the prompt's limit: the kernels' multiply-add peak over a token's multiply-adds, where the
# table has a peak figure (all but ref and NEON), else null
if d["mac_peak_gmacs"] is None:
    assert pp["limit_tps"] is None and pp["fraction_of_limit"] is None
else:
    assert d["mac_peak_gmacs"] > 0 and pp["limit_tps"] > 0
    assert abs(pp["fraction_of_limit"] - pp["tps"]["median"] / pp["limit_tps"]) < 1e-3
assert tg["limit_tps"] > 0 and abs(tg["fraction_of_limit"] - tg["tps"]["median"] / tg["limit_tps"]) < 1e-3
print("ok   bench --json")
PY
env -u TM_MEMBW_GBS "$TEMOTO" bench -m "$tmp/tiny.gguf" -p 0 -n 4 -r 3 -t 2 --json >"$tmp/bw.json"
"$TEMOTO" bench -m "$tmp/tiny.gguf" -p 0 -n 4 -r 1 -t 2 --json >"$tmp/bw20.json"
"$TEMOTO" bench -m "$tmp/tiny.gguf" -p 8 -n 0 -r 1 -t 2 --json >"$tmp/pp.json"
python3 - "$tmp/bw.json" "$tmp/bw20.json" "$tmp/pp.json" <<'PY' || fail=1
import json, sys
d, d20, p = (json.load(open(f)) for f in sys.argv[1:4])
(tg,), (tg20,) = d["tests"], d20["tests"]
assert d["mem_bw_gbs"] > 0 and tg["name"] == "tg4", d
# the same bytes per token: the limits differ by the bandwidths alone
assert abs(tg["limit_tps"] / tg20["limit_tps"] - d["mem_bw_gbs"] / 20) < 1e-2 * d["mem_bw_gbs"] / 20
assert abs(tg["fraction_of_limit"] - tg["tps"]["median"] / tg["limit_tps"]) < 1e-3
assert p["mem_bw_gbs"] is None and [t["name"] for t in p["tests"]] == ["pp8"], p
print("ok   bench measures the bandwidth; null without generation")
PY
# lists: a pp test per -p value in order, then a tg test per -n value at each depth, from
# the shallowest (a depth given twice, once); 0 skips; the run's bandwidth the median of all
"$TEMOTO" bench -m "$tmp/tiny.gguf" -p 8,0,16 -n 4,2 -d 8,0,8 -r 2 -t 2 --json >"$tmp/lists.json"
python3 - "$tmp/lists.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
names = [t["name"] for t in d["tests"]]
assert names == ["pp8", "pp16", "tg4", "tg2", "tg4@d8", "tg2@d8"], names
for t in d["tests"]:
    assert t["tps"]["median"] > 0 and t["limit_tps"] > 0, t
    if t["n_gen"]:
        assert (t["n_prompt"], t["depth"]) == (0, 8 if "@" in t["name"] else 0), t
assert d["mem_bw_gbs"] == 20, d
assert d["threads"] == 2 and all(t["threads"] == 2 for t in d["tests"]), d
print("ok   bench takes lists")
PY
# thread counts: every test once per distinct count, in the order given
"$TEMOTO" bench -m "$tmp/tiny.gguf" -p 8 -n 2 -t 1,2,1 -r 1 --json >"$tmp/threads.json"
python3 - "$tmp/threads.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
got = [(t["name"], t["threads"]) for t in d["tests"]]
assert got == [("pp8", 1), ("tg2", 1), ("pp8", 2), ("tg2", 2)], got
assert d["threads"] == 1, d
print("ok   bench takes thread counts")
PY
out=$("$TEMOTO" bench -m "$tmp/tiny.gguf" -p 8 -n 0 -t 1,2 -r 1)
grep -q '^pp8  *1  ' <<<"$out" && grep -q '^pp8  *2  ' <<<"$out" ||
    { echo "FAIL: the text table's threads column"; echo "$out"; fail=1; }
set +e
for bad in "-p 8,,16" "-p 8," "-n 4,x" "-t 1,-2" "-d 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" \
    "-p 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -n 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -d 0,1,2,3"; do
    # shellcheck disable=SC2086
    "$TEMOTO" bench -m "$tmp/tiny.gguf" $bad -r 1 2>/dev/null
    [[ $? == 2 ]] || { echo "FAIL: bench $bad accepted"; fail=1; }
done
set -e
out=$("$TEMOTO" bench -m "$tmp/tiny.gguf" -p 0 -n 4 -r 1)
grep -q '^tg4 ' <<<"$out" && ! grep -q '^pp' <<<"$out" || { echo "FAIL: -p 0 / text output"; echo "$out"; fail=1; }
set +e
"$TEMOTO" bench -m "$tmp/tiny.gguf" -r 0 2>/dev/null; [[ $? == 2 ]] || { echo "FAIL: -r 0"; fail=1; }
"$TEMOTO" bench -m "$tmp/missing.gguf" 2>/dev/null; [[ $? == 1 ]] || { echo "FAIL: missing model"; fail=1; }
TM_MEMBW_GBS=abc "$TEMOTO" bench -m "$tmp/tiny.gguf" -p 1 -n 1 -r 1 2>/dev/null
[[ $? == 1 ]] || { echo "FAIL: bad TM_MEMBW_GBS"; fail=1; }
set -e
exit $fail
