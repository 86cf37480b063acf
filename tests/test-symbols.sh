#!/bin/bash
# libukey exports exactly the symbols lib/libukey.sym lists. TAP.
set -euo pipefail
lib=$1 sym=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u)
listed=$(grep -oE '^\s+ukey_[a-z0-9_]+;' "$sym" | tr -d ' \t;' | sort -u)
echo "1..2"
if [ "$exported" = "$listed" ]; then echo "ok 1 - exported symbols match libukey.sym"
else echo "not ok 1 - exported symbols differ from libukey.sym"; diff <(echo "$listed") <(echo "$exported") | sed 's/^/# /'; fi
hdr=$(dirname "$sym")/../include/ukey/ukey.h
missing=$(for s in $listed; do grep -q "\b$s(" "$hdr" || echo "$s"; done)
if [ -z "$missing" ]; then echo "ok 2 - every exported symbol is declared in ukey.h"
else echo "not ok 2 - not in ukey.h: $missing"; fi
