#!/bin/bash
# Benchmark of the token inventory (issue: token inventory end to end).
# Provisions two SoftHSM CA-like tokens, then in one run measures:
#  - a cached `list` through libukey against an in-process libp11 scan
#    and against `pkcs11-tool -L` (bench-list), with ratios;
#  - PKCS#11 calls made by ukeyd, counted by pkcs11-spy: for the initial
#    scan, and for one cached query (the goal is 0);
#  - SKF calls per token scan (issue: SKF backend), counted by the SKF test
#    double's call log (SKF_SOFT_LOG), and the scan times when every call
#    that reaches a device takes 20 ms (SKF_SOFT_DELAY_MS=20, a slow real
#    token): the first read of a token, a refresh, and a token left
#    unchanged while another arrives;
#  - ukeyd's resident memory when idle;
#  - hotplug (issue: hotplug and events): latency from a USB uevent to
#    token_added / token_removed at a client, p50/p99 over HOTPLUG_CYCLES
#    (default 100) plug cycles under umockdev, against a bare libusb
#    listener in the same cycles (the floor); and ukeyd's CPU wake-ups per
#    second while idle, from /proc/PID/task/*/schedstat over IDLE_SECONDS
#    (default 60).
# Usage: bench/run-bench.sh [BUILD_DIR]   (default: build-bench, optimized)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-bench}
module=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
spy=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so

"$top/scripts/install-deps.sh"
[ -f "$build/build.ninja" ] || meson setup "$build" "$top" -Dbuildtype=release -Dtests=false -Dbench=true >/dev/null
ninja -C "$build" >/dev/null

work=$(mktemp -d /tmp/ukey-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
eval "$("$top/tests/fixtures/provision-softhsm.sh" "$work/hsm")" >/dev/null

start_ukeyd() { # NAME MODULE [ENV...]; MODULE --skf=PATH for an SKF library
	local name=$1 mod=$2 opt=--module
	shift 2
	case $mod in --skf=*) opt=--skf mod=${mod#--skf=} ;; esac
	env "$@" "$build/daemon/ukeyd" --socket "$work/$name.sock" --state-dir "$work/$name" \
		--config /dev/null --ca-profiles "$top/data/ca-profiles.conf" \
		--known-tokens "$top/data/known-tokens.conf" "$opt" "$mod" 2>"$work/$name.log" &
	pids+=($!)
	for _ in $(seq 200); do
		UKEY_SOCKET=$work/$name.sock "$build/tools/ukeyctl" list >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "ukeyd ($name) did not start"; cat "$work/$name.log"; exit 1
}

echo "== machine: $(nproc) cores, $(uname -r)"
echo "== latency of \"which tokens are plugged in?\""
start_ukeyd plain "$module"
plain_pid=${pids[-1]}
"$build/bench/bench-list" "$work/plain.sock" "$module" 20000

echo "== PKCS#11 calls by ukeyd (pkcs11-spy)"
start_ukeyd spy "$spy" PKCS11SPY="$module" PKCS11SPY_OUTPUT="$work/spy.log"
calls() { grep -cE '^[0-9]+: C_' "$work/spy.log" || true; }
# start_ukeyd's readiness probe was itself a cached query; count from here.
initial=$(calls)
UKEY_SOCKET=$work/spy.sock "$build/tools/ukeyctl" list >/dev/null
one=$(( $(calls) - initial ))
for _ in $(seq 1000); do UKEY_SOCKET=$work/spy.sock "$build/tools/ukeyctl" --json list >/dev/null; done
thousand=$(( $(calls) - initial ))
UKEY_SOCKET=$work/spy.sock "$build/tools/ukeyctl" list >/dev/null
echo "initial scan: $initial calls; one cached list: $one calls; 1000 more cached lists: $thousand calls"
UKEY_SOCKET=$work/spy.sock "$build/tools/ukeyctl" list >/dev/null
before=$(calls)
printf '{"id":1,"method":"hello","params":{"version":1}}\n{"id":2,"method":"refresh"}\n' |
	timeout 10 socat - "UNIX-CONNECT:$work/spy.sock" >/dev/null 2>&1 || true
echo "one refresh (re-reads every token): $(( $(calls) - before )) calls"

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
first=$(on dev0)
echo "first read of a token: $first calls (and $(grep -c '^SKF_EnumDev' "$skflog") SKF_EnumDev"\
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

echo "== idle memory"
sleep 1
echo "ukeyd idle RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$plain_pid/status") (2 SoftHSM tokens + 1 blank slot)"

echo "== hotplug latency (umockdev: fake ePass2003 096e:0807, token behind p11-unplug)"
softhsm2-util --init-token --free --label "热插拔锁" --so-pin 5720381694026153 --pin 123456 >/dev/null
umockdev-wrapper "$build/bench/bench-hotplug" "$build/daemon/ukeyd" "$build/bench/p11-unplug.so" \
	"$top/data/ca-profiles.conf" "$top/data/known-tokens.conf" "$work" "热插拔锁" "${HOTPLUG_CYCLES:-100}"

# Each time a thread is put on a CPU counts once (schedstat's 3rd field):
# a wake-up, whatever woke it. Summed over ukeyd's threads (the loop, one
# worker per module, libusb's udev monitor).
runs() { cat /proc/"$1"/task/*/schedstat | awk '{n += $3} END {print n}'; }
idle=${IDLE_SECONDS:-60}
echo "== idle wake-ups over ${idle} s (ukeyd with hotplug on, 2 SoftHSM tokens, no client)"
sleep 2
before=$(runs "$plain_pid")
sleep "$idle"
after=$(runs "$plain_pid")
echo "ukeyd: $(( after - before )) wake-ups in ${idle} s = $(awk -v n=$(( after - before )) -v s="$idle" 'BEGIN {printf "%.2f", n / s}')/s; threads: $(ls /proc/$plain_pid/task | wc -l)"
