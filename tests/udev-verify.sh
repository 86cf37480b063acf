#!/bin/bash
# TAP: the generated udev rules as udev itself reads them, and ukeyd
# --print-udev-rules with an administrator's additions.
# Usage: udev-verify.sh RULES UKEYD KNOWN_TOKENS
set -u
rules=$1 ukeyd=$2 table=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..3"

# udevadm test reads only the system's rules directories: give it ours in a
# private mount namespace, with a private /etc/group that has ukeyd's group.
if [ "$(id -u)" != 0 ] || ! command -v udevadm >/dev/null || ! command -v unshare >/dev/null; then
	echo "ok 1 # SKIP udevadm parse check needs root, unshare and udevadm (apt-get install udev)"
else
	cp /etc/group "$dir/group"
	echo "ukeyd:x:64999:" >>"$dir/group"
	mkdir "$dir/rules.d"
	cp "$rules" "$dir/rules.d/69-ukey.rules"
	out=$(unshare -m sh -c "mount --bind '$dir/rules.d' /etc/udev/rules.d &&
		mount --bind '$dir/group' /etc/group &&
		udevadm test --action=add /sys/class/mem/null 2>&1")
	if echo "$out" | grep -q "Reading rules file: /etc/udev/rules.d/69-ukey.rules" &&
		! echo "$out" | grep "69-ukey.rules:" >/dev/null; then
		echo "ok 1 - udev reads 69-ukey.rules without a complaint"
	else
		echo "not ok 1 - udev reads 69-ukey.rules without a complaint"
		echo "$out" | grep "69-ukey" | sed 's/^/# /'
	fi
fi

mkdir "$dir/known-tokens.d"
printf '[1d99:00a1]\nvendor = Local\nproduct = Bank key\nclass = hid\n' >"$dir/known-tokens.d/50-local.conf"
out=$("$ukeyd" --config /dev/null --known-tokens "$table" --known-tokens-dir "$dir/known-tokens.d" \
	--print-udev-rules 2>&1)
if echo "$out" | grep -q 'SUBSYSTEM=="hidraw", ATTRS{idVendor}=="1d99", ATTRS{idProduct}=="00a1"' &&
	echo "$out" | grep -q 'ATTR{idVendor}=="096e", ATTR{idProduct}=="0807"'; then
	echo "ok 2 - an administrator's device joins the shipped ones"
else
	echo "not ok 2 - an administrator's device joins the shipped ones"; echo "$out" | sed 's/^/# /'
fi

printf '[1d99:00a1]\nclass = floppy\n' >"$dir/known-tokens.d/60-bad.conf"
out=$("$ukeyd" --config /dev/null --known-tokens "$table" --known-tokens-dir "$dir/known-tokens.d" \
	--print-udev-rules 2>&1)
status=$?
if [ $status -ne 0 ] && echo "$out" | grep -q "60-bad.conf:2: invalid known-token line" &&
	! echo "$out" | grep -q "LABEL="; then
	echo "ok 3 - a bad line is named, and no half table is printed"
else
	echo "not ok 3 - a bad line is named, and no half table is printed"; echo "$out" | sed 's/^/# /'
fi
