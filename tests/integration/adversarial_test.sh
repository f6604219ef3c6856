#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The real mosquitto with our plugin over TLS and the password listener,
# against the attempts a hostile or confused client makes (issue 2's list).
# Each case asserts what the client sees and the log line's message id.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

site_tmp site1
add_password "$S" foa.7-PRE-001 foa.7-PRE-002 fman.f1 fman.f2 ops.alice sp.sp1 kpi.k1
for who in "foa 7-PRE-001" "foa 7-PRE-002" "foa 7-PRE-003" "fman f1" "ops watch"; do
	add_cert "$S" $who
done
broker_start "$S" || { echo "broker did not start"; cat "$S/mosquitto.log"; exit 1; }

A=gf/site1/foa/7-PRE-001/fman/all/flexoffer

# --- connecting --------------------------------------------------------------
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001)
check "password identity is admitted" has "$out" "CONNACK 0"
out=$("$PROBE" -p "$LOCAL_PORT" -u foa.7-PRE-001 -P wrong -i foa.7-PRE-001)
check "a wrong password is refused" has "$out" "CONNACK 135"
out=$("$PROBE" -p "$LOCAL_PORT" -i foa.7-PRE-001)
check "no username, no certificate: refused" has "$out" "CONNACK 135"
check "... with GF-AUTH-NOUSER" logged "$S" GF-AUTH-NOUSER "client 'foa.7-PRE-001'"
for u in bogus.x foa.all foa 'foa.a+b' 'foa.a#b' 'foa.a/b' 'foa:x' 'foa.a:b'; do
	out=$(probe_pw "$u" "$u")
	check "username '$u' is refused" has "$out" "CONNACK 135"
	check "... with GF-AUTH-USER" logged "$S" GF-AUTH-USER "identity '$u'"
done
out=$(probe_pw foa.7-PRE-002 foa.7-PRE-001)
check "a client id of another identity is refused" has "$out" "CONNACK 135"
check "... with GF-AUTH-CLIENTID" logged "$S" GF-AUTH-CLIENTID "client 'foa.7-PRE-001'"
out=$(probe_pw foa.7-PRE-002 foa.7-PRE-002@tool)
check "a client id with an @suffix is admitted" has "$out" "CONNACK 0"
out=$(probe_tls "$S" foa 7-PRE-001 foa.7-PRE-001)
check "certificate identity is admitted over TLS" has "$out" "CONNACK 0"
check "... and logged GF-AUTH-OK" logged "$S" GF-AUTH-OK "foa.7-PRE-001"
out=$(probe_tls "$S" foa 7-PRE-001 fman.f1)
check "certificate client with another identity's client id is refused" has "$out" "CONNACK 135"

# Certificates the site CA signed with the wrong site or role.
mkcert() { # SUBJECT NAME
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/$2.key" -subj "$1" -out "$tmp/$2.csr" 2>/dev/null
	openssl x509 -req -in "$tmp/$2.csr" -CA "$S/pki/ca.crt" -CAkey "$S/pki/ca.key" \
		-CAcreateserial -days 1 -out "$tmp/$2.crt" 2>/dev/null
}
tls_with() { # NAME CLIENTID
	"$PROBE" -p "$TLS_PORT" -h localhost --cafile "$S/pki/ca.crt" --cert "$tmp/$1.crt" \
		--key "$tmp/$1.key" -i "$2"
}
mkcert "/O=site2/OU=foa/CN=x1" othersite
out=$(tls_with othersite foa.x1)
check "certificate of another site is refused" has "$out" "CONNACK 135"
check "... with GF-AUTH-SITE" logged "$S" GF-AUTH-SITE "client 'foa.x1'"
mkcert "/O=site1/OU=bogus/CN=x2" badrole
out=$(tls_with badrole bogus.x2)
check "certificate with an unknown role is refused" has "$out" "CONNACK 135"
check "... with GF-AUTH-ROLE" logged "$S" GF-AUTH-ROLE "client 'bogus.x2'"
mkcert "/O=site1/OU=foa/OU=ops/CN=x3" tworoles
out=$(tls_with tworoles foa.x3)
check "certificate with two roles is refused" has "$out" "CONNACK 135"
check "... with GF-AUTH-CERT" logged "$S" GF-AUTH-CERT "client 'foa.x3'"
mkdir -p "$tmp/other"
"$CERTS" init -d "$tmp/other" --site site1 >/dev/null
"$CERTS" client -d "$tmp/other" --role foa --id 7-PRE-001 >/dev/null
out=$("$PROBE" -p "$TLS_PORT" -h localhost --cafile "$S/pki/ca.crt" \
	--cert "$tmp/other/clients/foa.7-PRE-001.crt" --key "$tmp/other/clients/foa.7-PRE-001.key" \
	-i foa.7-PRE-001)
