#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The catalogue matrix (tests/tools/gf-matrix.c) against the real broker, once
# over the password listener and once over TLS with certificate identities.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'broker_stop "$tmp/s"; rm -rf "$tmp"' EXIT
S=$tmp/s
site_new "$S" site1
roles="user xems foa fman fmar doms sp dms ext kpi ops"
users=()
for r in $roles; do
	for i in m1 m2; do
		users+=("$r.$i")
		add_cert "$S" "$r" "$i"
	done
done
add_password "$S" "${users[@]}"
# The matrix is about who may send what to whom; its payloads are sequence
# numbers, not messages, so payload validation (tested in gfctl_test.sh and
# plugin_test.c) is off here.
broker_start "$S" --validate off || { echo "broker did not start"; cat "$S/mosquitto.log"; exit 1; }

echo "# password listener"
"$BUILD/tests/tools/gf-matrix" -p "$LOCAL_PORT" -P "$PASSWORD" --exchange "$top/schemas/exchange.tsv" >"$tmp/pw.out"
rc_pw=$?
cat "$tmp/pw.out"
echo "# TLS listener, certificate identities"
"$BUILD/tests/tools/gf-matrix" -p "$TLS_PORT" --cafile "$S/pki/ca.crt" --certdir "$S/pki/clients" \
	--exchange "$top/schemas/exchange.tsv" >"$tmp/tls.out"
rc_tls=$?
cat "$tmp/tls.out"
for f in pw tls; do
	p=$(tail -1 "$tmp/$f.out" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	n=$(tail -1 "$tmp/$f.out" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
	passed=$((passed + ${p:-0})) failed=$((failed + ${n:-1}))
done
check "the broker logged every refused publish with a GF-ACL message id" \
	bash -c "[ \$(grep -c 'goflex: GF-ACL-[A-Z]* write denied' '$S/mosquitto.log') -gt 1000 ]"
[ $rc_pw -eq 0 ] && [ $rc_tls -eq 0 ] || failed=$((failed > 0 ? failed : 1))
broker_stop "$S"
finish
