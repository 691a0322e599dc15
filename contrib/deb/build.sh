#!/bin/sh
# build.sh BUILD VERSION — build/recoveryd_VERSION-REV_ARCH.deb from the
# binaries in BUILD, with dpkg-deb alone (no debhelper): `make deb` runs it.
#
# The tree is a staged `make install` (PREFIX=/usr, SYSCONFDIR=/etc), so
# the package holds exactly what install installs: the binaries
# (/usr/sbin/recoveryd, /usr/bin/recoveryctl and ivr-sim, and
# /usr/sbin/recoveryd-console with its page under /usr/share/recoveryd/
# console/ when they are built), the units in /lib/systemd/system, the
# sysusers.d user, the man pages, /usr/share/doc/recoveryd and the example
# configuration under /etc/recoveryd, every file of which is a conffile.
# Then, as debhelper would: binaries stripped of .comment and .note
# (dh_strip), man pages and the changelog gzip -9n (reproducible), md5sums,
# Depends from dpkg-shlibdeps plus adduser (the postinst's fallback when
# systemd-sysusers is missing), and files owned by root (--root-owner-group;
# the postinst gives /etc/recoveryd to the group recoveryd).
#
# The Debian revision is DEB_REVISION (default 1): the package is not
# native, so its changelog is changelog.Debian.gz, and the newest entry of
# contrib/deb/changelog must name VERSION-REVISION.
#
# Lintian warnings accepted (tests/test_deb.sh fails on any error):
#   non-standard-file-perm (etc/recoveryd/*.yaml 0640): redis.url may hold
#     a password, so the configuration is not world-readable;
#   initial-upload-closes-no-bugs: not uploaded to Debian, no ITP bug.
# (lintian takes about 3 s here.)
set -eu

build=${1:?usage: build.sh BUILD VERSION}
version=${2:?usage: build.sh BUILD VERSION}
rev=${DEB_REVISION:-1}
make=${MAKE:-make}
arch=$(dpkg --print-architecture)
pkgver=$version-$rev
out=build/recoveryd_${pkgver}_${arch}.deb
work=$build/deb
root=$PWD/$work/root

top=$(sed -n '1s/^recoveryd (\([^)]*\)).*/\1/p' contrib/deb/changelog)
if [ "$top" != "$pkgver" ]; then
	echo "build.sh: contrib/deb/changelog starts with $top, not $pkgver:" \
	    "add an entry for $pkgver" >&2
	exit 1
fi

rm -rf "$work"
mkdir -p "$root"
$make --no-print-directory BUILD="$build" DESTDIR="$root" PREFIX=/usr \
    SYSCONFDIR=/etc install >"$work/install.log" 2>&1 || {
	cat "$work/install.log" >&2
	exit 1
}

# dh_strip: no debugging symbols, no .comment/.note sections.
for f in "$root"/usr/sbin/* "$root"/usr/bin/*; do
	[ -f "$f" ] || continue
	strip --remove-section=.comment --remove-section=.note "$f"
done

# Debian's man pages and changelogs are compressed, without a time stamp.
[ ! -d "$root/usr/share/man" ] ||
    find "$root/usr/share/man" -type f -name '*.[1-8]' -exec gzip -9n {} +
doc=$root/usr/share/doc/recoveryd
install -m 644 contrib/deb/copyright "$doc/copyright"
gzip -9nc contrib/deb/changelog >"$doc/changelog.Debian.gz"
chmod 644 "$doc/changelog.Debian.gz"

# Depends: the shared libraries of every binary (dpkg-shlibdeps wants a
# debian/control to read; a minimal one in a scratch directory does).
mkdir -p "$work/shlibs/debian"
printf 'Source: recoveryd\n\nPackage: recoveryd\nArchitecture: any\n' \
    >"$work/shlibs/debian/control"
bins=$(find "$root/usr/sbin" "$root/usr/bin" -type f)
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O $(for b in $bins; do
    printf -- '-e%s ' "$b"; done) 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "build.sh: dpkg-shlibdeps found nothing" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	sed "s|@CONFFILES@|$(tr '\n' ' ' <"$root/DEBIAN/conffiles" | sed 's/ $//')|" \
	    contrib/deb/$s >"$root/DEBIAN/$s"
	chmod 755 "$root/DEBIAN/$s"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' |
    LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

cat >"$root/DEBIAN/control" <<CONTROL
Package: recoveryd
Version: $pkgver
Architecture: $arch
Maintainer: recoveryd developers <dev@recoveryd.example.org>
Installed-Size: $size
Depends: $shlibs, adduser
Recommends: redis-server
Section: net
Priority: optional
Description: call-center customer recovery alerts from a Redis stream
 recoveryd reads post-call survey ratings, call outcomes and complaints
 from a Redis stream, evaluates YAML recovery rules against each event,
 opens recovery cases, alerts supervisors, queues callbacks for a dialer
 and escalates until someone acknowledges.
 .
 This package holds the daemon, recoveryctl (checks, rule tests, replay,
 cases, silences, reports), the ivr-sim call-center simulator, the
 systemd unit and an example configuration in /etc/recoveryd.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
