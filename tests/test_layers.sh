#!/bin/sh
# test_layers.sh — the source tree's layers hold: daemon/lib includes only
# lib headers, daemon/core only lib and core headers (never the daemon's
# or recoveryctl's), so the functional core stays free of the shells.
#
# A header belongs to the layer of the source file it declares: NAME.h to
# daemon/*/NAME.c, else to daemon/*/NAME_*.c (channel.h: channel_exec.c),
# and an internal header daemon/LAYER/NAME.h to LAYER.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh

rank() {
	case "$1" in
	lib) echo 0 ;; core) echo 1 ;; *) echo 2 ;;
	esac
}

# layer_of HEADER: the layer a header belongs to, or "" if unknown.
layer_of() {
	base=${1%.h}
	for d in lib core recoveryd ctl; do
		if [ -f "daemon/$d/$1" ] || [ -f "daemon/$d/$base.c" ]; then
			echo "$d"
			return
		fi
	done
	for d in lib core recoveryd ctl; do
		if ls "daemon/$d/${base}_"*.c >/dev/null 2>&1; then
			echo "$d"
			return
		fi
	done
}

bad=""
unknown=""
for layer in lib core; do
	for f in daemon/$layer/*.c daemon/$layer/*.h; do
		[ -f "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			l=$(layer_of "$h")
			if [ -z "$l" ]; then
				unknown="$unknown $f:$h"
			elif [ "$(rank "$l")" -gt "$(rank "$layer")" ]; then
				bad="$bad $f:$h($l)"
			fi
		done
	done
done
check_eq "lib and core include no header of a layer above" "$bad" ""
check_eq "every header lib and core include has a home" "$unknown" ""

# The check itself must see a violation: a core file including consumer.h.
l=$(layer_of consumer.h)
check_eq "consumer.h is the daemon's (the check can fail)" "$l" "recoveryd"
l=$(layer_of channel.h)
check_eq "channel.h is the daemon's (by its channel_*.c)" "$l" "recoveryd"

t_done
