#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gfctl against the real mosquitto with our plugin (issue 3, item 5, and the
# issue's integration test of payload validation): help and usage, validate
# on the pilot FlexOffers, the three encodings end to end, the broker's
# refusal of an invalid payload, sealed payloads, undecodable payloads,
# presence, TLS and password connections and their failures.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

GFCTL=$BUILD/bin/gfctl
SAMPLES=$top/../shared/fixtures/goflex-samples
FO=$SAMPLES/SampleFO_Cyprus.json
[ -x "$GFCTL" ] || { echo "no $GFCTL (run make)"; exit 1; }
[ -r "$FO" ] || { echo "no pilot samples in $SAMPLES"; exit 1; }

tmp=$(mktemp -d)
trap 'broker_stop "$tmp/s"; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
S=$tmp/s
export GFCTL_PASSWORD=$PASSWORD

# gf_pw ROLE.ID ARGS...: gfctl over the password listener.
gf_pw() {
	local id=$1; shift
	"$GFCTL" --port "$LOCAL_PORT" --id "$id" "$@"
}
# gf_tls ROLE ID ARGS...: gfctl with the identity's certificate.
gf_tls() {
	local role=$1 id=$2; shift 2
	"$GFCTL" --port "$TLS_PORT" --cafile "$S/pki/ca.crt" \
		--cert "$S/pki/clients/$role.$id.crt" --key "$S/pki/clients/$role.$id.key" "$@"
}
# subscribed FILE: waits (5 s at most) for gfctl -v's subscription line.
subscribed() {
	for _ in $(seq 1 100); do
		grep -q GFCTL-SUBSCRIBED "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# no subscription in $1:"; sed 's/^/#   /' "$1"
	return 1
}
# lines FILE N: FILE has exactly N lines.
lines() { [ "$(wc -l <"$1")" -eq "$2" ]; }
# jqf [JQ OPTIONS] FILTER FILE: jq -e on every line of FILE.
jqf() { jq -e "$@" >/dev/null; }
# jqs FILTER TEXT: jq -e on TEXT.
jqs() { jq -e "$1" <<<"$2" >/dev/null; }

# --- the command line ---------------------------------------------------------
out=$("$GFCTL" --help); rc=$?
check "--help exits 0" [ $rc -eq 0 ]
for c in sub pub validate decode presence; do
	check "--help names '$c'" grep -q "gfctl $c" <<<"$out"
	"$GFCTL" "$c" --help >"$tmp/help.out"; rc=$?
	check "'gfctl $c --help' exits 0" eq $rc 0
	check "... with its usage" grep -q "^Usage: gfctl $c" "$tmp/help.out"
done
check "--version" grep -q '^gfctl [0-9]' <<<"$("$GFCTL" --version)"
"$GFCTL" >/dev/null 2>&1; rc=$?
check "no command: usage error, exit 2" [ $rc -eq 2 ]
"$GFCTL" frobnicate 2>/dev/null; rc=$?
check "unknown command: exit 2" [ $rc -eq 2 ]
"$GFCTL" validate flexoffer "$FO" --count 3 2>"$tmp/err"; rc=$?
check "an option of another command: exit 2" [ $rc -eq 2 ]
check "... naming it" grep -q -- '--count is not an option' "$tmp/err"
"$GFCTL" pub gf/site1/foa/x/fman/all/flexoffer 2>/dev/null; rc=$?
check "missing argument: exit 2" [ $rc -eq 2 ]
"$GFCTL" sub --port "$(free_port)" 'gf/site1/#' 2>"$tmp/err"; rc=$?
check "no identity: exit 2" [ $rc -eq 2 ]
check "... saying what to give" grep -q -- '--id' "$tmp/err"

# --- validate (no broker) --------------------------------------------------------
for f in SampleFO_Cyprus SampleFO_SWW SampleFO_Swiss; do
	out=$("$GFCTL" validate flexoffer "$SAMPLES/$f.json"); rc=$?
	check "validate: pilot $f is valid" eq "$rc $out" "0 valid"
done
sed 's/"upper": 0.5354/"upper": "lots"/' "$FO" >"$tmp/bad.json"
check "the broken copy differs from the sample" eq "$(grep -c '"lots"' "$tmp/bad.json")" 1
out=$("$GFCTL" validate flexoffer "$tmp/bad.json"); rc=$?
check "validate: a broken copy is invalid (exit 1)" [ $rc -eq 1 ]
check "... naming the field path" has "$out" \
	"invalid: flexOfferProfileConstraints[0].energyConstraintList[0].upper: expected a number"
