#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-http (issue 15 item 3, docs/http.md) end to end with curl against the
# real mosquitto with our plugin and the real gf-foa and gf-fman; FMAR is
# played by gfctl. Over HTTPS (the site's broker certificate as the
# server's): an xEMS posts a FlexibilityData over HTTP, gf-foa offers it to
# gf-fman, the FOA's Ack and, after FMAR's assignment, the DemandSchedule
# come back in the xEMS's polls, all waiting replies in one response, kept
# until acked and across a kill -9 of gf-http; a REST FOA posts, updates,
# deletes and reads its offers, gets FMAN's acks and its assignment (which
# gf-http echoes, as FMAN's log confirms); refusals with their reasons:
# unknown token 401, another FOA's offer 404/403, the wrong role 403,
# malformed JSON and invalid fields 400 with the reason and field path the
# broker's check gives (compared with gfctl validate); client certificates
# of the site CA (a revoked one refused). Simulated time at 900x.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

HTTP=$BUILD/bin/gf-http
FMAN=$BUILD/bin/gf-fman
FOA=$BUILD/bin/gf-foa
GFCTL=$BUILD/bin/gfctl
for b in "$HTTP" "$FMAN" "$FOA" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done
command -v curl >/dev/null || { echo "no curl"; exit 1; }

agent_tmp

site_new "$S" site1
add_password "$S" fman.f1 fmar.r1 foa.p1 xems.p1 foa.q1 foa.q2
for c in foa.q2 foa.zz foa.q1; do add_cert "$S" "${c%%.*}" "${c#*.}"; done
"$CERTS" revoke -d "$S/pki" --role foa --id q1 >/dev/null
broker_start "$S" || { echo "broker did not start"; exit 1; }

E0=1758624 # 2020-02-27T00:00:00Z / 900
ORIGIN=$(date +%s)
N=$((E0 + $(date +%s) - ORIGIN))
C=$((E0 + ((N - E0 + 200) / 20 + 1) * 20)) # a cell start at least 200 intervals ahead
clock() {
	echo "time_epoch 2020-02-27T00:00:00Z"
	echo "time_origin $ORIGIN"
	echo "time_scale 900"
}

mkdir -p "$tmp/fman.state" "$tmp/foa.state" "$tmp/http.state" "$tmp/pw"
{ echo "site site1"; echo "broker_port $LOCAL_PORT"; echo "identity fman.f1"
	echo "state_dir $tmp/fman.state"; clock; echo "aggregate_every_s 900"
	echo "grid_origin_interval $E0"; echo "resend_s 2"; } >"$tmp/fman.conf"
{ echo "site site1"; echo "broker_port $LOCAL_PORT"; echo "identity foa.p1"
	echo "state_dir $tmp/foa.state"; clock; echo "mode xems"; echo "resend_s 2"; } >"$tmp/foa.conf"

# Bearer tokens; the identities file holds their SHA-256 only.
T_X=xems-token-$$ T_Q1=q1-token-$$ T_Q2=q2-token-$$
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
cat >"$tmp/identities" <<EOF
# role.id   sha256(token)   options
xems.p1  $(sha "$T_X")  foa=p1
foa.q1   $(sha "$T_Q1")
foa.q2   $(sha "$T_Q2")
EOF
for u in xems.p1 foa.q1 foa.q2; do (umask 077 && echo "$PASSWORD" >"$tmp/pw/$u"); done
HP=$(free_port)
{ echo "site site1"; echo "broker_port $LOCAL_PORT"; echo "identity foa.q1"
	echo "state_dir $tmp/http.state"; clock; echo "listen_port $HP"
	echo "identities $tmp/identities"; echo "bus_password_dir $tmp/pw"; echo "resend_s 2"
	echo "tls_cert $S/pki/broker.crt"; echo "tls_key $S/pki/broker.key"
	echo "tls_ca $S/pki/ca.crt"; echo "crl $S/pki/crl.pem"; } >"$tmp/http.conf"

count_log() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null || true; }
start() { # NAME BINARY
	"$2" -c "$tmp/$1.conf" -v >>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}
