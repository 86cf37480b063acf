#!/bin/bash
# Runs a cmocka test and passes its TAP on, with one fix: cmocka 1.1.5
# prints a skipped test as "not ok N # SKIP", which TAP readers (meson)
# count as a failure; TAP means "ok N # SKIP". The exit status is the test's.
set -o pipefail
"$@" | sed -u 's/^not ok \([0-9][0-9]*\) # SKIP/ok \1 # SKIP/'
