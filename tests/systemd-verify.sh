#!/bin/bash
# TAP: the systemd units and the sysusers file, as systemd itself reads them.
# systemd-analyze verify exits 0 even on lines it ignores, so any output
# fails. Usage: systemd-verify.sh SERVICE SOCKET SYSUSERS UKEYD
set -u
service=$1 socket=$2 sysusers=$3 ukeyd=$4
if ! command -v systemd-analyze >/dev/null || ! command -v systemd-sysusers >/dev/null; then
	echo "1..0 # SKIP systemd-analyze or systemd-sysusers missing (apt-get install systemd)"
	exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..3"
# The installed ExecStart does not exist yet: point it at the built ukeyd.
sed "s|^ExecStart=.*|ExecStart=$ukeyd|" "$service" >"$dir/ukeyd.service"
cp "$socket" "$dir/ukeyd.socket"
out=$(cd "$dir" && systemd-analyze verify --man=no ./ukeyd.service ./ukeyd.socket 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then echo "ok 1 - units verify clean"; else
	echo "not ok 1 - units verify clean"; echo "$out" | sed 's/^/# /'; fi
grep -q "^Type=notify" "$dir/ukeyd.service" && grep -q "^ListenStream=/run/ukey/ukeyd.sock" \
	"$dir/ukeyd.socket" && echo "ok 2 - notify service on ukeyd's default socket" ||
	echo "not ok 2 - notify service on ukeyd's default socket"
out=$(systemd-sysusers --dry-run "$(realpath "$sysusers")" 2>&1)
# It names only what this machine lacks, so judge the file by its errors.
if [ $? -eq 0 ] && ! echo "$out" | grep -qiE "unknown|ignoring|failed|invalid"; then
	echo "ok 3 - sysusers file is clean"
else
	echo "not ok 3 - sysusers file is clean"; echo "$out" | sed 's/^/# /'
fi
