#!/bin/bash
# The main job on an embedded default: installs what is missing, builds,
# provisions a SoftHSM token made to look like a CA primary token (and a
# secondary one), starts ukeyd on a private socket, and shows what
# ukeyctl sees. Nothing outside build/ and a temporary directory is
# touched; ukeyd is stopped at the end.
#   scripts/demo.sh            run the demo and stop
#   scripts/demo.sh --keep     leave ukeyd running and print how to use it
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
keep=false
[ "${1:-}" = --keep ] && keep=true

"$top/scripts/install-deps.sh"
[ -f "$top/build/build.ninja" ] || meson setup "$top/build" "$top" >/dev/null
ninja -C "$top/build" >/dev/null

work=$(mktemp -d /tmp/ukey-demo.XXXXXX)
eval "$("$top/tests/fixtures/provision-softhsm.sh" "$work/hsm")"
sock=$work/ukeyd.sock
"$top/build/daemon/ukeyd" --socket "$sock" --state-dir "$work/state" --config /dev/null \
	--ca-profiles "$top/data/ca-profiles.conf" --ca-profiles-dir "$work" \
	--module /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so 2>"$work/ukeyd.log" &
pid=$!
cleanup() { $keep || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"; }; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

export UKEY_SOCKET=$sock UKEY_LOCALEDIR=$top/build/po
ctl=$top/build/tools/ukeyctl
primary=$("$ctl" --json list | jq -r '.tokens[] | select(.label == "国信CA测试主锁") | .serial')
echo "\$ ukeyctl list"
"$ctl" list
echo
echo "\$ ukeyctl status $primary"
"$ctl" status "$primary"
if locale -a | grep -qi '^zh_CN\.utf-\?8$'; then
	echo
	echo "\$ LANG=zh_CN.UTF-8 ukeyctl list"
	LANG=zh_CN.UTF-8 LC_ALL= "$ctl" list
fi
if $keep; then
	echo
	echo "ukeyd runs as PID $pid (log: $work/ukeyd.log). Try:"
	echo "  export UKEY_SOCKET=$sock SOFTHSM2_CONF=$SOFTHSM2_CONF UKEY_LOCALEDIR=$top/build/po"
	echo "  $ctl --json list"
	echo "Stop it with: kill $pid"
fi