check "certificate from another CA fails the TLS handshake" lacks "$out" "CONNACK 0"

# --- publishing --------------------------------------------------------------
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:gf/site1/foa/7-PRE-002/fman/all/flexoffer=x")
check "spoofed sender levels: PUBACK not authorized" has "$out" "PUBACK gf/site1/foa/7-PRE-002/fman/all/flexoffer 135"
check "... with GF-ACL-SPOOF" logged "$S" GF-ACL-SPOOF "topic 'gf/site1/foa/7-PRE-002/fman/all/flexoffer'"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:gf/site2/foa/7-PRE-001/fman/all/flexoffer=x")
check "another site's tree: refused" has "$out" "PUBACK gf/site2/foa/7-PRE-001/fman/all/flexoffer 135"
check "... with GF-ACL-SITE" logged "$S" GF-ACL-SITE "topic 'gf/site2/"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:gf/site1/foa/7-PRE-001/doms/all/offer.feedback=x")
check "private message to a non-pool 'all': refused" has "$out" "PUBACK gf/site1/foa/7-PRE-001/doms/all/offer.feedback 135"
check "... with GF-ACL-ADDR" logged "$S" GF-ACL-ADDR "offer.feedback"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:gf/site1/foa/7-PRE-001/sp/all/weather.forecast=x")
check "message outside the catalogue: refused" has "$out" "PUBACK gf/site1/foa/7-PRE-001/sp/all/weather.forecast 135"
check "... with GF-ACL-NOROW" logged "$S" GF-ACL-NOROW "gf/site1/foa/7-PRE-001/sp/all/weather.forecast"
out=$(probe_pw ops.alice ops.alice "pub:gf/site1/ops/alice/ops/all/status=x")
check "ops may not publish" has "$out" "PUBACK gf/site1/ops/alice/ops/all/status 135"
check "... with GF-ACL-READONLY" logged "$S" GF-ACL-READONLY "identity 'ops.alice'"
out=$(probe_pw sp.sp1 sp.sp1 "pub:gf/site1/ops/broker/ops/all/audit=forged")
check "nobody forges the audit feed" has "$out" "PUBACK gf/site1/ops/broker/ops/all/audit 135"
long=$(printf 'a%.0s' $(seq 1 100))
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:gf/site1/foa/$long/fman/all/flexoffer=x")
check "over-long id level: refused" has "$out" "PUBACK gf/site1/foa/$long/fman/all/flexoffer 135"
check "... with GF-ACL-TOPIC" logged "$S" GF-ACL-TOPIC "invalid sender levels"
huge="$A/$(printf 'x%.0s' $(seq 1 10000))"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:$huge=x")
check "10 kB topic: refused" has "$out" "PUBACK $huge 135"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "raw:$(printf '%s' "gf/site1/foa/7-PRE-001/fman/all/" | od -An -tx1 | tr -d ' \n')ff66")
check "non-UTF-8 topic: the broker closes the connection" has "$out" "RAW CLOSED"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:\$CONTROL/dynamic-security/v1=x")
check "\$CONTROL publish: refused" has "$out" "PUBACK \$CONTROL/dynamic-security/v1 135"

# --- subscribing ---------------------------------------------------------------
for f in '#' '+/+/#' '+/site1/#'; do
	out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "sub:$f")
	check "subscription '$f' is refused" has "$out" "SUBACK $f 135"
done
# Other sites' trees may be subscribed to (cross-site reading, SPEC section
# 4): every delivery is checked, and their private rows are never delivered
# (tests/integration/kpi_sites_test.sh).
for f in 'gf/#' 'gf/+/#' 'gf/site2/#'; do
	out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "sub:$f")
	check "subscription '$f' is granted" has "$out" "SUBACK $f 1"
