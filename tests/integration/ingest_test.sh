#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-ingest (issue 14, docs/ingest.md) against the real mosquitto with our
# plugin: recorded ENTSO-E A44 and Open-Meteo documents
# (tests/integration/ingest/) served by a scripted local HTTP server
# (tests/integration/py/ingest_server.py), gfctl sub as ops decoding what
# reaches the bus.
#
#   - configuration refusals: nothing to ingest, a token file others can
#     read, a token over plain http to another host, a bad location;
#   - prices: 429 with Retry-After, 503, a truncated body, a wrong content
#     type, each retried; then revision 1 (ETag "v1"); a 304 to the
#     conditional request that carried "v1"; revision 2 replaces it; an
#     older revision is not sent; the "no matching data" acknowledgement;
#   - weather: a 500, then the document: observations before the agent's
#     time, forecasts after, cut at the null gaps; a 304 after;
#   - a second agent reading a file (DST spring day, 92 quarter hours, two
#     classification sequences: one sent), restarted: nothing sent twice;
#   - a third through an HTTP proxy (http_proxy); the first with none;
#   - a weather file at 3600x: hours become observations as the clock
#     passes them, across a kill -9 and restart, none sent twice;
#   - the security token reaches the server and no log or message.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

INGEST=$BUILD/bin/gf-ingest GFCTL=$BUILD/bin/gfctl
FIX=$top/tests/integration/ingest
for b in "$INGEST" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done
command -v jq >/dev/null || { echo "no jq"; exit 1; }

agent_tmp
site_new "$S" site1
add_password "$S" ext.i1 ext.i2 ext.i3 ext.i4 ops.watch
broker_start "$S" || { echo "broker did not start"; exit 1; }

TOKEN="tok-$RANDOM$RANDOM-5eCr3t"
printf '%s\n' "$TOKEN" >"$tmp/token"
chmod 600 "$tmp/token"


# --- the scripted server -------------------------------------------------------------
cat >"$tmp/script.json" <<EOF
{"/api": [
  {"status": 429, "type": "text/plain", "body": "too many requests\n", "headers": {"Retry-After": "1"}},
  {"status": 503, "type": "text/html", "body": "<html>maintenance</html>"},
  {"file": "$FIX/a44_ch_a03_pt60m.xml", "type": "text/xml", "truncate": 700},
  {"file": "$FIX/a44_ch_a03_pt60m.xml", "type": "text/html"},
  {"file": "$FIX/a44_ch_a03_pt60m.xml", "type": "application/xml", "etag": "\"v1\""},
  {"status": 304},
  {"file": "$FIX/a44_ch_a03_pt60m_rev2.xml", "type": "text/xml", "etag": "\"v2\""},
  {"file": "$FIX/a44_ch_a03_pt60m.xml", "type": "text/xml", "etag": "\"v3\""},
  {"file": "$FIX/a44_ack.xml", "type": "text/xml"}
 ],
 "/v1/forecast": [
  {"status": 500, "type": "application/json", "body": "{\"error\":true,\"reason\":\"internal\"}"},
  {"file": "$FIX/openmeteo_lugano.json", "type": "application/json; charset=utf-8", "etag": "\"w1\""},
  {"status": 304}
 ]}
EOF
/usr/bin/python3 "$top/tests/integration/py/ingest_server.py" "$tmp/script.json" "$tmp/http.port" \
	"$tmp/http.log" 2>"$tmp/http.err" &
pids+=($!)
wait_for 10 test -s "$tmp/http.port" || { echo "the HTTP server did not start"; exit 1; }
HTTP=http://127.0.0.1:$(cat "$tmp/http.port")

conf() { # conf NAME KEY VALUE...: ext.NAME's file
	local n=$1
	mkdir -p "$tmp/$1.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity ext.$1"
		echo "state_dir $tmp/$1.state"
		echo "time_epoch 2024-01-15T12:00:00Z"
		shift
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$n.conf"
}

