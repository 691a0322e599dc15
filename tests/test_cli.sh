#!/bin/sh
# test_cli.sh — the command-line contract of recoveryd and recoveryctl
# (README, "Commands"): exit codes, --help, check, and replay against golden
# output and against an independent count over the shipped sample day.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
D=$BUILD/recoveryd
C=$BUILD/recoveryctl


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
check "recoveryd --help lists --strict" grep -q "with --strict a" "$T_DIR/out"
exit_is "recoveryd -V" 0 $D -V

exit_is "recoveryctl without command" 2 $C
exit_is "recoveryctl unknown command" 2 $C frobnicate
check "unknown command named" grep -q "unknown command 'frobnicate'" "$T_DIR/out"
exit_is "recoveryctl -h" 0 $C -h
check "recoveryctl help lists replay" grep -q "replay" "$T_DIR/out"
check "recoveryctl help lists replay --against and --from-stream" grep -q "replay \[--rules FILE\] \[--against OLD.yaml\]" "$T_DIR/out"
check "recoveryctl help lists explain" grep -q "^  explain \[--rules FILE\] \[--json\] (EVENT.json | --customer K EVENTS.jsonl)" "$T_DIR/out"
check "recoveryctl help lists check --strict" grep -q "^  check \[--strict\] \[FILE...\]" "$T_DIR/out"
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
assert alerts[0]["case_id"] == "c-line:3" and alerts[4]["case_id"] == "c-line:3"
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
# Each stateless example rule's firings computed here in Python, with its
# cooldown per customer (rules/recoveryd.yaml, rules.d/; default 1h), times
# the number of channels its actions notify: the step-0 lines of those rules.
check "sample replay: alerts per rule match an independent count" python3 -c '
import collections, json, sys
vip = {"gold", "platinum"}
H = 3600.0
cool = {"vip-detractor": H, "detractor": H, "low-csat": H, "unresolved-call": H,
        "high-customer-effort": H, "long-wait": 4 * H, "abandoned-call": 2 * H,
        "critical-complaint": 0, "high-complaint": H}
chans = {"vip-detractor": 2, "critical-complaint": 3}
last, want = {}, collections.Counter()
def fire(rule, e):
    k, t = (rule, e["customer_id"]), float(e["ts"])
    if k in last and t - last[k] < cool[rule]:
        return
    last[k] = t
    want[rule] += chans.get(rule, 1)
for line in open("contrib/samples/events.jsonl"):
    e = json.loads(line)
    t, tier = e["type"], e.get("customer", {}).get("tier")
    if t == "rating":
        if "nps" in e and e["nps"] <= 6 and tier in vip: fire("vip-detractor", e)
        if "nps" in e and e["nps"] <= 6 and tier not in vip: fire("detractor", e)
        if "csat" in e and e["csat"] <= 2: fire("low-csat", e)
        if e.get("resolved") is False: fire("unresolved-call", e)
        if "ces" in e and e["ces"] >= 5: fire("high-customer-effort", e)
    elif t == "call":
        if e.get("wait_s", 0) > 300: fire("long-wait", e)
        if e.get("abandoned") is True: fire("abandoned-call", e)
    elif t == "complaint":
        if e.get("severity") == "critical": fire("critical-complaint", e)
        if e.get("severity") == "high": fire("high-complaint", e)
rows = [l.split() for l in open(sys.argv[1])]
got = collections.Counter(r[2] for r in rows if r[2] in cool and r[5] == "0")
assert got == want, (sorted(got.items()), sorted(want.items()))
assert sum(got.values()) > 100
' "$T_DIR/sample.out"
# Escalation: each step line comes after its case opened (the case's first
# line) by exactly that step's delay, and the sample has some of each rule.
check "sample replay: escalation steps fall due after their case opened" python3 -c '
import datetime, sys
delay = {("vip-detractor", "1"): 900, ("vip-detractor", "2"): 3600,
         ("high-complaint", "1"): 1800}
