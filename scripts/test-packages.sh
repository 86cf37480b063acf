#!/bin/bash
# The Debian packages, as a bidder gets them: built from a copy of the
# tracked tree with dpkg-buildpackage, checked by lintian, installed on
# this machine with apt-get, run, and purged. Prints TAP; needs root.
# A machine that already has ukey packages installed is left alone (the
# test skips: purging them is not its business).
#   scripts/test-packages.sh [OUTDIR]   (the .debs and logs; default: a temporary directory)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
packages=(ukeyd libukey0 libukey-dev libukey-l10n ukeyctl ukey-notify)

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP the package test installs packages: run it as root"
	exit 0
fi
for p in "${packages[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		echo "1..0 # SKIP $p is already installed here; the package test would purge it"
		exit 0
	fi
done

out=${1:-$(mktemp -d /tmp/ukey-packages.XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d /tmp/ukey-pkgtest.XXXXXX)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	local left=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed\|config-files" && left+=("$p")
	done
	[ ${#left[@]} -gt 0 ] && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${left[@]}" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 30 "$2" | sed 's/^/# /'; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
echo "1..12"

# 1. Build from what git tracks (a clean clone's content), outside the tree.
mkdir "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$work/src"
else
	(cd "$top" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -xf - -C "$work/src"
fi
start=$(date +%s%N)
if (cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($((($(date +%s%N) - start) / 1000000)) ms)"
else
	not_ok "dpkg-buildpackage -us -uc -b" "$out/build.log"
	exit 0
fi
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
debs=()
for p in "${packages[@]}"; do debs+=("$(ls "$out/${p}_"*.deb)"); done

# 2. lintian: no errors; the warnings are shown.
if command -v lintian >/dev/null; then
	lintian -I --pedantic "$out"/*.changes >"$out/lintian.txt" 2>&1
	sed 's/^/# /' "$out/lintian.txt" | grep -v 'running with root'
	if grep -q '^E: ' "$out/lintian.txt"; then not_ok "lintian reports no errors"; else ok "lintian reports no errors"; fi
else
	n=$((n + 1)); echo "ok $n # SKIP lintian missing (apt-get install lintian)"
fi

# 3. Installed as a bidder would.
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${debs[@]}" >"$out/install.log" 2>&1; then
	ok "apt-get install ./…deb"
else
	not_ok "apt-get install ./…deb" "$out/install.log"
	exit 0
fi

# 4. What the maintainer scripts did: the user and group from the sysusers
# file, the socket enabled, the user unit enabled for graphical sessions.
check "ukeyd user, ukey-admin group, ukeyd.socket and the user unit enabled" \
	bash -c 'getent passwd ukeyd >/dev/null && getent group ukey-admin >/dev/null &&
		[ -L /etc/systemd/system/sockets.target.wants/ukeyd.socket ] &&
		[ -L /etc/systemd/user/graphical-session.target.wants/ukey-notify.service ] &&
		[ -f /etc/xdg/autostart/ukey-notify.desktop ]'

# 5. The installed units as systemd reads them (any output fails).
mkdir -m 0700 "$work/run"
verify=$(systemd-analyze verify --man=no /lib/systemd/system/ukeyd.socket /lib/systemd/system/ukeyd.service 2>&1;
	XDG_RUNTIME_DIR=$work/run systemd-analyze --user verify --man=no /usr/lib/systemd/user/ukey-notify.service 2>&1)
if [ -z "$verify" ]; then ok "installed units pass systemd-analyze verify"; else
	not_ok "installed units pass systemd-analyze verify"; echo "$verify" | sed 's/^/# /'; fi

# 6-7. ukeyd from the unit's command line. Under systemd, the socket unit
# starts it; elsewhere (a container) the socket is made as the socket
# unit would and ukeyd runs as its user, without privileges, with the
# unit's umask.
execstart=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/ukeyd.service)
user=$(sed -n 's/^User=//p' /lib/systemd/system/ukeyd.service)
listen=$(sed -n 's/^ListenStream=//p' /lib/systemd/system/ukeyd.socket)
if [ -d /run/systemd/system ]; then
	how="systemd, socket activation"
	systemctl start ukeyd.socket
else
	how="systemd-socket-activate + setpriv as $user"
	install -d -o "$user" -g "$user" -m 0700 /var/lib/ukey # StateDirectory=
	install -d -m 0755 "$(dirname "$listen")"
	# shellcheck disable=SC2086
	(umask 0077; exec systemd-socket-activate -l "$listen" -- setpriv --reuid="$user" \
		--regid="$user" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
		-- $execstart) >"$out/ukeyd.log" 2>&1 &
	daemon=$!
	chmod 0666 "$listen" 2>/dev/null || true
fi
answered=false
for _ in $(seq 100); do
	if ukeyctl --socket "$listen" --json list >"$out/list.json" 2>/dev/null; then answered=true; break; fi
	sleep 0.1
done
if $answered && jq -e '.tokens | type == "array"' "$out/list.json" >/dev/null; then
	ok "installed ukeyd ($how: $execstart) answers the installed ukeyctl"
else
	not_ok "installed ukeyd ($how) answers the installed ukeyctl" "$out/ukeyd.log"
fi
if [ -n "$daemon" ]; then
	st=/proc/$daemon/status
	check "ukeyd runs as $user, no new privileges, no capabilities" bash -c \
		"grep -q \"^Uid:[[:space:]]*$(id -u "$user")\" $st && grep -q '^NoNewPrivs:[[:space:]]*1' $st &&
		 grep -q '^CapEff:[[:space:]]*0*$' $st && grep -q '^CapBnd:[[:space:]]*0*$' $st"
else
	check "ukeyd runs as $user" bash -c "[ \"\$(ps -o user= -p \$(systemctl show -p MainPID --value ukeyd.service))\" = $user ]"
fi

# 8. The development package: pkg-config, header, link, run.
cat >"$work/client.c" <<'C'
#include <stdio.h>
#include <ukey/ukey.h>
int main(int argc, char **argv)
{
	ukey_client *c = NULL;
	ukey_token_list *l = NULL;
	enum ukey_error e = ukey_client_new(argv[1], &c);
	if (e == UKEY_OK)
		e = ukey_client_list_tokens(c, &l);
	printf("%s: %zu tokens\n", ukey_strerror(e), l ? ukey_token_list_get_count(l) : 0);
	ukey_token_list_unref(l);
	ukey_client_unref(c);
	return e == UKEY_OK ? 0 : 1;
}
C
# shellcheck disable=SC2046
if [[ " $(pkg-config --libs libukey) " == *" -lukey "* ]] &&
	cc -Wall -Werror "$work/client.c" -o "$work/client" $(pkg-config --cflags --libs libukey) 2>"$out/cc.log" &&
	"$work/client" "$listen" >"$out/client.log"; then
	ok "pkg-config --libs libukey; a program builds against the installed header and library and talks to ukeyd"
else
	not_ok "a program builds against the installed libukey-dev and talks to ukeyd" "$out/cc.log"
fi

# 9-10. The notice agent and the translations.
check "ukey-notify --once answers (no token: nothing to show, exit 0)" \
	bash -c "ukey-notify --once --socket '$listen' >'$out/once.txt' && [ ! -s '$out/once.txt' ]"
check "zh_CN messages are installed (libukey-l10n)" bash -c \
	"LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= ukey-notify --help | grep -q '用法' &&
	 [ -f /usr/share/locale/zh_CN/LC_MESSAGES/ukey.mo ]"

# 11-12. Purged: nothing left but what policy allows (the ukeyd user and
# the ukey-admin group stay).
if [ -n "$daemon" ]; then kill "$daemon"; wait "$daemon" 2>/dev/null; daemon=; else systemctl stop ukeyd.socket ukeyd.service; fi
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${packages[@]}" >"$out/purge.log" 2>&1; then
	ok "apt-get purge"
else
	not_ok "apt-get purge" "$out/purge.log"
fi
left=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed\|config-files" && left+=("package $p"); done
for f in /etc/ukey /var/lib/ukey /run/ukey /usr/sbin/ukeyd /lib/udev/rules.d/69-ukey.rules \
	/usr/lib/sysusers.d/ukey.conf /etc/systemd/system/sockets.target.wants/ukeyd.socket \
	/etc/systemd/user/graphical-session.target.wants/ukey-notify.service \
	/etc/xdg/autostart/ukey-notify.desktop /usr/share/locale/zh_CN/LC_MESSAGES/ukey.mo; do
	[ -e "$f" ] && left+=("$f")
done
if [ ${#left[@]} -eq 0 ]; then
	ok "nothing left after purge (the ukeyd user and ukey-admin group stay, as policy asks)"
else
	not_ok "left after purge: ${left[*]}"
fi
