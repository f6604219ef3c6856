#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gfctl site check (issue 15, item 4): a site made from the site template by
# ops/gf-site-init, its real broker (TLS, the plugin) and three agents
# connected with their certificates, is all OK; an agent stopped or never
# started, and copies of the site with one fault each (an expired
# certificate, a wrong key, a key others can read, a certificate under
# another identity's name, the plugin missing or unreadable, anonymous
# access, a listener without TLS, persistence off, an expired CRL) each give
# their FAIL with its reason and exit 1.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

GFCTL=$BUILD/bin/gfctl
for p in gfctl gf-fman gf-fmar gf-foa; do
	[ -x "$BUILD/bin/$p" ] || { echo "no $BUILD/bin/$p (run make)"; exit 1; }
done

agent_tmp
TLS_PORT=$(free_port)
LOCAL_PORT=$(free_port)

# --- a good site ------------------------------------------------------------------
"$top/ops/gf-site-init" -d "$S" --site site1 --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
	--agents gf-fman,gf-fmar,gf-foa >"$tmp/init.out" 2>&1; rc=$?
check "gf-site-init makes the site (exit 0)" eq $rc 0 || cat "$tmp/init.out"
check "... with the three agents' configurations" \
	eq "$(cd "$S/agents" && echo *.conf)" "gf-fman.conf gf-fmar.conf gf-foa.conf"
for a in fman fmar foa; do
	"$BUILD/bin/gf-$a" -n -c "$S/agents/gf-$a.conf" >/dev/null 2>"$tmp/n.err"; rc=$?
	check "the template's gf-$a.conf passes gf-$a -n" eq $rc 0 || cat "$tmp/n.err"
done
"$top/ops/gf-site-init" -d "$S" --site site1 >/dev/null 2>&1; rc=$?
check "gf-site-init refuses a site that exists" eq $rc 1

"$top/ops/gf-broker" -d "$S" --site site1 --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
	--plugin "$BUILD/lib/goflex_privacy.so" >/dev/null || { echo "broker did not start"; exit 1; }
for a in fman fmar foa; do
	"$BUILD/bin/gf-$a" -c "$S/agents/gf-$a.conf" >"$tmp/$a.log" 2>&1 &
	pids+=($!)
	eval "pid_$a=\$!"
done