sed 's/"upper": 0.5354/"upper": -3/' "$FO" >"$tmp/bounds.json"
out=$("$GFCTL" validate flexoffer - <"$tmp/bounds.json"); rc=$?
check "validate: lower > upper (stdin) is invalid" eq $rc 1
check "... with the path" grep -q '^invalid: flexOfferProfileConstraints\[0\].energyConstraintList\[0\]' <<<"$out"
out=$("$GFCTL" validate flexoffer "$FO" --as msgpack); rc=$?
check "validate: JSON text read as msgpack is invalid" [ $rc -eq 1 ]
out=$("$GFCTL" validate no.such.msg "$FO"); rc=$?
check "validate: unknown message type" eq "$rc $out" "1 invalid: no schema for message type 'no.such.msg'"

# --- decode (no broker) ----------------------------------------------------------
out=$("$GFCTL" decode flexoffer "$FO"); rc=$?
check "decode: a pilot offer prints as one line of canonical JSON" eq "$rc $(wc -l <<<"$out")" "0 1"
check "... with its fields" jqs '.flexOfferProfileConstraints[0].energyConstraintList[0].upper == 0.5354' "$out"
check "... and its times in RFC 3339" jqs '.creationTime | test("Z$")' "$out"
check "... which validate takes" eq "$("$GFCTL" validate flexoffer - <<<"$out")" valid
# xems.cancel {flexOfferId: "o-1", scheduleId: 7, reason: "away"} as protobuf bytes
printf '\x0a\x03o-1\x10\x07\x22\x04away' >"$tmp/cancel.pb"
out=$("$GFCTL" decode xems.cancel "$tmp/cancel.pb" --as protobuf); rc=$?
check "decode --as protobuf" eq "$rc $out" '0 {"flexOfferId":"o-1","scheduleId":7,"reason":"away"}'
out=$("$GFCTL" decode xems.cancel - --as protobuf <"$tmp/bad.json"); rc=$?
check "decode: text read as protobuf is invalid (exit 1)" eq "$rc $(cut -c1-9 <<<"$out")" "1 invalid: "
out=$("$GFCTL" decode flexoffer "$tmp/bad.json"); rc=$?
check "decode: a broken copy is invalid, with the path" eq "$rc $out" \
	"1 invalid: flexOfferProfileConstraints[0].energyConstraintList[0].upper: expected a number"
out=$("$GFCTL" decode no.such.msg "$FO"); rc=$?
check "decode: unknown message type" eq "$rc $out" "1 invalid: no schema for message type 'no.such.msg'"
"$GFCTL" decode meter.reading "$FO" --as jose 2>"$tmp/err"; rc=$?
check "decode --as jose: a usage error (exit 2), saying why" eq "$rc $(grep -c "Service Platform's key" "$tmp/err")" "2 1"

# --- a site ----------------------------------------------------------------------
site_new "$S" site1
add_password "$S" foa.7-PRE-001 fman.f1 ops.alice dms.d1 sp.sp1
for who in "fman f1" "ops watch" "foa 7-PRE-001"; do add_cert "$S" $who; done
broker_start "$S" || { echo "broker did not start"; cat "$S/mosquitto.log"; exit 1; }
FOT=gf/site1/foa/7-PRE-001/fman/f1/flexoffer

# --- connections -----------------------------------------------------------------
out=$(gf_pw ops.alice sub '$SYS/broker/version' --count 1 --timeout 5); rc=$?
check "password connection, \$SYS for ops (exit 0)" eq $rc 0
check "... the payload as a string" jqs '.payload | startswith("mosquitto version")' "$out"
check "... a topic outside gf/ has no sender" jqs 'has("sender") | not' "$out"
GFCTL_PASSWORD=not-$PASSWORD gf_pw ops.alice sub 'gf/site1/#' --timeout 1 >/dev/null 2>"$tmp/err"; rc=$?
check "wrong password: exit 1" [ $rc -eq 1 ]
check "... a clear refusal with reason code and name" \
	grep -q 'GFCTL-CONNECT connection refused by .*: 0x87 not authorized (identity ops.alice)' "$tmp/err"
