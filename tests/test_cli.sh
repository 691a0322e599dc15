#!/bin/sh
# test_cli.sh — the command-line contract of recoveryd and recoveryctl
# (SPEC section 5): exit codes, --help, check, and replay against golden
# output and against an independent count over the shipped sample day.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
D=$BUILD/recoveryd
C=$BUILD/recoveryctl

# exit_is NAME WANT CMD...: the command's exit status.
exit_is() {
	name=$1
	want=$2
	shift 2
	"$@" >"$T_DIR/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then ok "$name"; else
		fail "$name" "exit $got, want $want: $(head -c 300 "$T_DIR/out")"; fi
}

exit_is "recoveryd -t on the example" 0 $D -t -c rules/recoveryd.yaml
check "recoveryd -t says OK" grep -q "configuration OK" "$T_DIR/out"
exit_is "recoveryd -t on a broken file" 1 $D -t -c tests/config/bad/21-duplicate-rule.yaml
check "recoveryd -t prints FILE:LINE:COL" grep -q "^tests/config/bad/21-duplicate-rule.yaml:[0-9]*:[0-9]*: " "$T_DIR/out"
exit_is "recoveryd -t on a missing file" 1 $D -t -c "$T_DIR/nope.yaml"
check "missing file named" grep -q "nope.yaml" "$T_DIR/out"
exit_is "recoveryd bad option" 2 $D -x
exit_is "recoveryd extra argument" 2 $D -t extra
exit_is "recoveryd --help" 0 $D --help
check "recoveryd --help lists -t" grep -q "^  -t" "$T_DIR/out"
exit_is "recoveryd -V" 0 $D -V

exit_is "recoveryctl without command" 2 $C
exit_is "recoveryctl unknown command" 2 $C frobnicate
check "unknown command named" grep -q "unknown command 'frobnicate'" "$T_DIR/out"
exit_is "recoveryctl -h" 0 $C -h
check "recoveryctl help lists replay" grep -q "replay" "$T_DIR/out"
exit_is "check the example" 0 $C check rules/recoveryd.yaml
exit_is "check -c default file" 0 $C -c rules/recoveryd.yaml check
exit_is "check: one bad among good" 1 $C check rules/recoveryd.yaml tests/config/bad/03-anchor.yaml
check "check: the good one still reported OK" grep -q "rules/recoveryd.yaml: configuration OK" "$T_DIR/out"
exit_is "check every good fixture" 0 $C check tests/config/good/*.yaml

# --- replay: golden fixture ----------------------------------------------------
$C replay --rules tests/replay/rules.yaml tests/replay/events.jsonl \
    >"$T_DIR/replay.out" 2>"$T_DIR/replay.err"
check_eq "replay exit status" "$?" 0
if diff -u tests/replay/expected.out "$T_DIR/replay.out" >"$T_DIR/diff"; then
	ok "replay alerts match the golden output"
else
	fail "replay alerts match the golden output" "$(cat "$T_DIR/diff")"
fi
if diff -u tests/replay/expected.err "$T_DIR/replay.err" >"$T_DIR/diff"; then
	ok "replay reports invalid lines with their line numbers"
else
	fail "replay reports invalid lines with their line numbers" "$(cat "$T_DIR/diff")"
fi
$C replay --json --rules tests/replay/rules.yaml tests/replay/events.jsonl \
    >"$T_DIR/replay.json" 2>/dev/null
check "replay --json prints one JSON alert per line" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 6, len(lines)
alerts = [json.loads(l) for l in lines]
assert [a["rule"] for a in alerts] == ["low-csat", "vip-detractor", "vip-detractor",
    "low-csat", "angry-comment", "angry-comment"], alerts
assert alerts[1]["channel"] == "supervisors" and alerts[2]["channel"] == "dialer"
assert alerts[0]["event_id"] == "line:3" and alerts[0]["step"] == 0
' "$T_DIR/replay.json"
cat tests/replay/events.jsonl | $C replay --rules tests/replay/rules.yaml - \
    >"$T_DIR/stdin.out" 2>/dev/null
check "replay reads stdin" cmp -s "$T_DIR/stdin.out" tests/replay/expected.out
exit_is "replay without a file" 2 $C replay --rules tests/replay/rules.yaml
exit_is "replay of a missing file" 2 $C replay --rules tests/replay/rules.yaml "$T_DIR/none.jsonl"
exit_is "replay with broken rules" 1 $C replay --rules tests/config/bad/03-anchor.yaml tests/replay/events.jsonl

# --- replay: the shipped sample day against an independent count ---------------
$C replay --rules rules/recoveryd.yaml contrib/samples/events.jsonl \
    >"$T_DIR/sample.out" 2>"$T_DIR/sample.err"
check_eq "sample replay exit status" "$?" 0
check "sample has at least 1000 events" sh -c \
    "[ \$(grep -c . contrib/samples/events.jsonl) -ge 1000 ]"
# Each stateless example rule's matches computed here in Python, times the
# number of channels its actions notify (rules/recoveryd.yaml, rules.d/).
check "sample replay: alerts per rule match an independent count" python3 -c '
import collections, json, sys
vip = {"gold", "platinum"}
want = collections.Counter()
for line in open("contrib/samples/events.jsonl"):
    e = json.loads(line)
    t, tier = e["type"], e.get("customer", {}).get("tier")
    if t == "rating":
        if "nps" in e and e["nps"] <= 6 and tier in vip: want["vip-detractor"] += 2
        if "nps" in e and e["nps"] <= 6 and tier not in vip: want["detractor"] += 1
        if "csat" in e and e["csat"] <= 2: want["low-csat"] += 1
        if e.get("resolved") is False: want["unresolved-call"] += 1
        if "ces" in e and e["ces"] >= 5: want["high-customer-effort"] += 1
    elif t == "call":
        if e.get("wait_s", 0) > 300: want["long-wait"] += 1
        if e.get("abandoned") is True: want["abandoned-call"] += 1
    elif t == "complaint":
        if e.get("severity") == "critical": want["critical-complaint"] += 3
        if e.get("severity") == "high": want["high-complaint"] += 1
got = collections.Counter(l.split()[2] for l in open(sys.argv[1]))
assert got == want, (sorted(got.items()), sorted(want.items()))
assert sum(got.values()) > 100
' "$T_DIR/sample.out"
check "sample replay summary on stderr" grep -q "^replay: 1200 events, 0 invalid" "$T_DIR/sample.err"

t_done