# site_check ARGS...: runs gfctl site check, output in $tmp/out, status in $rc.
site_check() {
	"$GFCTL" site check "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# finds LEVEL TEXT: the last site check printed a LEVEL line containing TEXT.
finds() { grep -E "^$1 " "$tmp/out" | in_input -F -- "$2"; }
fails() { grep -c '^FAIL ' "$tmp/out"; }

# The agents take a moment to connect: up to 15 s for all three online.
for _ in $(seq 1 30); do
	site_check "$S" --timeout 0.5
	[ "$rc" -eq 0 ] && break
	sleep 0.5
done
check "a good site: exit 0" eq $rc 0 || cat "$tmp/out" "$tmp/err"
check "... no FAIL and no WARN" grep -q '^site site1: [0-9]* OK, 0 WARN, 0 FAIL$' "$tmp/out"
for id in fman.f1 fmar.m1 foa.dso1; do
	check "... $id online" finds OK "$id (agents/"
done
check "... the plugin running (its plugin.stats)" finds OK "plugin.stats: the plugin is running"
check "... every certificate checked" eq "$(grep -c '^OK    cert    pki/clients/.*\.crt:' "$tmp/out")" 4
check "... the keys matched" finds OK "pki/broker.key: matches its certificate"
check "... the TLS listener" finds OK "listener $TLS_PORT 0.0.0.0: TLS with required client certificates"

# --- agents absent --------------------------------------------------------------------
kill -TERM "$pid_fmar"
wait "$pid_fmar" 2>/dev/null
printf 'site site1\nidentity fman.f9\nstate_dir %s/state/x\n' "$S" >"$S/agents/gf-extra.conf"
site_check "$S"
check "an agent stopped and one never started: exit 1" eq $rc 1
check "... the stopped one is offline" finds FAIL "fmar.m1 (agents/gf-fmar.conf): offline"
check "... the other absent, never connected" \
	finds FAIL "fman.f9 (agents/gf-extra.conf): absent: no presence message on gf/site1/fman/f9/ops/all/status"
check "... the running ones still OK" finds OK "foa.dso1 (agents/gf-foa.conf): online"
check "... two FAILs" eq "$(fails)" 2
rm -f "$S/agents/gf-extra.conf"

# --- broken copies (certificates and configuration; no broker needed) -------------
# broken NAME: $B becomes a fresh copy of the good site without the agents' state.
broken() {
	B=$tmp/$1
	cp -a "$S" "$B"
	rm -rf "$B/data" "$B/state" "$B/mosquitto.pid"
	mkdir -p "$B/data"
	# The copy's configuration names the copy's files.
	sed -i "s|$S/|$B/|g" "$B/mosquitto.conf" "$B"/agents/*.conf
}
broken baseline
site_check "$B" --no-presence
check "a copy of the good site: exit 0 without presence" eq "$rc $(fails)" "0 0"

broken expired
(cd "$B/pki" && openssl ecparam -name prime256v1 -genkey -noout -out clients/foa.old.key &&
	chmod 600 clients/foa.old.key &&
	openssl req -new -key clients/foa.old.key -subj "/O=site1/OU=foa/CN=old" -out old.csr &&
	openssl ca -batch -config openssl.cnf -startdate 20200101000000Z -enddate 20200201000000Z \
		-in old.csr -out clients/foa.old.crt) >/dev/null 2>&1
site_check "$B" --no-presence
check "an expired certificate: exit 1" eq $rc 1
check "... FAIL naming it and when it expired" \
	finds FAIL "pki/clients/foa.old.crt: foa.old expired on 2020-02-01T00:00:00Z"
check "... the only FAIL" eq "$(fails)" 1

broken wrongkey
cp "$B/pki/clients/fmar.m1.key" "$B/pki/clients/fman.f1.key"
site_check "$B" --no-presence
check "a wrong key: exit 1" eq $rc 1
check "... FAIL: does not match" finds FAIL "pki/clients/fman.f1.key: does not match its certificate (wrong key)"

broken keymode
chmod 644 "$B/pki/broker.key"
site_check "$B" --no-presence
check "a key readable by others: FAIL with its mode" \
	eq "$rc $(grep -c '^FAIL .*pki/broker.key: mode 0644' "$tmp/out")" "1 1"

broken misnamed
cp "$B/pki/clients/foa.dso1.crt" "$B/pki/clients/foa.dso2.crt"
site_check "$B" --no-presence
check "a certificate under another identity's name: FAIL" \
	finds FAIL "pki/clients/foa.dso2.crt: the file is named foa.dso2 but the certificate is foa.dso1"

broken othersite
(cd "$B/pki" && openssl ecparam -name prime256v1 -genkey -noout -out x.key &&
	openssl req -new -key x.key -subj "/O=site2/OU=foa/CN=x" -out x.csr &&
	openssl x509 -req -in x.csr -CA ca.crt -CAkey ca.key -set_serial 4242 -days 30 \
		-out clients/foa.x.crt) >/dev/null 2>&1
site_check "$B" --no-presence
check "a certificate of another site's O=: FAIL with the plugin's reason" \
	finds FAIL "pki/clients/foa.x.crt: not an identity of this site (GF-AUTH-SITE)"

broken noplugin
sed -i '/^plugin /d' "$B/mosquitto.conf"
site_check "$B" --no-presence
check "the plugin missing: exit 1" eq $rc 1
check "... FAIL: no plugin" finds FAIL "plugin: mosquitto.conf loads no plugin"

broken pluginfile
sed -i "s|^plugin .*|plugin $B/nowhere/goflex_privacy.so|" "$B/mosquitto.conf"
site_check "$B" --no-presence
check "the plugin's file missing: FAIL naming it" \
	finds FAIL "plugin: line $(grep -n '^plugin ' "$B/mosquitto.conf" | cut -d: -f1): $B/nowhere/goflex_privacy.so cannot be read"

broken anonymous
sed -i 's/^allow_anonymous false/allow_anonymous true/' "$B/mosquitto.conf"
site_check "$B" --no-presence
check "anonymous access: exit 1" eq $rc 1
check "... FAIL: allow_anonymous true with its line" \
	finds FAIL "allow_anonymous: true (line $(grep -n '^allow_anonymous' "$B/mosquitto.conf" | cut -d: -f1)): clients without any credentials are let in"

broken plain
sed -i 's/^require_certificate true/require_certificate false/' "$B/mosquitto.conf"
printf 'listener %s 0.0.0.0\n' "$(free_port)" >>"$B/mosquitto.conf"
site_check "$B" --no-presence
check "TLS without client certificates: FAIL" finds FAIL "TLS without require_certificate true"
check "a plain listener on the network: FAIL" finds FAIL "reachable from the network without TLS"

broken nopersist
sed -i 's/^persistence true/persistence false/' "$B/mosquitto.conf"
site_check "$B" --no-presence
check "persistence off: FAIL" finds FAIL "persistence: off: sessions and queued QoS 1 messages are lost"

broken oldcrl
(cd "$B/pki" && openssl ca -batch -config openssl.cnf -gencrl -crlsec 1 -out crl.pem) \
	>/dev/null 2>&1
sleep 2
site_check "$B" --no-presence
check "an expired CRL: FAIL" finds FAIL "pki/crl.pem: expired"

broken wrongsite
sed -i 's/^plugin_opt_site site1/plugin_opt_site site9/' "$B/mosquitto.conf"
site_check "$B" --no-presence
check "the plugin configured for another site: FAIL" \
	finds FAIL "plugin_opt_site: 'site9', but the site CA is of site 'site1'"

# --- the command line ---------------------------------------------------------------
"$GFCTL" site check >/dev/null 2>&1; rc=$?
check "site check without SITEDIR: exit 2" eq $rc 2
"$GFCTL" site frob "$S" >/dev/null 2>"$tmp/err"; rc=$?
check "site with an unknown subcommand: exit 2 naming it" \
	eq "$rc $(grep -c "unknown subcommand 'frob'" "$tmp/err")" "2 1"
"$GFCTL" site check "$tmp/nowhere" >/dev/null 2>&1; rc=$?
check "site check of no directory: exit 2" eq $rc 2
"$GFCTL" site --help >"$tmp/out"; rc=$?
check "site --help: exit 0, with its usage" eq "$rc $(grep -c '^Usage: gfctl site check SITEDIR' "$tmp/out")" "0 1"

finish