check "... never the password" lacks "$(cat "$tmp/err")" "$PASSWORD"
printf '%s\n' "$PASSWORD" >"$tmp/pw"
out=$(env -u GFCTL_PASSWORD "$GFCTL" --port "$LOCAL_PORT" --id ops.alice --password-file "$tmp/pw" \
	sub '$SYS/broker/version' --count 1 --timeout 5); rc=$?
check "--password-file works" eq "$rc $(jq -r .topic <<<"$out")" "0 \$SYS/broker/version"
env -u GFCTL_PASSWORD "$GFCTL" --port "$LOCAL_PORT" --id ops.alice sub x 2>"$tmp/err"; rc=$?
check "no password at all: exit 2" eq $rc 2
check "... saying where to put it" grep -q GFCTL_PASSWORD "$tmp/err"
out=$(gf_tls ops watch sub '$SYS/broker/version' --count 1 --timeout 5); rc=$?
check "TLS with a certificate (identity from the certificate)" eq "$rc $(jq -r .topic <<<"$out")" "0 \$SYS/broker/version"
gf_tls ops watch --id ops.alice sub x 2>"$tmp/err"; rc=$?
check "--id other than the certificate's: exit 2" eq $rc 2
check "... saying so" grep -q 'does not match the certificate' "$tmp/err"
mkdir -p "$tmp/other"
"$CERTS" init -d "$tmp/other" --site site1 >/dev/null
"$GFCTL" --port "$TLS_PORT" --cafile "$tmp/other/ca.crt" --cert "$S/pki/clients/ops.watch.crt" \
	--key "$S/pki/clients/ops.watch.key" sub x 2>"$tmp/err"; rc=$?
check "TLS against a CA that did not sign the broker: exit 1" eq $rc 1
check "... a TLS failure, with OpenSSL's reason" grep -q 'TLS failure .*certificate verify failed' "$tmp/err"
gf_pw fman.f1 sub '+/site1/#' --timeout 1 2>"$tmp/err"; rc=$?
check "refused subscription: exit 1" eq $rc 1
check "... naming the filter and reason" grep -q "subscription '+/site1/#' refused: 0x87 not authorized" "$tmp/err"

# --- one FlexOffer in three encodings reaches its addressee as the same JSON ---------
gf_tls fman f1 -v sub 'gf/site1/+/+/fman/f1/#' --count 3 --timeout 15 >"$tmp/fman.out" 2>"$tmp/fman.err" &
subpid=$!
subscribed "$tmp/fman.err"
for as in json protobuf msgpack; do
	out=$(gf_pw foa.7-PRE-001 pub "$FOT" "@$FO" --as "$as"); rc=$?
	check "pub --as $as: published" eq "$rc $out" "0 published"
done
wait $subpid; rc=$?
check "the fman's gfctl sub (TLS) exited 0" eq $rc 0
check "... with three lines" lines "$tmp/fman.out" 3
check "... each one JSON" jqf . "$tmp/fman.out"
check "... in the three Content Types" eq "$(jq -r .contentType "$tmp/fman.out" | tr '\n' ' ')" \
	"application/json application/x-protobuf application/msgpack "
check "... with sender, addressee and msg" \
	eq "$(jq -r '[.sender, .to, .msg] | join(" ")' "$tmp/fman.out" | sort -u)" "foa.7-PRE-001 fman.f1 flexoffer"
check "... and the same payload JSON each time" eq "$(jq -cS .payload "$tmp/fman.out" | sort -u | wc -l)" 1
check "... which is the pilot offer" jqf '.payload.offeredById == "7500001" and
	.payload.flexOfferProfileConstraints[0].energyConstraintList[0].upper == 0.5354 and
	.payload.creationTime == "2020-02-27T20:15:00Z"' "$tmp/fman.out"
out=$(gf_pw foa.7-PRE-001 pub "$FOT" - <"$FO"); rc=$?
check "pub reads JSON from stdin" eq "$rc $out" "0 published"

