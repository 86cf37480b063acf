#!/bin/bash
# Installs the Debian 12 packages ukey needs to build, test and run, and
# generates the zh_CN.UTF-8 locale. Safe to run again; installs only what
# is missing. Needs root (uses sudo when not root).
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc g++ gettext
	libssl-dev libp11-dev libjson-c-dev libsystemd-dev libinih-dev
	libusb-1.0-0-dev libcmocka-dev libp11-kit-dev
	# test tokens and independent witnesses
	softhsm2 opensc opensc-pkcs11 gnutls-bin openssl opencryptoki
	umockdev libumockdev-dev
	# sanitizer and fuzz builds, locale, test helpers
	clang libclang-rt-14-dev locales procps jq socat systemd udev faketime
	# Debian packages (scripts/test-packages.sh)
	debhelper lintian build-essential
	# ukey-notify's test: a private session bus, a real notification server
	# under Xvfb with a CJK font, a screenshot; its autostart entry
	dbus-daemon dunst xvfb fonts-wqy-microhei imagemagick desktop-file-utils
)

sudo=
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "Installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# ukeyctl speaks Chinese only where the locale exists.
if ! locale -a 2>/dev/null | grep -qi '^zh_CN\.utf-\?8$'; then
	$sudo sed -i 's/^# *\(zh_CN.UTF-8 UTF-8\)/\1/' /etc/locale.gen
	grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen || echo 'zh_CN.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
	$sudo locale-gen >/dev/null
fi