done
check "... with GF-ACL-FILTER" logged "$S" GF-ACL-FILTER "topic '+/+/#'"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 'sub:$SYS/#')
check "\$SYS for a non-ops identity: refused" has "$out" "SUBACK \$SYS/# 135"
check "... with GF-ACL-SYS" logged "$S" GF-ACL-SYS "identity 'foa.7-PRE-001'"
out=$(probe_pw ops.alice ops.alice 'sub:$SYS/broker/version' wait:300)
check "\$SYS for ops: granted and delivered" has "$out" "SUBACK \$SYS/broker/version 1"
check "... the version arrives" grep -q '^MSG \$SYS/broker/version mosquitto' <<<"$out"
out=$(probe_pw ops.alice ops.alice 'sub:$CONTROL/#')
check "\$CONTROL subscription: refused even for ops" has "$out" "SUBACK \$CONTROL/# 135"
out=$(probe_pw foa.7-PRE-002 foa.7-PRE-002 "sub:gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign")
check "exact subscription to another's private topic: refused" has "$out" "SUBACK gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign 135"
check "... with GF-ACL-NOTADDR" logged "$S" GF-ACL-NOTADDR "identity 'foa.7-PRE-002'"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 'sub:$share//gf/site1/#')
check "shared subscription with an empty group: refused" grep -q 'SUBACK \$share//gf/site1/# \(135\|local-error\)' <<<"$out"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 'sub:$share/g/#' 'sub:$share/g')
check "shared subscription outside the site: refused" has "$out" "SUBACK \$share/g/# 135"
check "shared subscription without a filter: refused" has "$out" "SUBACK \$share/g 135"
check "... with GF-ACL-SHARE" logged "$S" GF-ACL-SHARE "topic '\$share/g'"

# --- delivery ------------------------------------------------------------------
# Another instance of the addressee's role, subscribed to everything it may ask
# for, directly and through a shared subscription, over TLS and MQTT 3.1.1.
# Each listens 6 s from its SUBACKs (2.5 s was too short for the publishes
# below on a loaded machine); the publishes come after all the SUBACKs.
probe_tls "$S" foa 7-PRE-002 foa.7-PRE-002 sub:gf/site1/# 'sub:$share/g/gf/site1/+/+/foa/+/+' wait:6000 >"$tmp/eve.out" &
"$PROBE" -V 311 -p "$LOCAL_PORT" -u foa.7-PRE-002 -P "$PASSWORD" -i foa.7-PRE-002@v3 sub:gf/site1/# wait:6000 >"$tmp/eve3.out" &
probe_tls "$S" foa 7-PRE-001 foa.7-PRE-001 sub:gf/site1/# wait:6000 >"$tmp/alice.out" &
probe_pw ops.alice ops.alice sub:gf/site1/# wait:6000 >"$tmp/ops.out" &
for f in eve:2 eve3:1 alice:1 ops:1; do
	wait_for 5 subacked "$tmp/${f%:*}.out" "${f#*:}" || echo "# $f: not subscribed"
done
out=$(probe_tls "$S" fman f1 fman.f1 "pub:gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign=$(assign_json for-001)" \
	"pub:gf/site1/fman/f1/foa/7-PRE-001/flexoffer.ack=$(ack_json ack-001)")
check "fman's assignment to one FOA is accepted" has "$out" "PUBACK gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign 0"
out=$(probe_pw sp.sp1 sp.sp1 "pub:gf/site1/sp/sp1/all/all/weather.forecast=$(forecast_json sunny)")
check "a public feed to role 'all' is accepted" has "$out" "PUBACK gf/site1/sp/sp1/all/all/weather.forecast 0"
wait
check "the addressee receives its assignment" grep -q '^MSG gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign .*for-001' "$tmp/alice.out"
check "another FOA (TLS, wildcard and \$share) receives none of it" bash -c "! grep -q 'for-001\|ack-001' '$tmp/eve.out'"
check "another FOA over MQTT 3.1.1 receives none of it" bash -c "! grep -q 'for-001\|ack-001' '$tmp/eve3.out'"
check "ops does not read private flows" bash -c "! grep -q 'for-001' '$tmp/ops.out'"
check "the public forecast reaches the FOA" grep -q 'weather.forecast .*sunny' "$tmp/eve.out"
check "the public forecast reaches ops" grep -q 'weather.forecast .*sunny' "$tmp/ops.out"

