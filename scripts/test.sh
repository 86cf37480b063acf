#!/bin/bash
# The whole test suite: installs what is missing, builds with warnings as
# errors, runs every test, then builds again with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs every test once more.
# The last line is the count over both runs: "N passed, N failed, N skipped".
#   scripts/test.sh              both builds
#   scripts/test.sh --no-asan    the plain build only (quicker while developing)
#   scripts/test.sh --no-packages   without the Debian package test
# The Debian package test (scripts/test-packages.sh: build the .debs,
# lintian, apt-get install, run, purge) runs last, as root, and is counted.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
asan=true packages=true
for arg in "$@"; do
	case $arg in
	--no-asan) asan=false ;;
	--no-packages) packages=false ;;
	esac
done

"$top/scripts/install-deps.sh" || { echo "installing dependencies failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

builds=("build-test:-Dwerror=true")
$asan && builds+=("build-asan:-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug")

status=0
for spec in "${builds[@]}"; do
	dir=$top/${spec%%:*}
	opts=${spec#*:}
	echo "=== $(basename "$dir"): meson setup $opts"
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$dir" "$top" $opts >/dev/null || { status=1; continue; }
	fi
	ninja -C "$dir" || { status=1; continue; }
	meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
done

# Count subtests from the TAP every test prints; a test that failed
# without saying which subtest (a crash, a timeout) counts as one failure.
pass=0 fail=0 skip=0
for spec in "${builds[@]}"; do
	log=$top/${spec%%:*}/meson-logs/testlog.json
	[ -f "$log" ] || { fail=$((fail + 1)); continue; }
	read -r p f s < <(jq -rs '
	  map(.stdout // "" | split("\n")) as $outs
	  | [ .[] | . as $t | ($t.stdout // "" | split("\n")) as $l
	      | { pass: ([$l[] | select(test("^ok [0-9]+") and (test("# SKIP") | not))] | length),
	          fail: ([$l[] | select(test("^not ok [0-9]+"))] | length),
	          skip: ([$l[] | select(test("^ok [0-9]+.*# SKIP|^1\\.\\.0 # SKIP"))] | length),
	          bad: ($t.result | IN("OK", "SKIP", "EXPECTEDFAIL") | not) } ]
	  | [ (map(.pass) | add), (map(if .bad and .fail == 0 then 1 else .fail end) | add),
	      (map(.skip) | add) ] | @tsv' "$log")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	jq -r '.name as $n | (.stdout // "") + "\n" + (.stderr // "") | split("\n")[]
	       | select(test("SKIP")) | "  skipped in \($n): \(.)"' "$log" | sort -u
done
if $packages; then
	echo "=== Debian packages: scripts/test-packages.sh"
	mkdir -p "$top/build-packages"
	"$top/scripts/test-packages.sh" "$top/build-packages" | tee "$top/build-packages/tap.txt"
	tap=$top/build-packages/tap.txt
	p=$(grep -E '^ok [0-9]+' "$tap" | grep -cv '# SKIP')
	s=$(grep -cE '^ok [0-9]+.*# SKIP|^1\.\.0 # SKIP' "$tap")
	f=$(grep -cE '^not ok [0-9]+' "$tap")
	planned=$(sed -n 's/^1\.\.\([1-9][0-9]*\)$/\1/p' "$tap" | head -1)
	# A run that stopped short of its plan failed where it stopped.
	[ -n "$planned" ] && [ $((p + s + f)) -lt "$planned" ] && f=$((f + 1))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	grep -E '# SKIP' "$tap" | sed 's/^/  skipped in packages: /'
fi
[ $fail -gt 0 ] && status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