def ts(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
opened, steps = {}, {}
for r in (l.split() for l in open(sys.argv[1])):
    opened.setdefault(r[4], ts(r[0]))
    if r[5] != "0":
        assert r[4] in opened and abs(ts(r[0]) - opened[r[4]] - delay[(r[2], r[5])]) < 0.01, r
        steps[(r[2], r[5])] = steps.get((r[2], r[5]), 0) + 1
assert set(steps) == set(delay), steps
' "$T_DIR/sample.out"
check "sample replay summary on stderr" grep -q "^replay: 1200 events, 0 invalid" "$T_DIR/sample.err"

# --- check --strict, typos, included files, exec programs ------------------------
exit_is "the example passes check --strict" 0 $C -c rules/recoveryd.yaml check --strict
check "--strict: the example has no warning" sh -c "! grep -q warning '$T_DIR/out'"
exit_is "recoveryd -t --strict on the example" 0 $D -t --strict -c rules/recoveryd.yaml
exit_is "warnings alone pass check" 0 $C check tests/config/good/warnings.yaml
exit_is "check --strict fails on warnings" 1 $C check --strict tests/config/good/warnings.yaml
check "--strict says why" grep -q "^tests/config/good/warnings.yaml: 10 warnings, errors with --strict$" "$T_DIR/out"
check "--strict: no OK line" sh -c "! grep -q 'configuration OK' '$T_DIR/out'"
exit_is "recoveryd -t --strict fails on warnings" 1 $D -t --strict -c tests/config/good/warnings.yaml
exit_is "recoveryd --strict without -t is a usage error" 2 $D --strict -c rules/recoveryd.yaml
check "make run checks with --strict" grep -q 'recoveryd" -t --strict -c' contrib/run.sh
mkdir -p "$T_DIR/typo/rules.d"
sed -e 's/if: csat <= 2$/if: csta <= 2/' \
    -e 's/message: "{{customer_id}}: {{count}} low CSAT/message: "{{custmer_id}}: {{count}} low CSAT/' \
    -e 's|"/usr/bin/logger"|"/usr/bin/logger"|' rules/recoveryd.yaml >"$T_DIR/typo/recoveryd.yaml"
cp rules/rules.d/*.yaml "$T_DIR/typo/rules.d/"
exit_is "typos are warnings" 0 $C check "$T_DIR/typo/recoveryd.yaml"
check "csta in an if, with a suggestion, at FILE:LINE:COL" grep -q \
    "^$T_DIR/typo/recoveryd.yaml:[0-9]*:9: warning: unknown field 'csta' (did you mean 'csat'?): not a field of event type rating$" "$T_DIR/out"
check "{{custmer_id}} in a message, with a suggestion, at FILE:LINE:COL" grep -q \
    "^$T_DIR/typo/recoveryd.yaml:[0-9]*:49: warning: unknown field 'custmer_id' (did you mean 'customer_id'?) in a template: not a field of event type rating, nor of the alert$" "$T_DIR/out"
exit_is "typos fail check --strict" 1 $C check --strict "$T_DIR/typo/recoveryd.yaml"

# An included file is checked as part of the -c file: its channels resolve.
exit_is "check of an included file" 0 $C -c rules/recoveryd.yaml check rules/rules.d/ratings.yaml
check_eq "checked as part of the main file" "$(cat "$T_DIR/out")" \
    "rules/rules.d/ratings.yaml: configuration OK (checked as part of rules/recoveryd.yaml: 14 rules, 5 channels, 4 files)"
exit_is "check of an included file by another path" 0 $C -c rules/recoveryd.yaml check ./rules/../rules/rules.d/calls.yaml
exit_is "check --strict of an included file" 0 $C -c rules/recoveryd.yaml check --strict rules/rules.d/calls.yaml
exit_is "check of a file the -c file does not include" 1 $C -c rules/recoveryd.yaml check tests/config/bad/24-undefined-channel.yaml
check "... is checked on its own" grep -q "undefined channel" "$T_DIR/out"
exit_is "without the main file, an included file stands alone" 1 $C -c "$T_DIR/nope.yaml" check rules/rules.d/ratings.yaml
check "... and its channels are undefined" grep -q "rules/rules.d/ratings.yaml:[0-9]*:[0-9]*: undefined channel 'supervisors'" "$T_DIR/out"
# An included file's own errors, and only its own.
mkdir -p "$T_DIR/inc/rules.d"
cp rules/recoveryd.yaml "$T_DIR/inc/"
cp rules/rules.d/*.yaml "$T_DIR/inc/rules.d/"
cat >"$T_DIR/inc/rules.d/new.yaml" <<'YAML'
rules:
  - name: new-rule
    on: rating
    if: csat <= 1
    actions: [{notify: supervisors, message: "{{customer_id}} {{agnet_id}}"}]
  - name: broken
    on: rating
    actions: [{notify: superviosrs}]
YAML
exit_is "an included file with an error" 1 $C -c "$T_DIR/inc/recoveryd.yaml" check "$T_DIR/inc/rules.d/new.yaml"
check "its error, with the main file's channels as suggestions" grep -q \
    "^$T_DIR/inc/rules.d/new.yaml:8:24: undefined channel 'superviosrs' (did you mean 'supervisors'?)$" "$T_DIR/out"
check "its warning" grep -q "^$T_DIR/inc/rules.d/new.yaml:5:65: warning: unknown field 'agnet_id' (did you mean 'agent_id'?) in a template" "$T_DIR/out"
check_eq "nothing of the other files" "$(grep -vc "^$T_DIR/inc/rules.d/new.yaml:" "$T_DIR/out")" 0
sed -i '/^  - name: broken/,$d' "$T_DIR/inc/rules.d/new.yaml"
exit_is "a good included file" 0 $C -c "$T_DIR/inc/recoveryd.yaml" check "$T_DIR/inc/rules.d/new.yaml"
exit_is "a good included file with a warning fails --strict" 1 $C -c "$T_DIR/inc/recoveryd.yaml" check --strict "$T_DIR/inc/rules.d/new.yaml"
check "... saying so" grep -q "new.yaml: 1 warning, errors with --strict" "$T_DIR/out"
printf 'rules:\n  - {name: other, on: rating, actions: [{notify: nowhere}]}\n' >"$T_DIR/inc/rules.d/other.yaml"
exit_is "an error in another file fails the check" 1 $C -c "$T_DIR/inc/recoveryd.yaml" check "$T_DIR/inc/rules.d/new.yaml"
check "... naming the main file" grep -q "new.yaml: 1 error in other files of $T_DIR/inc/recoveryd.yaml (recoveryctl -c $T_DIR/inc/recoveryd.yaml check lists them)" "$T_DIR/out"

# An exec program that does not exist or cannot run is an error at load.
sed 's|"/usr/bin/logger"|"/nonexistent/page"|' rules/recoveryd.yaml >"$T_DIR/inc/recoveryd.yaml"
rm -f "$T_DIR/inc/rules.d/other.yaml"
exit_is "a missing exec program fails check" 1 $C check "$T_DIR/inc/recoveryd.yaml"
check "... at argv[0]" grep -q "^$T_DIR/inc/recoveryd.yaml:[0-9]*:12: exec channel 'pager': program '/nonexistent/page' does not exist$" "$T_DIR/out"
exit_is "a missing exec program fails recoveryd -t" 1 $D -t -c "$T_DIR/inc/recoveryd.yaml"
# The daemon does not start on it (it checks before connecting to Redis).
sed -i 's|listen: "127.0.0.1:9464"|listen: ""|' "$T_DIR/inc/recoveryd.yaml"
exit_is "the daemon does not start with a missing exec program" 1 timeout 10 $D -f -c "$T_DIR/inc/recoveryd.yaml"
check "... and logs why" grep -q "program '/nonexistent/page' does not exist" "$T_DIR/out"
printf '#!/bin/sh\n' >"$T_DIR/page"
chmod 644 "$T_DIR/page"
sed "s|\"/usr/bin/logger\"|\"$T_DIR/page\"|" rules/recoveryd.yaml >"$T_DIR/inc/recoveryd.yaml"
exit_is "a program that is not executable fails check" 1 $C check "$T_DIR/inc/recoveryd.yaml"
check "... saying so" grep -q "program '$T_DIR/page' is not executable" "$T_DIR/out"
chmod 755 "$T_DIR/page"
exit_is "once it is executable, check passes" 0 $C check "$T_DIR/inc/recoveryd.yaml"
# replay, test and explain run no program: they do not need it.
rm -f "$T_DIR/page"
exit_is "replay does not need the exec program" 0 $C replay --rules "$T_DIR/inc/recoveryd.yaml" tests/replay/events.jsonl

t_done
