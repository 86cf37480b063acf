#!/bin/bash
# COUNT CA-like SoftHSM tokens for the benchmarks, as in issue 13's
# measurements: the fixture's primary "国信CA测试主锁" (a signing and an
# encryption certificate, their key pairs, a seal) and COUNT-1 copies of it
# labeled "CA锁02", "CA锁03", ... (same objects, their own serials).
# Usage: provision-ca-tokens.sh DIR COUNT   (prints "export SOFTHSM2_CONF=...")
set -euo pipefail
dir=$(realpath -m "$1")
count=$2
top=$(cd "$(dirname "$0")/.." && pwd)
module=${SOFTHSM_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
eval "$("$top/tests/fixtures/provision-softhsm.sh" "$dir" primary)" >/dev/null
p11() { pkcs11-tool --module "$module" --token-label "$label" --login --pin 123456 "$@" \
	>/dev/null 2>"$dir/p11.err" || { cat "$dir/p11.err" >&2; exit 1; }; }
for i in $(seq 2 "$count"); do
	label=$(printf 'CA锁%02d' "$i")
	softhsm2-util --init-token --free --label "$label" --so-pin 5720381694026153 --pin 123456 \
		>/dev/null
	for id in 01 02; do
		p11 --write-object "$dir/pki/$id.der" --type cert --id "$id" --label "cert $id"
		p11 --write-object "$dir/pki/$id.key.der" --type privkey --id "$id" --label "key $id"
		p11 --write-object "$dir/pki/$id.pub.der" --type pubkey --id "$id" --label "key $id"
	done
	p11 --write-object "$dir/pki/seal.esl" --type data --label "电子签章" \
		--application-label "ukey seal"
done
echo "export SOFTHSM2_CONF=$SOFTHSM2_CONF"