# --- configuration -----------------------------------------------------------------------
conf i1
out=$("$INGEST" -c "$tmp/i1.conf" -n 2>&1); rc=$?
check "-n without sources: exit 2, says so" eq "$rc $(grep -c 'nothing to ingest' <<<"$out")" "2 1"
conf i1 entsoe_area 10YCH-SWISSGRIDZ entsoe_url "$HTTP/api"
out=$("$INGEST" -c "$tmp/i1.conf" -n 2>&1); rc=$?
check "-n: an http(s) source needs the token file" eq "$rc $(grep -c 'needs entsoe_token_file' <<<"$out")" "2 1"
cp "$tmp/token" "$tmp/token.open" && chmod 644 "$tmp/token.open"
conf i1 entsoe_area 10YCH-SWISSGRIDZ entsoe_url "$HTTP/api" entsoe_token_file "$tmp/token.open"
out=$("$INGEST" -c "$tmp/i1.conf" -n 2>&1); rc=$?
check "-n: a token file others can read is refused" eq "$rc $(grep -c 'readable by others' <<<"$out")" "2 1"
conf i1 entsoe_area 10YCH-SWISSGRIDZ entsoe_url "http://example.org/api" entsoe_token_file "$tmp/token"
out=$("$INGEST" -c "$tmp/i1.conf" -n 2>&1); rc=$?
check "-n: the token never over plain http to another host" eq "$rc $(grep -c 'only over https' <<<"$out")" "2 1"
conf i1 weather_locations "lugano:46.0:999"
out=$("$INGEST" -c "$tmp/i1.conf" -n 2>&1); rc=$?
check "-n: a bad location is refused, named" eq "$rc $(grep -c '"lugano:46.0:999" is not' <<<"$out")" "2 1"
out=$("$INGEST" -h 2>&1)
check "-h lists the keys" has "$(grep -o 'entsoe_token_file' <<<"$out" | head -1)" "entsoe_token_file"

conf i1 entsoe_area 10YCH-SWISSGRIDZ entsoe_area_name CH entsoe_url "$HTTP/api" \
	entsoe_token_file "$tmp/token" entsoe_every_s 2 \
	weather_url "$HTTP/v1/forecast" weather_locations "lugano:46.0:8.94:CH-TI-1" weather_every_s 2 \
	weather_past_days 1 weather_forecast_days 1 \
	retries 5 retry_base_s 1 retry_max_s 1 http_proxy none
out=$("$INGEST" -c "$tmp/i1.conf" -n 2>&1); rc=$?
check "-n: configuration OK" eq "$rc $(grep -cx 'configuration OK' <<<"$out")" "0 1"
check "-n prints no token" lacks "$out" "$TOKEN"

# --- the run ---------------------------------------------------------------------------
# 2 prices (revisions 1 and 2), 8 weather messages, 1 price from the file.
"$GFCTL" --port "$LOCAL_PORT" --id ops.watch -v sub 'gf/site1/ext/+/sp/#' --count 11 --timeout 40 \
	>"$tmp/sub.out" 2>"$tmp/sub.err" &
sub=$!
pids+=($sub)
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/sub.err" || echo "# the watcher did not subscribe"
"$INGEST" -c "$tmp/i1.conf" -v >"$tmp/i1.log" 2>&1 &
pids+=($!)
pid_i1=$!
conf i2 entsoe_area 10Y1001A1001A82H entsoe_area_name DE-LU \
	entsoe_url "file:$FIX/a44_de_pt15m_dst_spring.xml" entsoe_sequence 1
"$INGEST" -c "$tmp/i2.conf" -v >"$tmp/i2.log" 2>&1 &
pid_i2=$!
pids+=($pid_i2)

check "prices: the acknowledgement comes last (no data)" wait_for 40 in_log i1 GF-INGEST-NO-DATA
check "the messages arrive" wait_for 20 eval '[ "$(wc -l <"$tmp/sub.out")" -ge 11 ]'
wait "$sub" 2>/dev/null
check "i2 read the file" wait_for 10 in_log i2 GF-INGEST-PRICES
kill -TERM "$pid_i1" "$pid_i2" 2>/dev/null
wait "$pid_i1" 2>/dev/null; rc1=$?
wait "$pid_i2" 2>/dev/null; rc2=$?
check "SIGTERM: both exit 0" eq "$rc1 $rc2" "0 0"

sub_msg() { jq -c --arg m "$1" --arg s "$2" 'select(.msg == $m and .sender == $s)' "$tmp/sub.out"; }
prices=$(sub_msg price.dayahead ext.i1)
check "two price.dayahead from i1, decoded" eq "$(jq -s length <<<"$prices")" 2
p1=$(sed -n 1p <<<"$prices") p2=$(sed -n 2p <<<"$prices")
check "revision 1: 24 hours of CH from 2024-01-14T23:00:00Z, EUR/kWh" eq \
	"$(jq -r '.payload | [.area, .resolution, .startTime, (.prices | length), .prices[1], .prices[9], .currency] | join(" ")' <<<"$p1")" \
	"CH 3600 2024-01-14T23:00:00Z 24 0.08 0.11 EUR"