# req TOKEN METHOD PATH [BODY] [curl options...]: ST the status, B the body.
req() {
	local tok=$1 m=$2 p=$3 body=${4-}; shift 3; [ $# -gt 0 ] && shift
	ST=$(curl -sS --cacert "$S/pki/ca.crt" -o "$tmp/resp" -w '%{http_code}' -X "$m" \
		${tok:+-H "Authorization: Bearer $tok"} ${body:+-H 'Content-Type: application/json'} \
		${body:+--data-binary "$body"} "$@" "https://localhost:$HP$p" 2>"$tmp/curl.err")
	B=$(cat "$tmp/resp" 2>/dev/null)
}
field() { jq -r "$1" <<<"$B"; }

# FMAR's side: every aggregate FMAN sends it.
"$GFCTL" --port "$LOCAL_PORT" --id fmar.r1 -v sub 'gf/site1/fman/f1/fmar/#' >"$tmp/r1.jsonl" 2>"$tmp/r1.err" &
pids+=($!)
wait_for 10 grep -q GFCTL-SUBSCRIBED "$tmp/r1.err" || echo "# FMAR's subscriber not ready"

# --- command line ---------------------------------------------------------------------------
out=$("$HTTP" -c "$tmp/http.conf" -n 2>&1); rc=$?
check "-n: configuration OK with its keys" \
	eq "$rc $(grep -cx -e 'configuration OK' -e "listen_port $HP" -e 'fman_id all' <<<"$out")" "0 3"
check "-n: no token hash in what it prints" lacks "$out" "$(sha "$T_X")"
sed 's/^foa.q2 .*/foa.q2 not-a-hash/' "$tmp/identities" >"$tmp/bad.ids"
sed "s|^identities .*|identities $tmp/bad.ids|" "$tmp/http.conf" >"$tmp/bad.conf"
out=$("$HTTP" -c "$tmp/bad.conf" -n 2>&1); rc=$?
check "a bad identities file: exit 2, the line and why" \
	eq "$rc $(grep -c 'bad.ids:4: foa.q2: the token is given as 64 lowercase hex' <<<"$out")" "2 1"
grep -v bus_password_dir "$tmp/http.conf" >"$tmp/bad.conf"
out=$("$HTTP" -c "$tmp/bad.conf" -n 2>&1); rc=$?
check "no bus credentials: exit 2, each identity needs its own" \
	eq "$rc $(grep -c 'each identity connects with its own credentials' <<<"$out")" "2 1"

start fman "$FMAN"
start foa "$FOA"
start http "$HTTP"
check "gf-http listens over HTTPS and serves its 3 identities" \
	wait_for 10 in_log http 'GF-HTTP-START.*3 identities'
check "... each on its own connection" wait_for 10 eval '[ "$(count_log http GF-BUS-CONNECTED)" -ge 3 ]'
# (and subscribed: their sessions are new, and the FOA's reply to the xEMS
# must not come before gf-http listens for it)
wait_for 10 eval '[ "$(count_log http GF-BUS-SUBSCRIBED)" -ge 3 ]' || echo "# gf-http's connections did not all subscribe"
wait_for 10 in_log foa GF-BUS-SUBSCRIBED
wait_for 10 in_log fman GF-BUS-SUBSCRIBED

# --- authentication ----------------------------------------------------------------------------
req "" GET /v1/xems/replies
check "no credentials: 401 with the reason" \
	eq "$ST $(field .error)" "401 no credentials: a bearer token (Authorization: Bearer ...) or a client certificate of the site CA"
req wrong-token GET /v1/xems/replies
check "a wrong token: 401 unknown bearer token" eq "$ST $(field .error)" "401 unknown bearer token"
check "... logged (GF-HTTP-REFUSED) without the token" \
	eval 'in_log http "GF-HTTP-REFUSED.*(unauthenticated): 401 unknown bearer token" && ! in_log http wrong-token'
req "$T_X" GET /v1/flexoffers
check "the xEMS's token on the FlexOffer API: 403, the role" \
	eq "$ST $(field .error)" "403 xems.p1: this path is for role foa, not xems"
req "$T_Q1" GET /v1/nothing
check "an unknown path: 404" eq "$ST" 404
CERT() { echo --cert "$S/pki/clients/$1.crt" --key "$S/pki/clients/$1.key"; }
# shellcheck disable=SC2046
req "" GET /v1/flexoffers "" $(CERT foa.q2)
check "a client certificate of the site CA: foa.q2 without a token" \
	eq "$ST $(field '.flexOffers | length')" "200 0"
# shellcheck disable=SC2046
req "" GET /v1/flexoffers "" $(CERT foa.zz)
check "a certificate of an identity not served: 403" \
	eq "$ST $(field .error)" "403 foa.zz is not an identity this gf-http serves"
# shellcheck disable=SC2046
req "" GET /v1/flexoffers "" $(CERT foa.q1)
check "a revoked certificate: 401" eq "$ST $(field .error)" "401 the client certificate of foa.q1 is revoked"
# shellcheck disable=SC2046
req "$T_Q1" GET /v1/flexoffers "" $(CERT foa.q2)
check "a token and a certificate of different identities: 401" \
	eq "$ST $(field .error)" "401 the bearer token and the client certificate name different identities"

# --- the xEMS: a CommunicationRequest, its replies in a poll --------------------------------------
flex() { # LABEL LO HI
	jq -nc --arg l "$1" --argjson lo "$2" --argjson hi "$3" --argjson c "$C" --argjson n "$N" \
		'{flexOffer: {label: $l, state: "Initial", offeredById: "p1", creationInterval: $n,
		acceptanceBeforeInterval: ($c - 10), assignmentBeforeInterval: ($c - 8),
		startAfterInterval: $c, startBeforeInterval: ($c + 4), flexOfferProfileConstraints:
		[{energyConstraintList: [{lower: $lo, upper: $hi}], minDuration: 1, maxDuration: 1}]}}'
}
req "$T_X" POST /v1/xems/request "{\"flexibilityData\": [$(flex x1 1 3)]}"
check "POST /v1/xems/request: 202, one packet to foa.p1" \
	eq "$ST $(field '"\(.accepted) \(.to)"')" "202 1 foa.p1"
