#!/bin/bash
# `meson install` into a DESTDIR gives a usable tree: the header, the
# library and its pkg-config file build and run a client program. TAP.
set -euo pipefail
build=$1
# An instrumented library needs an instrumented program to load it.
sanitize=${2:-none}
cflags=()
[ "$sanitize" != none ] && cflags=("-fsanitize=$sanitize")
dest=$(mktemp -d /tmp/ukey-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
echo "1..2"
if meson install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1; then
	echo "ok 1 - meson install --destdir"
else
	echo "not ok 1 - meson install failed"; sed 's/^/# /' "$dest.log"; rm -f "$dest.log"; exit 0
fi
rm -f "$dest.log"
pc=$(dirname "$(find "$dest" -name libukey.pc | head -1)")
cat >"$dest/client.c" <<'C'
#include <stdio.h>
#include <ukey/ukey.h>
int main(void)
{
	ukey_client *c = NULL;
	/* Nothing listens there: the installed library must say so. */
	enum ukey_error e = ukey_client_new("/nonexistent/ukeyd.sock", &c);
	printf("%s\n", ukey_strerror(e));
	return e == UKEY_E_UNREACHABLE ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest
libdir=$(dirname "$(find "$dest" -name 'libukey.so' | head -1)")
if cc "${cflags[@]}" "$dest/client.c" -o "$dest/client" $(pkg-config --cflags --libs libukey) &&
	LD_LIBRARY_PATH=$libdir "$dest/client" >/dev/null; then
	echo "ok 2 - a program builds against the installed header and pkg-config file, and runs"
else
	echo "not ok 2 - building or running against the installed tree failed"
fi
