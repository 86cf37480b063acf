#!/bin/bash
# Stress benchmark (issue: hardening): one unprivileged user (nobody)
# attacks ukeyd with everything at once, for DURATION seconds (default 60):
#  - thousands of connections held open (hold 2000),
#  - connect and hang up as fast as it can (connect-flood),
#  - pipelined refresh, 300,000 per connection, again and again,
#  - pipelined denied pin_unlock, 20,000 per connection, again and again,
#  - 12 subscribed clients that send requests and never read,
#  - 8 connections that dribble a request a byte a second,
#  - 2 connections that send lines of 240 KB of empty arrays (costly to
#    parse, were it not refused unparsed) without pause,
#  - 2 connections that send refreshes with 240 KB of a member refresh does
#    not know (held for their scan) without pause.
# Meanwhile root and another user (uid 12345) each make a fresh connection
# and a `list` ten times a second. It prints their latency p50/p99 (ms),
# ukeyd's peak resident memory and the audit log's growth, then stops.
# ukeyd runs with its defaults (ukeyd(8), LIMITS). Needs root (setpriv).
# Usage: DURATION=60 bench/stress-hostile.sh [BUILD_DIR]   (default: build-bench)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-bench}
duration=${DURATION:-60}
module=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so

[ "$(id -u)" -eq 0 ] || { echo "stress-hostile.sh needs root (it runs attackers as nobody)"; exit 1; }
"$top/scripts/install-deps.sh"
[ -f "$build/build.ninja" ] || meson setup "$build" "$top" -Dbuildtype=release -Dtests=false -Dbench=true >/dev/null
ninja -C "$build" >/dev/null
hostile=$build/bench/ukey-hostile

work=$(mktemp -d /tmp/ukey-stress.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
eval "$("$top/tests/fixtures/provision-softhsm.sh" "$work/hsm")" >/dev/null
sock=$work/ukeyd.sock

"$build/daemon/ukeyd" --socket "$sock" --state-dir "$work/state" --config /dev/null \
	--ca-profiles "$top/data/ca-profiles.conf" --known-tokens "$top/data/known-tokens.conf" \
	--module "$module" 2>"$work/ukeyd.log" &
ukeyd=$!
pids+=("$ukeyd")
for _ in $(seq 200); do
	UKEY_SOCKET=$sock "$build/tools/ukeyctl" list >/dev/null 2>&1 && break
	sleep 0.05
done
serial=$(UKEY_SOCKET=$sock "$build/tools/ukeyctl" --json list | jq -r '[.tokens[] | select(.initialized)][0].serial')
rss() { awk "/$1/ {print \$2}" "/proc/$ukeyd/status"; }
echo "== machine: $(nproc) cores, $(uname -r); ukeyd idle RSS $(rss VmRSS) kB"

as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
as_other=(setpriv --reuid=12345 --regid=12345 --clear-groups)
echo "== attack (nobody, ${duration} s): non-readers, slow lines, pipelined refresh and denied unlocks, costly lines, bloated refreshes, held connections, connect flood"
# One user's 32 connections, taken in this order so that every kind gets
# some (the connect flood comes last: it would take them all):
# 12 non-readers, 8 slow lines, 2 pipelines, 4 bursts, and the rest held.
ready() { for _ in $(seq 100); do grep -q ready "$1" 2>/dev/null && return; sleep 0.1; done; }
"${as_nobody[@]}" "$hostile" noread "$sock" 12 "$duration" >"$work/noread.out" 2>&1 &
pids+=($!)
ready "$work/noread.out"
"${as_nobody[@]}" "$hostile" slow "$sock" 8 "$duration" >"$work/slow.out" 2>&1 &
pids+=($!)
ready "$work/slow.out"
"${as_nobody[@]}" "$hostile" pipeline "$sock" '{"id":2,"method":"refresh"}' 300000 "$duration" >"$work/refresh.out" 2>&1 &
pids+=($!)
"${as_nobody[@]}" "$hostile" pipeline "$sock" \
	"{\"id\":3,\"method\":\"pin_unlock\",\"params\":{\"serial\":\"$serial\",\"so_pin\":\"5720381694026153\"}}" \
	20000 "$duration" >"$work/unlock.out" 2>&1 &
pids+=($!)
"${as_nobody[@]}" "$hostile" burst "$sock" 2 0 240000 "$duration" \
	'{"id":2,"method":"list","params":{"x":[%a]}}' >"$work/costly.out" 2>&1 &
pids+=($!)
"${as_nobody[@]}" "$hostile" burst "$sock" 2 0 240000 "$duration" \
	'{"id":2,"method":"refresh","params":{"x":"%c"}}' >"$work/bloat.out" 2>&1 &
pids+=($!)
sleep 1
"${as_nobody[@]}" "$hostile" hold "$sock" 2000 "$duration" >"$work/hold.out" 2>&1 &
pids+=($!)
ready "$work/hold.out"
"${as_nobody[@]}" "$hostile" connect-flood "$sock" "$duration" >"$work/flood.out" 2>&1 &
pids+=($!)
sleep 1
measure=$((duration - 2))
"$hostile" latency "$sock" "$measure" >"$work/root.out" 2>"$work/root.err" &
root=$!
"${as_other[@]}" "$hostile" latency "$sock" "$measure" >"$work/other.out" 2>"$work/other.err" &
other=$!
peak=0
while kill -0 "$root" 2>/dev/null; do
	now=$(rss VmRSS)
	[ "$now" -gt "$peak" ] && peak=$now
	sleep 0.5
done
wait "$root" "$other" || true
for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
kill -0 "$ukeyd" || { echo "ukeyd died"; exit 1; }

echo "== results"
echo "root      list (connect + hello + list): $(cat "$work/root.out")"
echo "uid 12345 list (connect + hello + list): $(cat "$work/other.out")"
echo "ukeyd RSS: peak sampled $peak kB, VmHWM $(rss VmHWM) kB (bound: 64 MB)"
echo "attackers: hold: $(tr '\n' ' ' <"$work/hold.out"); flood: $(cat "$work/flood.out"); refresh: $(cat "$work/refresh.out"); unlock: $(cat "$work/unlock.out")"
echo "           noread: $(tr '\n' ' ' <"$work/noread.out"); slow: $(tr '\n' ' ' <"$work/slow.out")"
echo "           costly lines: $(tr '\n' ' ' <"$work/costly.out"); held bloated refreshes: $(tr '\n' ' ' <"$work/bloat.out")"
kill -TERM "$ukeyd" && wait "$ukeyd" || true # the counts of refusals are written at exit
echo "audit.log: $(wc -l <"$work/state/audit.log") entries for $(jq -s 'map(.count // 1) | add' "$work/state/audit.log") refusals"
echo "ukeyd exited cleanly after the attack"