check "gf-foa offers it to gf-fman, which accepts it" \
	wait_for 15 in_log foa 'GF-FOA-ACK.*accepted'
check "the FOA's reply reaches gf-http (GF-HTTP-REPLY)" wait_for 10 in_log http 'GF-HTTP-REPLY.*xems.p1'

# kill -9 with a reply waiting for its poll: it is still there after the restart.
kill -9 "$pid_http"; wait "$pid_http" 2>/dev/null
start http "$HTTP"
wait_for 10 eval '[ "$(count_log http GF-HTTP-LISTEN)" -ge 2 ]'
req "$T_X" GET /v1/xems/replies
check "after a kill -9, the poll has the FOA's Ack (kept in SQLite)" \
	eq "$ST $(field '[.replies[].reply.ack.ack] | index(true) != null')" "200 true"
LAST=$(field .last)
R1=$(field '.replies | length')
req "$T_X" GET /v1/xems/replies
check "a poll without ack returns the same replies again" \
	eq "$(field '.replies | length') $(field .last)" "$R1 $LAST"
req "$T_X" GET "/v1/xems/replies?ack=$LAST"
check "with ack=<last> they are gone" eq "$ST $(field '.replies | length')" "200 0"
req "$T_X" GET "/v1/xems/replies?ack=x"
check "a bad ack: 400" eq "$ST" 400

bad='{"flexibilityData": {"flexOffer": {"label": "bad", "state": "Initial", "offeredById": "p1", "creationInterval": 5, "startAfterInterval": 6, "startBeforeInterval": 7, "flexOfferProfileConstraints": [{"energyConstraintList": [{"lower": 3, "upper": 1}], "minDuration": 1, "maxDuration": 1}]}}}'
req "$T_X" POST /v1/xems/request "$bad"
printf '%s' "$(jq -c .flexibilityData <<<"$bad")" >"$tmp/bad.json"
want=$("$GFCTL" validate xems.flexibility "$tmp/bad.json" | sed 's/^invalid: //')
check "an invalid packet: 400, the broker's reason with the packet and field path" \
	eq "$ST $(field .error)" "400 flexibilityData: invalid xems.flexibility: $want"
check "... (a field path: $want)" eq "$(grep -c '^flexOffer\.flexOfferProfileConstraints\[0\]\.energyConstraintList\[0\]' <<<"$want")" 1
req "$T_X" POST /v1/xems/request '{"flexibilityData": [{"flexOffer": '
check "malformed JSON: 400" eq "$ST $(field .error | grep -c '^the body is not a JSON object')" "400 1"
req "$T_X" POST /v1/xems/request '{"gossip": {}}'
check "an unknown packet: 400 naming it" \
	eq "$ST $(field .error)" "400 gossip: not a packet (operationData, flexibilityData, demandCancelation)"

# --- the REST FlexOffer API ------------------------------------------------------------------------
offer() { # LO HI [ID]
	jq -nc --argjson lo "$1" --argjson hi "$2" --arg id "${3-}" --argjson c "$C" --argjson n "$N" \
		'{label: "rest", state: "Initial", creationInterval: $n,
		acceptanceBeforeInterval: ($c - 10), assignmentBeforeInterval: ($c - 8),
		startAfterInterval: $c, startBeforeInterval: ($c + 4), flexOfferProfileConstraints:
		[{energyConstraintList: [{lower: $lo, upper: $hi}], minDuration: 1, maxDuration: 1}]}
		+ (if $id == "" then {} else {id: $id} end)'
}
req "$T_Q1" POST /v1/flexoffers "$(offer 1 2)" -D "$tmp/headers"
check "POST /v1/flexoffers: 201, an id of the FOA's, Offered" \
	eq "$ST $(field '"\(.id) \(.state)"')" "201 q1-h1 Offered"
