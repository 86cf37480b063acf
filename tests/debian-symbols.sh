#!/bin/bash
# TAP: the ABI the Debian package tracks is the one libukey exports. Every
# symbol of lib/libukey.sym is in debian/libukey0.symbols with the same
# version node, and nothing else is, so a new export fails here (and the
# package build, dh_makeshlibs -c4) until it is recorded.
# Usage: debian-symbols.sh LIBUKEY_SYM DEBIAN_SYMBOLS
set -u
sym=$1 deb=$2
echo "1..1"
# lib/libukey.sym: "NODE {" opens a version node, "name;" lines list it.
want=$(awk '/^LIBUKEY_[0-9.]+ *\{/ { node = $1 } /^\t[a-z_0-9]+;/ { sub(/;/, "", $1); print $1 "@" node }' "$sym" | sort)
have=$(awk '/^ [a-z_0-9]+@LIBUKEY_/ { print $1 }' "$deb" | sort)
if [ -n "$want" ] && [ "$want" = "$have" ]; then
	echo "ok 1 - debian/libukey0.symbols lists exactly the $(echo "$want" | wc -l) exported symbols"
else
	echo "not ok 1 - debian/libukey0.symbols and lib/libukey.sym differ"
	diff <(echo "$want") <(echo "$have") | sed 's/^/# /'
fi