# --- an invalid FlexOffer is refused by the broker and reaches nobody ----------------
# (mosquitto 2.0.x sends 0x87 for any plugin refusal, not 0x99: broker-plugin/gate.c)
gf_pw fman.f1 -v sub 'gf/site1/+/+/fman/#' --timeout 4 >"$tmp/inv.out" 2>"$tmp/inv.err" &
subpid=$!
gf_pw ops.alice -v sub 'gf/site1/#' --timeout 4 >"$tmp/inv-ops.out" 2>"$tmp/inv-ops.err" &
opspid=$!
subscribed "$tmp/inv.err"
subscribed "$tmp/inv-ops.err"
gf_pw foa.7-PRE-001 pub "$FOT" "@$tmp/bad.json" 2>"$tmp/err"; rc=$?
check "pub refuses an invalid offer locally (exit 1)" [ $rc -eq 1 ]
check "... naming the field path" grep -q 'GFCTL-INVALID .*flexOfferProfileConstraints\[0\].energyConstraintList\[0\].upper: expected a number' "$tmp/err"
for as in json msgpack; do
	out=$(gf_pw foa.7-PRE-001 pub "$FOT" "@$tmp/bad.json" --raw --as "$as"); rc=$?
	check "pub --raw --as $as: the broker refuses it with 0x87 (exit 1)" \
		eq "$rc $out" "1 refused: 0x87 not authorized"
done
check "... and logs GF-PAYLOAD-INVALID with the field path" logged "$S" GF-PAYLOAD-INVALID \
	"flexOfferProfileConstraints[0].energyConstraintList[0].upper: expected a number"
out=$(gf_pw foa.7-PRE-001 pub "$FOT" 'not json at all' --raw); rc=$?
check "pub --raw of garbage: refused" eq "$rc $out" "1 refused: 0x87 not authorized"
out=$(gf_pw foa.7-PRE-001 pub "$FOT" "@$FO"); rc=$?
check "a valid one after them is published" eq "$rc $out" "0 published"
wait $subpid $opspid
check "the addressee got only the valid one" lines "$tmp/inv.out" 1
check "... which is the valid one" jqf '.payload.flexOfferProfileConstraints[0].energyConstraintList[0].upper == 0.5354' "$tmp/inv.out"
check "ops saw none of these private messages" lacks "$(cat "$tmp/inv-ops.out")" flexoffer
out=$(gf_pw foa.7-PRE-001 pub gf/site1/foa/7-PRE-002/fman/f1/flexoffer "@$FO"); rc=$?
check "a spoofed sender is refused: 0x87, exit 1" eq "$rc $out" "1 refused: 0x87 not authorized"
gf_pw foa.7-PRE-001 pub 'gf/site1/foa/7-PRE-001/fman/f1' "@$FO" 2>"$tmp/err"; rc=$?
check "pub without --raw needs a gf topic with a msg level (exit 1)" eq $rc 1
check "... and says so" grep -q GFCTL-TOPIC "$tmp/err"

# --- sealed payloads -------------------------------------------------------------
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
jwe="$(printf '{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"sp-key-1"}' | b64url)"
jwe="$jwe.$(head -c 256 /dev/urandom | b64url).$(head -c 12 /dev/urandom | b64url)"
jwe="$jwe.$(head -c 64 /dev/urandom | b64url).$(head -c 16 /dev/urandom | b64url)"
gf_pw sp.sp1 -v sub 'gf/site1/dms/+/sp/#' --count 1 --timeout 5 >"$tmp/sp.out" 2>"$tmp/sp.err" &
subpid=$!
subscribed "$tmp/sp.err"
out=$(gf_pw dms.d1 pub gf/site1/dms/d1/sp/all/meter.reading "$jwe" --as jose); rc=$?
check "pub --as jose on an anon row: published" eq "$rc $out" "0 published"
wait $subpid
check "sub prints the sealed payload as a JSON string" \
	jqf --arg j "$jwe" '.payload == $j and .contentType == "application/jose"' "$tmp/sp.out"
out=$(gf_pw dms.d1 pub gf/site1/dms/d1/sp/all/meter.reading "@$FO" --raw); rc=$?
check "a clear JSON payload on an anon row is refused by the broker" \
	eq "$rc $out" "1 refused: 0x87 not authorized"
check "validate --as jose" eq "$(printf %s "$jwe" | "$GFCTL" validate meter.reading - --as jose)" valid
check "validate --as jose of a non-JWE is invalid" grep -q '^invalid: ' <<<"$("$GFCTL" validate meter.reading "$FO" --as jose)"

# --- presence ----------------------------------------------------------------------
out=$(gf_pw foa.7-PRE-001 pub gf/site1/foa/7-PRE-001/ops/all/status --retain \
	'{"state":"online","version":"1.4.2","startTime":"2026-03-01T10:00:00Z","sequence":7}')
check "an agent's retained birth is published" [ "$out" = published ]
out=$(gf_pw fman.f1 pub gf/site1/fman/f1/ops/all/status --retain --as protobuf \
	'{"state":"offline","version":"0.9.0","startTime":"2026-02-28T09:00:00.000+0000","sequence":2}')
