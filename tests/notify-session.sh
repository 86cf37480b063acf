#!/bin/bash
# Runs inside a private session bus (dbus-run-session): a monitor that
# records every message on the bus as JSON lines (busctl monitor), a real
# notification server (dunst, on $DISPLAY), then the command given (the
# agent). Usage: notify-session.sh DIR DUNSTRC COMMAND...
# Writes DIR/monitor.json, DIR/bus.pid (the bus daemon), DIR/bus.address,
# DIR/ready once all is up, DIR/agent.pid, DIR/agent.log (its stderr)
# and DIR/agent.status (its exit status) when it ends.
set -u
dir=$1 dunstrc=$2
shift 2
call() { busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus "$@"; }

stdbuf -oL busctl --user monitor --json=short >"$dir/monitor.json" 2>"$dir/monitor.err" &
monitor=$!
# The monitor is up once it records a call of ours.
for _ in $(seq 100); do
	call GetId >/dev/null 2>&1
	grep -q '"member":"GetId"' "$dir/monitor.json" && break
	sleep 0.1
done
dunst -config "$dunstrc" >"$dir/dunst.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	[ "$(call NameHasOwner s org.freedesktop.Notifications 2>/dev/null)" = "b true" ] && break
	sleep 0.1
done
call GetConnectionUnixProcessID s org.freedesktop.DBus | awk '{print $2}' >"$dir/bus.pid"
echo "$DBUS_SESSION_BUS_ADDRESS" >"$dir/bus.address"
"$@" 2>"$dir/agent.log" &
agent=$!
echo $agent >"$dir/agent.pid"
touch "$dir/ready"
wait $agent
echo $? >"$dir/agent.status"
kill $server $monitor 2>/dev/null
wait
exit 0
