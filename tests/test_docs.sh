#!/bin/sh
# test_docs.sh — the documentation is there, well formed, and cannot
# drift from the code:
#   - the man pages recoveryd(8), recoveryctl(1), recoveryd-console(8),
#     recoveryd.yaml(5) (and every other docs/man/*.[1-8]) lint clean
#     under mandoc -T lint (warnings fail) and groff (man --warnings);
#   - every command `recoveryctl -h` lists has an entry in recoveryctl(1),
#     every option of `recoveryd -h` one in recoveryd(8) (ivr-sim's and the
#     console's likewise, when built);
#   - every top-level key of the configuration schema has an entry in
#     recoveryd.yaml(5) and a heading in docs/configuration.md, and every
#     key of every schema table appears in docs/configuration.md;
#   - the README links to docs/, and every relative link of README.md and
#     docs/*.md resolves;
#   - no file of the repository refers to the product specification's
#     file or the shared folder outside the repository.
# Each checker is also run on a broken copy, so that it is known to fail.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup

PY=tests/docs_check.py
MAN=docs/man

for p in recoveryd.8 recoveryctl.1 recoveryd-console.8 recoveryd.yaml.5; do
	check "man page $p exists" test -s "$MAN/$p"
done

# lint FILE: no mandoc message at warning level or above, and none from
# groff either (what lintian and man(1) would show).
lint() {
	out=$(mandoc -T lint -W warning "$1" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
	if command -v man >/dev/null 2>&1; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$1" \
		    2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$out"; return 1; }
	fi
	return 0
}

if command -v mandoc >/dev/null 2>&1; then
	for p in "$MAN"/*.[1-8]; do
		exit_is "mandoc -T lint and man --warnings: $p" 0 lint "$p"
	done
	# a page with a real mistake fails the lint
	sed 's/^\.Sh DESCRIPTION$/.Sh DESCRIPTION\n.It stray item/' \
	    "$MAN/recoveryd.8" >"$T_DIR/bad.8"
	exit_is "a page with a stray .It fails the lint" 1 lint "$T_DIR/bad.8"
else
	fail "mandoc" "not installed (contrib/install-deps.sh test installs it)"
fi

# Commands and options against the binaries' help.
"$BUILD/recoveryctl" -h >"$T_DIR/ctl.help" 2>&1
exit_is "every recoveryctl -h command is in recoveryctl(1)" 0 \
    sh -c "python3 $PY commands $MAN/recoveryctl.1 <$T_DIR/ctl.help"
grep -v '^\.It Cm stats' "$MAN/recoveryctl.1" >"$T_DIR/nostats.1"
exit_is "a command missing from the page is found" 1 \
    sh -c "python3 $PY commands $T_DIR/nostats.1 <$T_DIR/ctl.help"
check "it is named" grep -q "no '.It Cm stats'" "$T_DIR/out"

"$BUILD/recoveryd" -h >"$T_DIR/d.help" 2>&1
exit_is "every recoveryd -h option is in recoveryd(8)" 0 \
    sh -c "python3 $PY options $MAN/recoveryd.8 <$T_DIR/d.help"
grep -v '^\.It Fl t$' "$MAN/recoveryd.8" >"$T_DIR/not.8"
exit_is "an option missing from the page is found" 1 \
    sh -c "python3 $PY options $T_DIR/not.8 <$T_DIR/d.help"
"$BUILD/ivr-sim" -h >"$T_DIR/sim.help" 2>&1
exit_is "every ivr-sim -h option is in ivr-sim(1)" 0 \
    sh -c "python3 $PY options $MAN/ivr-sim.1 <$T_DIR/sim.help"
if [ -x "$BUILD/recoveryd-console" ]; then
	"$BUILD/recoveryd-console" -h >"$T_DIR/con.help" 2>&1
	exit_is "every recoveryd-console -h option is in recoveryd-console(8)" 0 \
	    sh -c "python3 $PY options $MAN/recoveryd-console.8 <$T_DIR/con.help"
fi

# Configuration keys against the schema tables.
exit_is "every schema key is in docs/configuration.md and recoveryd.yaml(5)" 0 \
    python3 $PY keys . docs/configuration.md "$MAN/recoveryd.yaml.5"
mkdir -p "$T_DIR/tree/daemon/core"
cp daemon/core/config*.c "$T_DIR/tree/daemon/core/"
sed 's/{ "rules", K_CUSTOM/{ "rulez", K_CUSTOM/; s/{ "maxlen", K_LONG/{ "max_len", K_LONG/' \
    daemon/core/config.c >"$T_DIR/tree/daemon/core/config.c"
sed 's/{ "maxlen", K_LONG/{ "max_len", K_LONG/' daemon/core/config_channels.c \
    >"$T_DIR/tree/daemon/core/config_channels.c"
exit_is "a new key the docs lack is found" 1 \
    python3 $PY keys "$T_DIR/tree" docs/configuration.md "$MAN/recoveryd.yaml.5"
check "the top-level one in both files" sh -c \
    "grep -q \"no '.It Cm rulez'\" $T_DIR/out && grep -q 'no heading naming .rulez.' $T_DIR/out"
check "the channel key in configuration.md" grep -q "key 'max_len' (table chan_keys)" "$T_DIR/out"

# Links.
check "the README links to docs/configuration.md" \
    grep -q '](docs/configuration.md)' README.md
exit_is "relative links of README.md and docs/*.md resolve" 0 \
    python3 $PY links README.md docs/*.md
printf 'see [x](docs/nothing-here.md)\n' >"$T_DIR/links.md"
exit_is "a broken link is found" 1 python3 $PY links "$T_DIR/links.md"

# No reference to files outside the repository: the specification's
# file (its name, or a "section N" of it) and the shared folder beside
# the checkout. The patterns are spelt so that this file does not match.
outside='\bS[P]EC\b|S[P]EC[.]md|[.][.]/[s]hared|/work/[s]hared'
refs() {
	grep -rInE "$outside" "$@" 2>/dev/null
}
files=$(git ls-files -co --exclude-standard 2>/dev/null | grep -v '^build/' |
    while read -r f; do [ -f "$f" ] && echo "$f"; done)
[ -n "$files" ] || files=$(find . -path ./build -prune -o -path ./.git -prune \
    -o -path ./run -prune -o -type f -print)
found=$(echo "$files" | tr '\n' '\0' | xargs -0 grep -InE "$outside" 2>/dev/null |
    head -n 20)
check_eq "no file refers to the specification or the shared folder" "$found" ""
exit_is "recoveryctl -h refers to nothing outside" 1 refs "$T_DIR/ctl.help"
printf 'as the product spec says (S%s section 9)\n' PEC >"$T_DIR/ref.md"
printf 'see ../%s/x.md\n' shared >>"$T_DIR/ref.md"
check "a reference is found" sh -c "[ \$(grep -cE '$outside' $T_DIR/ref.md) = 2 ]"

t_done