check "revision 1: A03's omitted last hour repeats 86" eq "$(jq -r '.payload.prices[23]' <<<"$p1")" 0.086
check "revision 2 replaces it (hour 9: 111.5 EUR/MWh)" eq \
	"$(jq -r '.payload | [.prices[9], (.source | test("revision 2"))] | join(" ")' <<<"$p2")" "0.1115 true"
check "the topic is ext -> sp/all" eq "$(jq -r .topic <<<"$p1")" "gf/site1/ext/i1/sp/all/price.dayahead"
check "the older revision is kept out (logged)" in_log i1 "GF-INGEST-REVISION-OLD"
check "revision 2 logged as replacing 1" in_log i1 "revision 2 replaces revision 1"

# Failures retried, each logged with why.
check "429 retried after its Retry-After" eval 'grep "GF-INGEST-FETCH-FAILED" "$tmp/i1.log" | in_input "HTTP 429"'
check "503 retried" eval 'grep "GF-INGEST-FETCH-FAILED" "$tmp/i1.log" | in_input "HTTP 503"'
check "the truncated body retried" eval 'grep "GF-INGEST-FETCH-FAILED" "$tmp/i1.log" | in_input -i "partial\|transfer closed"'
check "the wrong content type retried" eval 'grep "GF-INGEST-FETCH-FAILED" "$tmp/i1.log" | in_input "text/html"'
check "Open-Meteo's 500 retried" eval 'grep "GF-INGEST-FETCH-FAILED" "$tmp/i1.log" | grep "lugano" | in_input "HTTP 500"'
req() { jq -r --arg p "$1" 'select(.path == $p) | "\(.status) \(.ifNoneMatch)"' "$tmp/http.log"; }
check "prices: the 304 answered a request carrying If-None-Match \"v1\"" has "$(req /api)" '304 "v1"'
check "weather: the 304 answered a request carrying If-None-Match \"w1\"" has "$(req /v1/forecast)" '304 "w1"'
check "304s logged as unchanged" in_log i1 "GF-INGEST-UNCHANGED"
check "the token reached the server" eval 'grep -q "securityToken=$TOKEN" "$tmp/http.log"'
check "the request URL is logged with the token redacted" in_log i1 "securityToken=\*\*\*"

# Weather: the agent's time is 2024-01-15T12:00Z.
obs=$(sub_msg weather.observation ext.i1) fc=$(sub_msg weather.forecast ext.i1)
check "weather: 4 observations (hourly cut at the null at 06:00 on the 15th, and 15-minute)" \
	eq "$(jq -s length <<<"$obs")" 4
check "weather: 4 forecasts (the last hour and quarter lack irradiance and precipitation)" \
	eq "$(jq -s length <<<"$fc")" 4
check "observations have no issuedTime, forecasts the agent's time (one for all)" eq \
	"$(jq -s '[.[].payload.issuedTime] | unique' -c <<<"$obs") $(jq -rs '[.[].payload.issuedTime] | unique | map(test("^2024-01-15T12:0[0-9]:[0-9][0-9]Z$")) | join(" ")' <<<"$fc")" \
	"[null] true"
first=$(jq -s 'map(select(.payload.intervalLength == 3600)) | sort_by(.payload.startTime) | .[0]' <<<"$obs")
check "the first hourly observation: 30 hours from 2024-01-14T00:00Z, wind in m/s" eq \
	"$(jq -r '.payload | [.startTime, .intervalLength, (.temperature | length), .windSpeed[0], .location.gridPointId, .location.latitude] | join(" ")' <<<"$first")" \
	"2024-01-14T00:00:00Z 3600 30 2 CH-TI-1 46"
check "hour 30 (no temperature) is a series without temperature" eq \
	"$(jq -s '[.[] | select(.payload.startTime == "2024-01-15T06:00:00Z") | .payload.temperature] | length' <<<"$obs")" 1
check "the 15-minute forecast starts at 12:00 and runs to 21:45" eq \
	"$(jq -rs '[.[] | select(.payload.intervalLength == 900) | .payload | "\(.startTime) \(.temperature | length)"] | sort | join(",")' <<<"$fc")" \
	"2024-01-15T12:00:00Z 39,2024-01-15T21:45:00Z 1"
check "every weather message decoded" eq "$(jq -s '[.[] | select(.error)] | length' "$tmp/sub.out")" 0

# The file: the spring day's 92 quarter hours of sequence 1.
de=$(sub_msg price.dayahead ext.i2)
check "file: one price.dayahead of DE-LU, 92 quarter hours (sequence 2 left out)" eq \
	"$(jq -r '.payload | [.area, .resolution, (.prices | length), .startTime] | join(" ")' <<<"$de")" \
	"DE-LU 900 92 2024-03-30T23:00:00Z"

