#!/bin/bash
# ukeyd's benchmarks, each against a peer measured in the same run, as ratios:
#  - "which tokens are plugged in?" through libukey, with 1, 8 and 32 CA-like
#    tokens (bench/provision-ca-tokens.sh: 2 certificates, 2 key pairs, a
#    seal each), against in-process libp11 and `pkcs11-tool -L`, and the
#    socket round trip that is the floor of any daemon (bench-list);
#  - PKCS#11 calls to read one CA token (pkcs11-spy): ukeyd against
#    `pkcs11-tool -L` + `pkcs11-tool -O`, and one cached list (the goal is 0);
#  - SKF calls per token scan, counted by the SKF test double's call log
#    (SKF_SOFT_LOG), and the scan times when every call that reaches a
#    device takes 20 ms (SKF_SOFT_DELAY_MS=20): the first read of a CA-like
#    SM2 token, a refresh, and a token left unchanged while another arrives;
#  - ukeyd's resident memory when idle;
#  - hotplug: uevent to token_added / token_removed at a client over
#    HOTPLUG_CYCLES (default 100) plug cycles under umockdev, against a bare
#    libusb listener (the floor);
#  - tokens at real speed: 20 ms per device call, 1 and 10 tokens: the first
#    complete list, a token pulled and plugged, a PIN change among others,
#    a token its module shows 300 ms late (bench-hotplug --real-tokens);
#  - ukeyd's wake-ups while idle over IDLE_SECONDS (default 60).
# Usage: bench/run-bench.sh [BUILD_DIR]   (default: build-bench, optimized)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-bench}
softhsm=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so

"$top/scripts/install-deps.sh"
[ -f "$build/build.ninja" ] || meson setup "$build" "$top" -Dbuildtype=release -Dtests=false -Dbench=true >/dev/null
ninja -C "$build" >/dev/null
unplug_so=$build/bench/p11-unplug.so

work=$(mktemp -d /tmp/ukey-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# SoftHSM stores of 1, 8 and 32 CA tokens: the peers (pkcs11-tool, libp11)
# read plain SoftHSM, with nothing between them and it.
echo "== provisioning SoftHSM stores of 1, 8 and 32 CA-like tokens"
for n in 1 8 32; do "$top/bench/provision-ca-tokens.sh" "$work/hsm$n" "$n" >/dev/null; done
use_store() { export SOFTHSM2_CONF=$work/hsm$1/softhsm2.conf; }

label() { if [ "$1" = 1 ]; then echo "国信CA测试主锁"; else printf 'CA锁%02d\n' "$1"; fi; }

start_ukeyd() { # NAME MODULE [ENV...]; MODULE --skf=PATH for an SKF library
	local name=$1 mod=$2 opt=--module
	shift 2
	case $mod in --skf=*) opt=--skf mod=${mod#--skf=} ;; esac
	env "$@" "$build/daemon/ukeyd" --socket "$work/$name.sock" --state-dir "$work/$name" \
		--config /dev/null --ca-profiles "$top/data/ca-profiles.conf" \
		--known-tokens "$top/data/known-tokens.conf" "$opt" "$mod" 2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 400); do
		UKEY_SOCKET=$work/$name.sock "$build/tools/ukeyctl" list >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "ukeyd ($name) did not start"; cat "$work/$name.log"; exit 1
}
stop_ukeyd() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

echo "== machine: $(nproc) cores, $(uname -r)"
for n in 1 8 32; do
	echo "== \"which tokens are plugged in?\" with $n CA token(s)"
	use_store "$n"
	start_ukeyd "list$n" "$softhsm"
	"$build/bench/bench-list" "$work/list$n.sock" "$softhsm" 20000 "$n"
	stop_ukeyd
done

echo "== PKCS#11 calls to read one CA token (pkcs11-spy)"
use_store 1
device='C_GetTokenInfo|C_OpenSession|C_FindObjects|C_GetAttributeValue|C_Login'
calls() { grep -cE "^[0-9]+: C_" "$1" || true; }
device_calls() { grep -cE "^[0-9]+: ($device)" "$1" || true; }
start_ukeyd spy "$spy" PKCS11SPY="$softhsm" PKCS11SPY_OUTPUT="$work/spy.log"
initial=$(calls "$work/spy.log") initial_dev=$(device_calls "$work/spy.log")
for _ in $(seq 1000); do UKEY_SOCKET=$work/spy.sock "$build/tools/ukeyctl" --json list >/dev/null; done
cached=$(($(calls "$work/spy.log") - initial))
before=$(calls "$work/spy.log") before_dev=$(device_calls "$work/spy.log")
UKEY_SOCKET=$work/spy.sock "$build/tools/ukeyctl" refresh >/dev/null
refresh=$(($(calls "$work/spy.log") - before)) refresh_dev=$(($(device_calls "$work/spy.log") - before_dev))
stop_ukeyd
PKCS11SPY="$softhsm" PKCS11SPY_OUTPUT="$work/tool.log" pkcs11-tool --module "$spy" -L >/dev/null
PKCS11SPY="$softhsm" PKCS11SPY_OUTPUT="$work/tool.log" pkcs11-tool --module "$spy" \
	--token-label "$(label 1)" -O >/dev/null
