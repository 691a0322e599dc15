# check_schema.py SCHEMA TABLE: every event of TABLE (tests/events/
# cases.jsonl) against the JSON Schema (draft 2020-12) SCHEMA: its
# verdict must be the line's. Prints "ok"/"FAIL" lines and exits 1 on a
# mismatch. Run by tests/test_contract.sh with /usr/bin/python3
# (Debian's python3-jsonschema).
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
bad = 0
n = 0
for lineno, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
    if not line.strip() or line.startswith("#"):
        continue
    row = json.loads(line)
    n += 1
    errs = sorted(v.iter_errors(row["event"]), key=lambda e: e.path)
    got = "invalid" if errs else "valid"
    if got == row["verdict"]:
        print("ok schema line %d: %s: %s" % (lineno, row["note"], got))
    else:
        bad += 1
        print("FAIL schema line %d: %s: want %s, got %s%s" % (lineno, row["note"],
            row["verdict"], got, (": " + errs[0].message) if errs else ""))
print("%d rows, %d disagree" % (n, bad))
sys.exit(1 if bad or n < 40 else 0)