# A private retained message and a later subscriber of another identity.
probe_pw fman.f1 fman.f1 "rpub:gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign=$(assign_json retained-001)" >/dev/null
out=$(probe_pw foa.7-PRE-002 foa.7-PRE-002 sub:gf/site1/# 'sub:gf/site1/fman/+/foa/+/flexoffer.assign' wait:400)
check "a later subscriber of another identity gets no private retained message" lacks "$out" "retained-001"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 sub:gf/site1/# wait:400)
check "the addressee gets it" grep -q '^MSG gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign .*retained-001' <<<"$out"

# A shared subscription in the FMAN pool: each offer reaches exactly one FMAN.
# (listening 8 s: a loaded run's 20 publishes came after a 2 s window closed)
probe_pw fman.f1 fman.f1 'sub:$share/pool/gf/site1/foa/+/fman/all/flexoffer' wait:8000 >"$tmp/f1.out" &
probe_pw fman.f2 fman.f2 'sub:$share/pool/gf/site1/foa/+/fman/all/flexoffer' wait:8000 >"$tmp/f2.out" &
wait_for 5 subacked "$tmp/f1.out" 1 && wait_for 5 subacked "$tmp/f2.out" 1 || echo "# the pool is not subscribed"
args=()
for n in $(seq 1 20); do args+=("pub:$A=$(offer_json "offer-$n")"); done
probe_pw foa.7-PRE-001 foa.7-PRE-001 "${args[@]}" >/dev/null
wait
got=$(cat "$tmp/f1.out" "$tmp/f2.out" | grep -c '^MSG .*offer-')
check "20 pooled offers reach the FMAN pool exactly once each ($got)" test "$got" -eq 20

# --- persistent sessions --------------------------------------------------------
probe_pw foa.7-PRE-001 foa.7-PRE-001 -c sub:gf/site1/# >/dev/null 2>&1 || true
"$PROBE" -p "$LOCAL_PORT" -u foa.7-PRE-001 -P "$PASSWORD" -i foa.7-PRE-001 -c sub:gf/site1/# >/dev/null
probe_pw fman.f1 fman.f1 "pub:gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign=$(assign_json queued-001)" >/dev/null
out=$("$PROBE" -p "$LOCAL_PORT" -u foa.7-PRE-002 -P "$PASSWORD" -i foa.7-PRE-001 -c wait:300)
check "another identity cannot resume the session (and its queue)" has "$out" "CONNACK 135"
out=$("$PROBE" -p "$LOCAL_PORT" -u foa.7-PRE-001 -P "$PASSWORD" -i foa.7-PRE-001 -c wait:500)
check "the owner resumes it and gets the queued message" grep -q '^MSG gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign .*queued-001' <<<"$out"

# --- revocation and reload ---------------------------------------------------------
# (connected for 10 s: a loaded run's revocation and reload outlasted 3 s)
probe_tls "$S" foa 7-PRE-003 foa.7-PRE-003 sub:gf/site1/# wait:10000 >"$tmp/rev.out" &
wait_for 5 subacked "$tmp/rev.out" 1 || echo "# foa.7-PRE-003 is not connected"
"$CERTS" revoke -d "$S/pki" --role foa --id 7-PRE-003 >/dev/null
broker_reload "$S"
wait
check "a connected client whose certificate is revoked is disconnected on SIGHUP" logged "$S" GF-AUTH-REVOKED "foa.7-PRE-003"
check "... and sees the disconnect" grep -q '^DISCONNECT' "$tmp/rev.out"
out=$(probe_tls "$S" foa 7-PRE-003 foa.7-PRE-003)
check "a revoked certificate cannot connect" lacks "$out" "CONNACK 0"

# --- the audit feed ---------------------------------------------------------------
probe_pw ops.alice ops.alice sub:gf/site1/ops/broker/ops/all/audit wait:5000 >"$tmp/audit.out" &
wait_for 5 subacked "$tmp/audit.out" 1 || echo "# ops is not subscribed to the audit feed"
probe_pw foa.7-PRE-001 foa.7-PRE-001 "pub:gf/site1/foa/7-PRE-002/fman/all/flexoffer=$(offer_json SECRET-PAYLOAD)" >/dev/null
wait
check "ops sees the refusal on the audit feed" grep -q '"msgid":"GF-ACL-SPOOF"' "$tmp/audit.out"
check "... naming the topic" grep -q '"topic":"gf/site1/foa/7-PRE-002/fman/all/flexoffer"' "$tmp/audit.out"
check "... without the payload" bash -c "! grep -q SECRET-PAYLOAD '$tmp/audit.out'"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 sub:gf/site1/ops/broker/ops/all/audit)
check "only ops reads the audit feed" has "$out" "SUBACK gf/site1/ops/broker/ops/all/audit 135"
check "no payload ever reaches the log" bash -c "! grep -q SECRET-PAYLOAD '$S/mosquitto.log'"

broker_stop "$S"
finish