tool=$(calls "$work/tool.log") tool_dev=$(device_calls "$work/tool.log")
echo "(SoftHSM lists a blank slot too: one C_GetTokenInfo more for each reader)"
echo "ukeyd start (load, read the token): $initial calls, $initial_dev touching the device ($device)"
echo "ukeyd refresh (read it again): $refresh calls, $refresh_dev touching the device (goal <= 15: $([ "$refresh_dev" -le 15 ] && echo met || echo 'NOT met'))"
echo "pkcs11-tool -L + -O: $tool calls, $tool_dev touching the device"
echo "ratio: pkcs11-tool/ukeyd = $(awk -v a="$tool_dev" -v b="$refresh_dev" 'BEGIN {printf "%.1f", a / b}')x fewer device calls"
echo "1000 cached lists: $cached calls (goal 0)"

echo "== SKF calls per token scan (SKF test double: SKF_SOFT_LOG; SKF_SOFT_DELAY_MS=20 per call)"
# A CA-like token: one application, one container (two certificates, two
# public keys), three files of which two anyone may read (a 17 KB seal).
skf=$work/skf skflog=$work/skf-calls.log
"$top/tests/fixtures/provision-skf.sh" "$skf" primary >/dev/null
"$top/tests/fixtures/provision-skf.sh" "$skf" secondary >/dev/null
touch "$skf/devices/dev1/unplugged"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
on() { grep -c " $1\$" "$skflog" || true; }
t0=$(date +%s%N)
start_ukeyd skf "--skf=$build/bench/skf-soft.so" SKF_SOFT_DIR="$skf" SKF_SOFT_LOG="$skflog" \
	SKF_SOFT_DELAY_MS=20
first_ms=$(ms "$t0")
echo "first read of a token: $(on dev0) calls (and $(grep -c '^SKF_EnumDev' "$skflog") SKF_EnumDev"\
	"for the library), ready after $first_ms ms:"
grep ' dev0$' "$skflog" | cut -d' ' -f1 | sort | uniq -c | sort -rn | awk '{printf "  %s %s\n", $1, $2}'
before=$(on dev0) t0=$(date +%s%N)
UKEY_SOCKET=$work/skf.sock "$build/tools/ukeyctl" refresh >/dev/null
echo "refresh (the token read again): $(( $(on dev0) - before )) calls, $(ms "$t0") ms"
before=$(on dev0) t0=$(date +%s%N)
rm "$skf/devices/dev1/unplugged"
until [ "$(UKEY_SOCKET=$work/skf.sock "$build/tools/ukeyctl" --json list | jq '.tokens | length')" = 2 ]; do
	sleep 0.02
done
listed_ms=$(ms "$t0")
sleep 0.5 # the token already there is looked at after the new one is read
echo "another token plugged in (SKF_WaitForDevEvent): it is listed after $listed_ms ms with"\
	"$(on dev1) calls; the token already there cost $(( $(on dev0) - before )) calls (DEVINFO and PINs)"
stop_ukeyd

echo "== idle memory"
use_store 8
start_ukeyd idle "$softhsm"
idle_pid=${pids[-1]}
sleep 1
echo "ukeyd idle RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$idle_pid/status") (8 CA tokens, SoftHSM loaded)"

use_store 32
echo "== tokens at real speed (20 ms per device call)"
for n in 1 10; do
	umockdev-wrapper "$build/bench/bench-hotplug" --real-tokens \
		"$build/daemon/ukeyd" "$unplug_so" "$top/data/ca-profiles.conf" \
		"$top/data/known-tokens.conf" "$work" "$n"
done

echo "== hotplug latency (umockdev: fake ePass2003 096e:0807, token behind p11-unplug)"
softhsm2-util --init-token --free --label "热插拔锁" --so-pin 5720381694026153 --pin 123456 >/dev/null
# bench-hotplug keeps its own unplug file.
umockdev-wrapper "$build/bench/bench-hotplug" "$build/daemon/ukeyd" \
	"$unplug_so" "$top/data/ca-profiles.conf" "$top/data/known-tokens.conf" "$work" "热插拔锁" \
	"${HOTPLUG_CYCLES:-100}"

# Each time a thread is put on a CPU counts once (schedstat's 3rd field):
# a wake-up, whatever woke it. Summed over ukeyd's threads (the loop, one
# worker per module, libusb's udev monitor).
runs() { cat /proc/"$1"/task/*/schedstat | awk '{n += $3} END {print n}'; }
idle=${IDLE_SECONDS:-60}
echo "== idle wake-ups over ${idle} s (ukeyd with hotplug on, 8 CA tokens, no client)"
sleep 2
before=$(runs "$idle_pid")
sleep "$idle"
after=$(runs "$idle_pid")
echo "ukeyd: $(( after - before )) wake-ups in ${idle} s = $(awk -v n=$(( after - before )) -v s="$idle" 'BEGIN {printf "%.2f", n / s}')/s; threads: $(ls /proc/$idle_pid/task | wc -l)"
