#!/usr/bin/env python3
"""docs_check.py — the documentation cannot drift from the code.

Used by tests/test_docs.sh; each check prints what is missing, one item a
line, and exits 1 when anything is (0 when nothing is):

  keys ROOT CONFIG_MD MAN5   every top-level key of the configuration
        schema (the kspec table top_keys) has an ".It Cm KEY" entry in
        MAN5 and a heading naming `KEY` in CONFIG_MD, and every key of
        every schema table (struct kspec ...[] in the C files under
        ROOT/daemon) appears as `KEY` in CONFIG_MD
  commands MAN1 < HELP       every command of recoveryctl -h (the first
        word of each "  NAME ..." line under "Commands:") has an
        ".It Cm NAME" entry in MAN1
  options MAN8 < HELP        every option "-X" of a -h text has an
        ".It Fl X" entry in MAN8
  links FILE...              every relative Markdown link target of the
        files exists
"""
import os
import re
import sys


def schema_tables(root):
    tables = {}
    for d, _, files in os.walk(os.path.join(root, "daemon")):
        for f in sorted(files):
            if not f.endswith(".c"):
                continue
            src = open(os.path.join(d, f), encoding="utf-8").read()
            for m in re.finditer(r"struct kspec\s+(\w+)\[\]\s*=\s*\{(.*?)\n\};",
                                 src, re.S):
                names = re.findall(r'(?:\{|SECTION\(|SUB\()\s*"([a-z0-9_]+)"',
                                   m.group(2))
                tables.setdefault(m.group(1), []).extend(names)
    return tables


def check_keys(root, config_md, man5):
    tables = schema_tables(root)
    md = open(config_md, encoding="utf-8").read()
    man = open(man5, encoding="utf-8").read()
    missing = []
    top = tables.get("top_keys", [])
    if not top:
        missing.append("no top_keys table found under %s/daemon" % root)
    for k in top:
        if not re.search(r"^\.It Cm %s( |$)" % re.escape(k), man, re.M):
            missing.append("%s: no '.It Cm %s'" % (man5, k))
        if not re.search(r"^#{2,4} .*`%s`" % re.escape(k), md, re.M):
            missing.append("%s: no heading naming `%s`" % (config_md, k))
    for t, names in sorted(tables.items()):
        for k in names:
            if "`%s`" % k not in md and not re.search(
                    r"`[a-z_.]*\b%s\b[^`]*`" % re.escape(k), md):
                missing.append("%s: key '%s' (table %s) not documented"
                               % (config_md, k, t))
    return missing


def check_commands(man1, help_text):
    man = open(man1, encoding="utf-8").read()
    missing, seen, in_cmds = [], set(), False
    for line in help_text.splitlines():
        if line.startswith("Commands:"):
            in_cmds = True
            continue
        if in_cmds and line and not line.startswith(" "):
            break
        m = re.match(r"^  ([a-z][a-z-]*)( |$)", line)
        if in_cmds and m and m.group(1) not in seen:
            seen.add(m.group(1))
            if not re.search(r"^\.It Cm %s( |$)" % re.escape(m.group(1)),
                             man, re.M):
                missing.append("%s: no '.It Cm %s'" % (man1, m.group(1)))
    if not seen:
        missing.append("no commands found in the help text")
    return missing


def check_options(man8, help_text):
    man = open(man8, encoding="utf-8").read()
    missing, seen = [], set()
    for opt in re.findall(r"(?:^|[\s\[;])-([A-Za-z])\b", help_text):
        if opt in seen:
            continue
        seen.add(opt)
        if not re.search(r"^\.It Fl %s( |$)" % opt, man, re.M):
            missing.append("%s: no '.It Fl %s'" % (man8, opt))
    return missing


def check_links(files):
    missing = []
    for f in files:
        text = open(f, encoding="utf-8").read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#")[0]
            if not os.path.exists(os.path.join(os.path.dirname(f), path)):
                missing.append("%s: link to missing %s" % (f, target))
    return missing


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "keys":
        missing = check_keys(*args)
    elif cmd == "commands":
        missing = check_commands(args[0], sys.stdin.read())
    elif cmd == "options":
        missing = check_options(args[0], sys.stdin.read())
    elif cmd == "links":
        missing = check_links(args)
    else:
        sys.exit("usage: docs_check.py keys|commands|options|links ...")
    for m in missing:
        print(m)
    sys.exit(1 if missing else 0)


main()