# Restarted: the same file, nothing sent again.
"$INGEST" -c "$tmp/i2.conf" -v >"$tmp/i2b.log" 2>&1 &
pid_i2=$!
pids+=($pid_i2)
check "restarted: the prices are known (1 unchanged, 0 sent)" wait_for 10 \
	eval 'grep -q "GF-INGEST-PRICES.*0 sent, 1 unchanged" "$tmp/i2b.log"'
kill -TERM "$pid_i2"
wait "$pid_i2" 2>/dev/null

# A proxy: i3 asks a host where nothing listens, through the server as its
# proxy (the script's last weather answer, a 304, comes back).
conf i3 weather_url "http://127.0.0.2:9/v1/forecast" weather_locations "zurich:47.37:8.54" \
	http_proxy "$HTTP" retries 0
"$INGEST" -c "$tmp/i3.conf" -v >"$tmp/i3.log" 2>&1 &
pid_i3=$!
pids+=($pid_i3)
check "http_proxy: the request went through the proxy" wait_for 10 in_log i3 GF-INGEST-UNCHANGED
check "http_proxy: the proxy saw the absolute URL" eval \
	'jq -r .target "$tmp/http.log" | in_input "^http://127.0.0.2:9/v1/forecast?latitude=47.37000&longitude=8.54000"'
kill -TERM "$pid_i3"
wait "$pid_i3" 2>/dev/null

# A weather file at 3600x: read at every poll, its forecast hours become
# observations as the clock passes them, each sent once.
conf i4 weather_url "$FIX/openmeteo_{location}.json" weather_locations "lugano:46.0:8.94" \
	weather_every_s 1 time_scale 3600
"$GFCTL" --port "$LOCAL_PORT" --id ops.watch -v sub 'gf/site1/ext/i4/sp/all/weather.observation' \
	>"$tmp/sub4.out" 2>"$tmp/sub4.err" &
sub4=$!
pids+=($sub4)
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/sub4.err" || echo "# the watcher did not subscribe"
"$INGEST" -c "$tmp/i4.conf" -v >"$tmp/i4.log" 2>&1 &
pid_i4=$!
pids+=($pid_i4)
until_h() { sqlite3 "$tmp/i4.state/ingest.db" "SELECT until_ms FROM ingest_sent WHERE key = 'observation|lugano|3600'" 2>/dev/null; }
past_noon() { [ "$(until_h)" -gt 1705320000000 ] 2>/dev/null; } # 2024-01-15T12:00:00Z
check "weather file: later polls send the hours that have ended since" wait_for 15 past_noon
# Killed -9 and restarted: it goes on from what its store says was sent.
kill -9 "$pid_i4"
wait "$pid_i4" 2>/dev/null
before=$(until_h)
"$INGEST" -c "$tmp/i4.conf" -v >"$tmp/i4b.log" 2>&1 &
pid_i4=$!
pids+=($pid_i4)
later() { [ "$(until_h)" -gt "$before" ] 2>/dev/null; }
check "weather file: after kill -9, the next hours go out" wait_for 15 later
kill -TERM "$pid_i4"
wait "$pid_i4" 2>/dev/null
sleep 0.5
kill -TERM "$sub4"
wait "$sub4" 2>/dev/null
# Per resolution, the observations sent must not overlap: each interval once
# (a message the outbox sent again after the kill -9, identical, counts once:
# at least once on the bus, receivers keep one).
overlaps=$(jq -s '[unique_by(.payload) | group_by(.payload.intervalLength)[] | map(.payload | {s: (.startTime | fromdateiso8601), e: ((.startTime | fromdateiso8601) + .intervalLength * ([.temperature, .windSpeed, .globalIrradiance] | map(length) | max))}) | sort_by(.s) | . as $a | range(1; length) | select($a[. - 1].e > $a[.].s)] | length' "$tmp/sub4.out")
check "weather file: observations from several polls, none sent twice" eq \
	"$(( $(wc -l <"$tmp/sub4.out") > 4 )) $overlaps" "1 0"

# No token anywhere it should not be.
check "no token in the agents' logs" eval '! grep -qF "$TOKEN" "$tmp"/i1.log "$tmp"/i2*.log'
check "no token in the broker's log" eval '! grep -qF "$TOKEN" "$S/mosquitto.log"'
check "no token on the bus" eval '! grep -qF "$TOKEN" "$tmp/sub.out"'
check "the broker refused nothing" eval '! grep -q "GF-BUS-REFUSED\|GF-STORE-REFUSED" "$tmp"/i1.log "$tmp"/i2.log'

finish