check "... Location names it" grep -qi '^Location: /v1/flexoffers/q1-h1' "$tmp/headers"
accepted() { req "$T_Q1" GET /v1/flexoffers/q1-h1; [ "$(field .state)" = Accepted ]; }
check "FMAN accepts it: GET shows Accepted" wait_for 15 accepted
check "... in the GOFLEX form, offeredById set" \
	eq "$(field '"\(.id) \(.offeredById) \(.label) \(.flexOfferSchedule)"')" "q1-h1 q1 rest null"
req "$T_Q1" PUT /v1/flexoffers/q1-h1 "$(offer 2 4)"
check "PUT updates it: 202" eq "$ST $(field .state)" "202 Offered"
updated() { req "$T_Q1" GET /v1/flexoffers/q1-h1; [ "$(field '"\(.state) \(.stateReason)"')" = "Accepted updated" ]; }
check "FMAN acks the update: Accepted, reason updated, the new bounds" wait_for 15 updated
check "... the new bounds" eq "$(field '.flexOfferProfileConstraints[0].energyConstraintList[0] | "\(.lower) \(.upper)"')" "2 4"
req "$T_Q1" POST /v1/flexoffers "$(offer 1 2 q1-x)"
check "POST with its own id q1-x: 201" eq "$ST $(field .id)" "201 q1-x"
req "$T_Q1" POST /v1/flexoffers "$(offer 1 2 q1-x)"
check "... again: 409, PUT updates it" eq "$ST $(field .error)" "409 offer q1-x exists (PUT updates it)"
wait_for 15 eval 'req "$T_Q1" GET /v1/flexoffers/q1-x; [ "$(field .state)" = Accepted ]'
req "$T_Q1" DELETE /v1/flexoffers/q1-x
check "DELETE: 202 Canceled" eq "$ST $(field .state)" "202 Canceled"
canceled() { req "$T_Q1" GET /v1/flexoffers/q1-x; [ "$(field '"\(.state) \(.stateReason)"')" = "Canceled canceled" ]; }
check "FMAN acks the cancellation" wait_for 15 canceled
req "$T_Q1" GET /v1/flexoffers
check "GET /v1/flexoffers lists both" eq "$(field '[.flexOffers[] | "\(.id):\(.state)"] | join(" ")')" "q1-h1:Accepted q1-x:Canceled"

req "$T_Q2" GET /v1/flexoffers/q1-h1
check "foa.q2 cannot read foa.q1's offer: 404" eq "$ST $(field .error)" "404 no offer q1-h1 of foa.q2"
req "$T_Q2" DELETE /v1/flexoffers/q1-h1
check "... nor delete it: 404" eq "$ST" 404
req "$T_Q2" PUT /v1/flexoffers/q1-h1 "$(offer 1 2)"
check "... nor update it: 403, not its id" eq "$ST $(field .error)" "403 offer ids of foa.q2 begin with 'q2-'"
req "$T_Q2" POST /v1/flexoffers "$(offer 1 2 | jq -c '.offeredById = "q1"')"
check "... nor offer in its name: 403" eq "$ST $(field .error)" "403 offeredById 'q1' is not you (foa.q2)"
bad=$(offer 1 2 | jq -c '.flexOfferProfileConstraints[0].energyConstraintList[0].lower = 5')
req "$T_Q2" POST /v1/flexoffers "$bad"
jq -c '.id = "q2-h1" | .offeredById = "q2" | .state = "Offered"' <<<"$bad" >"$tmp/bad.json"
want=$("$GFCTL" validate flexoffer "$tmp/bad.json" | sed 's/^invalid: //')
check "an invalid offer: 400 with the broker's reason and field path" \
	eq "$ST $(field .error)" "400 invalid flexoffer: $want"
req "$T_Q2" POST /v1/flexoffers '{"label": "x", "creationInterval": "soon"}'
check "a field of the wrong type: 400 naming it" eq "$ST $(field .error | grep -c creationInterval)" "400 1"
req "$T_Q2" POST /v1/flexoffers '[1,2'
check "malformed JSON: 400" eq "$ST" 400
head -c 300000 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
req "$T_Q2" POST /v1/flexoffers "@$tmp/big.json"
check "a body beyond max_body: 413" eq "$ST" 413

