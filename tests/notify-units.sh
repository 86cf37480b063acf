#!/bin/bash
# TAP: how ukey-notify starts with the session. The systemd user unit as
# systemd reads it, the XDG autostart entry as desktop-file-validate reads
# it, and what ties them together. Usage: notify-units.sh SERVICE DESKTOP UKEY_NOTIFY
set -u
service=$1 desktop=$2 notify=$3
if ! command -v systemd-analyze >/dev/null || ! command -v desktop-file-validate >/dev/null; then
	echo "1..0 # SKIP systemd-analyze or desktop-file-validate missing (apt-get install systemd desktop-file-utils)"
	exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..4"
# The installed ExecStart does not exist yet: point it at the built agent.
sed "s|^ExecStart=.*|ExecStart=$notify|" "$service" >"$dir/ukey-notify.service"
mkdir -m 0700 "$dir/run"
out=$(cd "$dir" && XDG_RUNTIME_DIR=$dir/run systemd-analyze --user verify --man=no ./ukey-notify.service 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then echo "ok 1 - user unit verifies clean"; else
	echo "not ok 1 - user unit verifies clean"; echo "$out" | sed 's/^/# /'; fi
if grep -qx "WantedBy=graphical-session.target" "$service" && grep -qx "PartOf=graphical-session.target" "$service"; then
	echo "ok 2 - the unit starts and stops with the graphical session"
else
	echo "not ok 2 - the unit starts and stops with the graphical session"
fi
out=$(desktop-file-validate "$desktop" 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then echo "ok 3 - autostart entry validates"; else
	echo "not ok 3 - autostart entry validates"; echo "$out" | sed 's/^/# /'; fi
# Sessions run by systemd skip the entry (they start the unit); the name
# is translated from po/zh_CN.po.
if grep -qx "Exec=ukey-notify" "$desktop" && grep -qx "X-systemd-skip=true" "$desktop" &&
	grep -qx "X-GNOME-HiddenUnderSystemd=true" "$desktop" && grep -qx "Name\[zh_CN\]=CA锁提醒" "$desktop"; then
	echo "ok 4 - autostart entry: skipped under systemd, translated"
else
	echo "not ok 4 - autostart entry: skipped under systemd, translated"
fi