check "another's retained death (protobuf) is published" [ "$out" = published ]
out=$(gf_pw ops.alice presence --site site1 --timeout 1); rc=$?
check "presence exits 0" [ $rc -eq 0 ]
check "... with a header" grep -qE '^ROLE +ID +STATE +VERSION +SINCE +SEQUENCE$' <<<"$out"
check "... listing the FOA online" grep -qE '^foa +7-PRE-001 +online +1\.4\.2 +2026-03-01T10:00:00Z +7$' <<<"$out"
check "... and the FMAN offline" grep -qE '^fman +f1 +offline +0\.9\.0 +2026-02-28T09:00:00Z +2$' <<<"$out"
out=$(gf_tls ops watch presence --timeout 1); rc=$?
check "presence over TLS takes the site from the certificate" eq $rc 0
check "... and lists the FOA" grep -qE '^foa +7-PRE-001 +online' <<<"$out"
gf_pw ops.alice presence 2>"$tmp/err"; rc=$?
check "presence without a site on the password listener: exit 2" eq $rc 2

# --- a broker that does not validate: undecodable payloads are shown, not fatal -------
broker_stop "$S"
printf 'plugin_opt_validate off\n' >"$tmp/novalidate.conf"
broker_start "$S" --include "$tmp/novalidate.conf" || { echo "broker did not restart"; exit 1; }
check "the broker runs without validation" logged "$S" GF-PLUGIN-READY "validation off"
gf_pw fman.f1 -v sub 'gf/site1/+/+/fman/f1/#' --count 3 --timeout 5 >"$tmp/raw.out" 2>"$tmp/raw.err" &
subpid=$!
subscribed "$tmp/raw.err"
gf_pw foa.7-PRE-001 pub "$FOT" "@$tmp/bad.json" --raw >/dev/null
printf '\377\376garbage\000\001' >"$tmp/garbage.bin"
gf_pw foa.7-PRE-001 pub "$FOT" "@$tmp/garbage.bin" --raw --as protobuf >/dev/null
gf_pw foa.7-PRE-001 pub "$FOT" "@$FO" >/dev/null
wait $subpid; rc=$?
check "sub survives undecodable payloads (exit 0)" eq $rc 0
check "... three lines" lines "$tmp/raw.out" 3
check "... all valid JSON" jqf . "$tmp/raw.out"
line1=$(sed -n 1p "$tmp/raw.out") line2=$(sed -n 2p "$tmp/raw.out") line3=$(sed -n 3p "$tmp/raw.out")
check "... the invalid JSON one as an error naming the field path" jqs \
	'.payload.error == "flexOfferProfileConstraints[0].energyConstraintList[0].upper: expected a number"' "$line1"
check "... with the exact bytes in payloadBase64" \
	eq "$(jq -r .payload.payloadBase64 <<<"$line1" | base64 -d | md5sum)" "$(md5sum <"$tmp/bad.json")"
check "... the binary garbage as an error too" \
	jqs '(.payload.error | length > 0) and .contentType == "application/x-protobuf"' "$line2"
check "... its bytes intact" \
	eq "$(jq -r .payload.payloadBase64 <<<"$line2" | base64 -d | md5sum)" "$(md5sum <"$tmp/garbage.bin")"
check "... and the valid one decoded" jqs '.payload.offeredById == "7500001"' "$line3"

# --- the end of a connection -------------------------------------------------------
# Not through gf_pw: $! must be gfctl itself, not a subshell running it.
"$GFCTL" --port "$LOCAL_PORT" --id fman.f1 -v sub 'gf/site1/+/+/fman/f1/#' >/dev/null 2>"$tmp/int.err" &
subpid=$!
subscribed "$tmp/int.err"
kill -INT $subpid
wait $subpid; rc=$?
check "SIGINT ends sub cleanly (exit 0)" eq $rc 0
gf_pw fman.f1 -v sub 'gf/site1/+/+/fman/f1/#' >/dev/null 2>"$tmp/lost.err" &
subpid=$!
subscribed "$tmp/lost.err"
broker_stop "$S"
wait $subpid; rc=$?
check "a lost connection ends sub with exit 1" eq $rc 1
check "... and says so" grep -q GFCTL-LOST "$tmp/lost.err"

broker_stop "$S"
finish