# --- FMAR assigns the aggregate of both offers: each gets its schedule ------------------------------
# The aggregate FMAR holds with p1-1 [1,3] and q1-h1 [2,4]: bounds [3,7].
agg() { jq -c 'select(.msg == "flexoffer" and .payload.state == "Offered" and
	.payload.flexOfferProfileConstraints[0].energyConstraintList[0] == {"lower":3,"upper":7}) |
	.payload' "$tmp/r1.jsonl" | tail -1; }
check "FMAN aggregates the xEMS's and the REST client's offers" wait_for 15 eval '[ -n "$(agg)" ]'
AGG=$(agg | jq -r .id) LABEL=$(agg | jq -r .label)
at() { date -u -d "@$(($1 * 900))" +%Y-%m-%dT%H:%M:%SZ; }
# gf-http is down while the schedule comes: it waits in its session.
kill -9 "$pid_http"; wait "$pid_http" 2>/dev/null
"$GFCTL" --port "$LOCAL_PORT" --id fmar.r1 pub gf/site1/fmar/r1/fman/f1/flexoffer.assign \
	"$(jq -nc --arg id "$AGG" --arg l "$LABEL" --arg t "$(at $((C + 2)))" '{flexOfferId: $id,
	label: $l, flexOfferSchedule: {scheduleId: 7, updateId: 0, startTime: $t,
	scheduleSlices: [{duration: 1, energyAmount: 5}]}}')" >/dev/null
check "gf-foa gets p1-1's schedule while gf-http is down" wait_for 15 in_log foa 'GF-FOA-ASSIGN'
start http "$HTTP"
wait_for 10 eval '[ "$(count_log http GF-HTTP-LISTEN)" -ge 3 ]'
schedules() { # the DemandSchedules of every poll so far, acked as it goes
	req "$T_X" GET "/v1/xems/replies?ack=${LAST:-0}"
	[ "$ST" = 200 ] || return 1
	field '.replies[].reply.demandSchedule[]? | "\(.flexOfferId) \(.startTime) \(.energy | add)"' >>"$tmp/schedules"
	LAST=$(field .last)
	[ -s "$tmp/schedules" ]
}
: >"$tmp/schedules"
check "the xEMS's poll brings the DemandSchedule after gf-http's restart" wait_for 15 schedules
sleep 3 # gf-foa sends a schedule again every resend_s (2 s)
schedules
check "... once, although gf-foa sends it again" eq "$(sort -u "$tmp/schedules" | wc -l) $(wc -l <"$tmp/schedules")" "1 1"
p1=$(awk '{print $3}' "$tmp/schedules")
assigned() { req "$T_Q1" GET /v1/flexoffers/q1-h1; [ "$(field .state)" = Assigned ]; }
check "the REST offer is Assigned, its flexOfferSchedule in the offer" wait_for 15 assigned
q1=$(field '.flexOfferSchedule.scheduleSlices | map(.energyAmount) | add')
check "... the two schedules sum to FMAR's 5 kWh" eq "$(jq -n "$p1 + $q1")" 5
req "$T_Q1" GET /v1/flexoffers/q1-h1/assignment
check "GET .../assignment: the schedule" eq "$ST $(field '"\(.flexOfferId) \(.flexOfferSchedule.scheduleId)"')" "200 q1-h1 7"
check "gf-http echoed it to FMAN as the FOA (GF-FMAN-CONFIRMED by foa.q1)" \
	wait_for 10 in_log fman 'GF-FMAN-CONFIRMED.*q1-h1.*foa.q1'
req "$T_Q1" PUT /v1/flexoffers/q1-h1 "$(offer 2 4)"
check "an update after the assignment: 409" eq "$ST $(field .error)" "409 offer q1-h1 is Assigned; it can no longer be updated"
req "$T_Q1" GET /v1/flexoffers/q1-x/assignment
check "an offer without assignment: 404 saying its state" \
	eq "$ST $(field .error)" "404 offer q1-x has no assignment (state Canceled)"

# --- privacy of the log ---------------------------------------------------------------------------------
check "no token in any log" eval '! grep -l -e "$T_X" -e "$T_Q1" -e "$T_Q2" "$tmp"/*.log "$S/mosquitto.log"'
kill -TERM "$pid_http"
wait "$pid_http"; rc=$?
check "SIGTERM: exit 0" eq "$rc" 0
check "no sanitizer report from gf-http" eval '! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error" "$tmp/http.log"'
finish
