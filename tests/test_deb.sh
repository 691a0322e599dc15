#!/bin/sh
# test_deb.sh — make install, make uninstall and make deb (contrib/deb/):
#   - `make install` into a scratch DESTDIR lays out the binaries, units,
#     man pages, docs and the example configuration (0640) with their
#     modes, the unit's paths filled in; a second install keeps an edited
#     configuration; `make uninstall` leaves nothing but the configuration;
#   - `make deb` from the existing build (RECOVERYD_BUILD) gives
#     build/recoveryd_VERSION-1_ARCH.deb whose contents list holds what it
#     must and nothing of the build tree; `dpkg-deb -x` into a scratch root
#     shows the files with their modes, stripped binaries and compressed
#     man pages; the control file, conffiles and maintainer scripts are
#     right; lintian reports no error (its warnings are in the log; the
#     accepted ones are listed in contrib/deb/build.sh).
# About 6 s, lintian 3 s of it.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup

VERSION=$(cat VERSION)
M="make --no-print-directory BUILD=$BUILD"
I=$T_DIR/inst

check_eq "recoveryd -V is the VERSION file" \
    "$("$BUILD/recoveryd" -V 2>/dev/null)" "recoveryd $VERSION"
check_eq "recoveryctl -V is the VERSION file" \
    "$("$BUILD/recoveryctl" -V 2>/dev/null)" "recoveryctl $VERSION"

# mode FILE: its permission bits, octal.
mode() { stat -c %a "$1" 2>/dev/null; }

# --- make install / uninstall ---------------------------------------------
exit_is "make install DESTDIR=..." 0 $M DESTDIR="$I" PREFIX=/usr/local install
for f in usr/local/sbin/recoveryd usr/local/bin/recoveryctl usr/local/bin/ivr-sim; do
	check_eq "installed $f 755" "$(mode "$I/$f")" 755
done
for f in usr/local/share/man/man8/recoveryd.8 usr/local/share/man/man1/recoveryctl.1 \
    usr/local/share/man/man5/recoveryd.yaml.5 usr/local/share/man/man8/recoveryd-console.8 \
    usr/local/share/man/man1/ivr-sim.1 usr/local/share/doc/recoveryd/README.md \
    usr/local/share/doc/recoveryd/docs/configuration.md \
    usr/lib/sysusers.d/recoveryd.conf lib/systemd/system/recoveryd.service; do
	check_eq "installed $f 644" "$(mode "$I/$f")" 644
done
check "no man page sources under the doc directory" \
    test ! -e "$I/usr/local/share/doc/recoveryd/docs/man"
for f in etc/recoveryd/recoveryd.yaml etc/recoveryd/rules.d/ratings.yaml; do
	check_eq "installed $f 640" "$(mode "$I/$f")" 640
done
check "the unit runs the installed binary on the installed configuration" \
    grep -qx 'ExecStart=/usr/local/sbin/recoveryd -c /etc/recoveryd/recoveryd.yaml' \
    "$I/lib/systemd/system/recoveryd.service"
check "no placeholder is left in the unit" sh -c \
    "! grep -q '@[A-Z]*DIR@' $I/lib/systemd/system/recoveryd.service"
check "the installed recoveryd checks the installed configuration" \
    "$I/usr/local/sbin/recoveryd" -t -c "$I/etc/recoveryd/recoveryd.yaml"
echo "# edited" >>"$I/etc/recoveryd/recoveryd.yaml"
exit_is "a second make install" 0 $M DESTDIR="$I" PREFIX=/usr/local install
check "keeps an edited configuration" grep -q '^# edited$' "$I/etc/recoveryd/recoveryd.yaml"
exit_is "make uninstall" 0 $M DESTDIR="$I" PREFIX=/usr/local uninstall
left=$(cd "$I" && find . -type f | sort | tr '\n' ' ')
check_eq "uninstall leaves only the configuration" "$left" \
    "./etc/recoveryd/recoveryd.yaml ./etc/recoveryd/rules.d/calls.yaml ./etc/recoveryd/rules.d/complaints.yaml ./etc/recoveryd/rules.d/ratings.yaml "
check "uninstall removes the doc directory" test ! -e "$I/usr/local/share/doc/recoveryd"

# --- make deb ---------------------------------------------------------------
arch=$(dpkg --print-architecture)
deb=build/recoveryd_${VERSION}-1_${arch}.deb
rm -f "$deb"
exit_is "make deb" 0 $M deb
check "make deb names $deb" grep -qx "$deb" "$T_DIR/out"
check "the package exists" test -s "$deb"

dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' >"$T_DIR/list"
for f in ./usr/sbin/recoveryd ./usr/bin/recoveryctl ./usr/bin/ivr-sim \
    ./lib/systemd/system/recoveryd.service ./usr/lib/sysusers.d/recoveryd.conf \
    ./etc/recoveryd/recoveryd.yaml ./etc/recoveryd/rules.d/ratings.yaml \
    ./usr/share/man/man8/recoveryd.8.gz ./usr/share/man/man1/recoveryctl.1.gz \
    ./usr/share/man/man5/recoveryd.yaml.5.gz ./usr/share/man/man8/recoveryd-console.8.gz \
    ./usr/share/doc/recoveryd/copyright ./usr/share/doc/recoveryd/changelog.Debian.gz \
    ./usr/share/doc/recoveryd/README.md ./usr/share/doc/recoveryd/docs/configuration.md; do
	check "contents list has $f" grep -q " $f\$" "$T_DIR/list"
done
check "every file is root:root" sh -c "! awk '\$2 != \"root/root\"' $T_DIR/list | grep -q ."
check "nothing from the build tree or /usr/local" sh -c \
    "! grep -Eq ' \./(build|usr/local)|\.o\$|\.d\$' $T_DIR/list"
if [ -x "$BUILD/recoveryd-console" ]; then
	check "contents list has the console" grep -q ' ./usr/sbin/recoveryd-console$' "$T_DIR/list"
fi
if [ -d daemon/console/www ] || [ -d daemon/console/static ]; then
	check "contents list has the console's page" grep -q ' ./usr/share/recoveryd/console/' "$T_DIR/list"
fi

R=$T_DIR/root
exit_is "dpkg-deb -x" 0 dpkg-deb -x "$deb" "$R"
for f in usr/sbin/recoveryd usr/bin/recoveryctl usr/bin/ivr-sim; do
	check_eq "$f 755" "$(mode "$R/$f")" 755
	check "$f is stripped" sh -c "! readelf -S $R/$f | grep -q '\.debug_info'"
done
for f in etc/recoveryd/recoveryd.yaml etc/recoveryd/rules.d/calls.yaml; do
	check_eq "$f 640" "$(mode "$R/$f")" 640
done
for f in lib/systemd/system/recoveryd.service usr/share/doc/recoveryd/copyright \
    usr/share/doc/recoveryd/changelog.Debian.gz usr/share/man/man8/recoveryd.8.gz; do
	check_eq "$f 644" "$(mode "$R/$f")" 644
done
check_eq "etc/recoveryd 755" "$(mode "$R/etc/recoveryd")" 755
check "the unit runs /usr/sbin/recoveryd" grep -qx \
    'ExecStart=/usr/sbin/recoveryd -c /etc/recoveryd/recoveryd.yaml' \
    "$R/lib/systemd/system/recoveryd.service"
check "man pages are gzip -9n (no name, no time stamp)" sh -c \
    "gzip -lv $R/usr/share/man/man1/recoveryctl.1.gz >/dev/null &&
     [ \"\$(od -An -tx1 -j4 -N4 $R/usr/share/man/man1/recoveryctl.1.gz | tr -d ' ')\" = 00000000 ]"
check "the packaged recoveryctl runs" sh -c "$R/usr/bin/recoveryctl -V | grep -qx 'recoveryctl $VERSION'"
check "the packaged configuration checks" "$R/usr/sbin/recoveryd" -t \
    -c "$R/etc/recoveryd/recoveryd.yaml"

C=$T_DIR/control
dpkg-deb -e "$deb" "$C"
check_eq "Package" "$(dpkg-deb -f "$deb" Package)" recoveryd
check_eq "Version" "$(dpkg-deb -f "$deb" Version)" "$VERSION-1"
check_eq "Architecture" "$(dpkg-deb -f "$deb" Architecture)" "$arch"
dep=$(dpkg-deb -f "$deb" Depends)
for p in libc6 libevent-2.1 libhiredis libyaml libjansson libcurl adduser; do
	check "Depends has $p" sh -c "echo '$dep' | grep -q '$p'"
done
check_eq "conffiles are the configuration files" "$(cat "$C/conffiles" | tr '\n' ' ')" \
    "/etc/recoveryd/recoveryd.yaml /etc/recoveryd/rules.d/calls.yaml /etc/recoveryd/rules.d/complaints.yaml /etc/recoveryd/rules.d/ratings.yaml "
for s in postinst prerm postrm; do
	check_eq "$s 755" "$(mode "$C/$s")" 755
	check "$s parses" sh -n "$C/$s"
done
check "postinst creates the user" grep -q 'systemd-sysusers recoveryd.conf' "$C/postinst"
check "postinst gives each conffile to the group" grep -q \
    'for f in /etc/recoveryd/recoveryd.yaml /etc/recoveryd/rules.d/calls.yaml' "$C/postinst"
check "md5sums cover every file" sh -c \
    "[ \$(wc -l <$C/md5sums) = \$(cd $R && find . -type f | wc -l) ] &&
     (cd $R && md5sum -c --quiet $C/md5sums)"

if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error "$deb" >"$T_DIR/lintian" 2>&1
	rc=$?
	sed 's/^/lintian: /' "$T_DIR/lintian"
	check_eq "lintian: no error" "$rc:$(grep -c '^E:' "$T_DIR/lintian")" "0:0"
else
	fail "lintian" "not installed (contrib/install-deps.sh test installs it)"
fi
rm -f "$deb"

t_done
