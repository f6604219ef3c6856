#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Tests of certs/gf-certs: builds a throw-away site PKI in a temp dir and checks
# subjects, key modes, CRL verification, revocation, refusals and that no
# private key material is ever printed. Last line: "N passed, M failed".

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
GF=${GF_CERTS:-$here/../../certs/gf-certs}
[ -x "$GF" ] || {
	echo "not ok - $GF is not executable"
	echo "0 passed, 1 failed"
	exit 1
}

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
P=$work/pki
OUT=$work/all-output.log # every byte gf-certs writes, stdout and stderr
: >"$OUT"

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}
nok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	[ -z "${2:-}" ] || printf '#   %s\n' "$2"
}
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

# gf ARGS...: run gf-certs, output appended to $OUT, copies in $work/out,
# $work/err; exit status in $rc.
rc=0
gf() {
	rc=0
	"$GF" "$@" >"$work/out" 2>"$work/err" || rc=$?
	cat "$work/out" "$work/err" >>"$OUT"
}
expect_ok() { # expect_ok DESCRIPTION ARGS...
	local d=$1
	shift
	gf "$@"
	if [ "$rc" -eq 0 ]; then ok "$d"; else nok "$d" "exit $rc: $(cat "$work/err")"; fi
}
expect_refused() { # expect_refused DESCRIPTION ARGS...: exit != 0, one "gf-certs: " line
	local d=$1
	shift
	gf "$@"
	if [ "$rc" -ne 0 ] && grep -q '^gf-certs: ' "$work/err" && [ ! -s "$work/out" ]; then
		ok "$d"
	else
		nok "$d" "exit $rc, stderr: $(cat "$work/err")"
	fi
}

subject() { openssl x509 -in "$1" -noout -subject -nameopt "${2:-oneline}" 2>/dev/null; }
mode() { stat -c %a "$1" 2>/dev/null; }
verify() { openssl verify -CAfile "$P/ca.crt" -crl_check -CRLfile "$P/crl.pem" "$@" >/dev/null 2>&1; }
not() { ! "$@"; }
outputs() { # outputs PATTERN COMMAND...
	local pat=$1 text
	shift
	text=$("$@" 2>&1) # the command's own exit status does not matter here
	grep -Eq -- "$pat" <<<"$text"
}
no_tmp_left() { [ -z "$(find "$1" -name '.gf-tmp*' 2>/dev/null)" ]; }
# revoked CERT: verification with the CRL fails, and because of the revocation
revoked() { outputs 'certificate revoked' openssl verify -CAfile "$P/ca.crt" -crl_check -CRLfile "$P/crl.pem" "$1"; }

FOA=$P/clients/foa.7-PRE-001
OPS=$P/clients/ops.alice

# ---------------------------------------------------------------- init
expect_ok "init creates site CA site1" init -d "$P" --site site1
check "ca.crt, ca.key, crl.pem, index.txt, serial, crlnumber exist" \
	test -s "$P/ca.crt" -a -s "$P/ca.key" -a -s "$P/crl.pem" -a -e "$P/index.txt" -a -s "$P/serial" -a -s "$P/crlnumber"
check "CA subject is O = site1, CN = site1 site CA" \
	test "$(subject "$P/ca.crt")" = "subject=O = site1, CN = site1 site CA"
ca_ext=$(openssl x509 -in "$P/ca.crt" -noout -ext basicConstraints,keyUsage 2>/dev/null)
check "CA basicConstraints critical CA:TRUE" \
	grep -q 'Basic Constraints: critical' <<<"$ca_ext"
check "CA keyUsage keyCertSign,cRLSign" \
	grep -q 'Certificate Sign, CRL Sign' <<<"$ca_ext"
check "CA key is EC prime256v1" \
	outputs 'ASN1 OID: prime256v1' openssl x509 -in "$P/ca.crt" -noout -text
check "CA key file mode is 600" test "$(mode "$P/ca.key")" = 600
check "initial CRL is signed by the CA" \
	outputs 'verify OK' openssl crl -in "$P/crl.pem" -CAfile "$P/ca.crt" -noout
expect_refused "init twice is refused" init -d "$P" --site site1
expect_refused "init with a bad site name is refused" init -d "$work/p2" --site 'bad/site'

# ---------------------------------------------------------------- broker
expect_ok "broker certificate issued" broker -d "$P" --name broker.site1.example --ip 10.1.2.3
check "broker key file mode is 600" test "$(mode "$P/broker.key")" = 600
san=$(openssl x509 -in "$P/broker.crt" -noout -ext subjectAltName,extendedKeyUsage 2>/dev/null)
check "broker SAN has DNS name, --ip, localhost, 127.0.0.1" \
	grep -q 'DNS:broker.site1.example, IP Address:10.1.2.3, DNS:localhost, IP Address:127.0.0.1' <<<"$san"
check "broker has extendedKeyUsage serverAuth" grep -q 'TLS Web Server Authentication' <<<"$san"
check "broker verifies as an SSL server with CRL check" verify -purpose sslserver "$P/broker.crt"
expect_refused "second broker without --force is refused" broker -d "$P" --name broker.site1.example

# ---------------------------------------------------------------- clients
expect_ok "client foa/7-PRE-001 issued" client -d "$P" --role foa --id 7-PRE-001
expect_ok "client ops/alice issued" client -d "$P" --role ops --id alice
check "foa subject is exactly O = site1, OU = foa, CN = 7-PRE-001" \
	test "$(subject "$FOA.crt")" = "subject=O = site1, OU = foa, CN = 7-PRE-001"
check "foa subject (RFC2253) is exactly CN=7-PRE-001,OU=foa,O=site1" \
	test "$(subject "$FOA.crt" RFC2253)" = "subject=CN=7-PRE-001,OU=foa,O=site1"
check "ops subject is exactly O = site1, OU = ops, CN = alice" \
	test "$(subject "$OPS.crt")" = "subject=O = site1, OU = ops, CN = alice"
check "foa key file mode is 600" test "$(mode "$FOA.key")" = 600
check "ops key file mode is 600" test "$(mode "$OPS.key")" = 600
check "foa has extendedKeyUsage clientAuth" \
	outputs 'TLS Web Client Authentication' openssl x509 -in "$FOA.crt" -noout -ext extendedKeyUsage
check "foa key matches its certificate" \
	test "$(openssl pkey -in "$FOA.key" -pubout 2>/dev/null)" = "$(openssl x509 -in "$FOA.crt" -noout -pubkey 2>/dev/null)"
check "foa verifies with CRL check before revocation" verify "$FOA.crt"
check "foa verifies as an SSL client" verify -purpose sslclient "$FOA.crt"
check "ops verifies with CRL check" verify "$OPS.crt"
expect_refused "re-issuing a valid client certificate is refused" client -d "$P" --role foa --id 7-PRE-001
check "the refusal says how to revoke" grep -q 'gf-certs revoke' "$work/err"

# ---------------------------------------------------------------- refusals
expect_refused "bad role is refused" client -d "$P" --role admin --id x1
expect_refused "id 'all' is refused" client -d "$P" --role foa --id all
expect_refused "id with '/' is refused" client -d "$P" --role foa --id 'a/b'
expect_refused "id with '+' is refused" client -d "$P" --role foa --id 'a+b'
expect_refused "id with ',' is refused" client -d "$P" --role foa --id 'a,CN=b'
expect_refused "id longer than 64 characters is refused" client -d "$P" --role foa --id "$(printf 'x%.0s' {1..65})"
check "no certificate written for refused ids" \
	test ! -e "$P/clients/admin.x1.crt" -a ! -e "$P/clients/foa.all.crt" -a ! -e "$P/clients/foa.a+b.crt"
gf bogus -d "$P"
check "unknown command exits 2 with a message" test "$rc" -eq 2 -a -s "$work/err"
gf client -d "$P" --role foa --id x2 --colour blue
check "unknown option exits 2 naming it" outputs "^gf-certs: .*--colour.*/rc=2\$" \
	printf '%s/rc=%s\n' "$(cat "$work/err")" "$rc"
gf --help
check "--help prints usage and succeeds" test "$rc" -eq 0 -a "$(head -n 1 "$work/out")" = "Usage: gf-certs COMMAND [OPTIONS]"

# ---------------------------------------------------------------- revoke
expect_ok "revoke foa/7-PRE-001" revoke -d "$P" --role foa --id 7-PRE-001
check "foa fails verification with CRL check after revocation" not verify "$FOA.crt"
check "the failure is 'certificate revoked'" revoked "$FOA.crt"
check "ops still verifies after foa revocation" verify "$OPS.crt"
gf list -d "$P"
check "list shows foa revoked" grep -Eq '^revoked +[0-9A-F]+ +O=site1, OU=foa, CN=7-PRE-001$' "$work/out"
check "list shows ops valid" grep -Eq '^valid +[0-9A-F]+ +O=site1, OU=ops, CN=alice$' "$work/out"
check "list has one line per issued certificate (3)" test "$(wc -l <"$work/out")" -eq 3
expect_refused "revoking twice is refused" revoke -d "$P" --role foa --id 7-PRE-001
expect_refused "revoking an unknown client is refused" revoke -d "$P" --role foa --id nobody
expect_ok "crl regenerates the CRL" crl -d "$P"
check "foa still fails verification after crl" not verify "$FOA.crt"
expect_ok "a revoked client can be re-issued" client -d "$P" --role foa --id 7-PRE-001
check "the re-issued foa verifies" verify "$FOA.crt"
check "re-issued foa key file mode is 600" test "$(mode "$FOA.key")" = 600

# ---------------------------------------------------------------- output
if grep -q 'PRIVATE KEY' "$OUT"; then
	nok "no output of gf-certs contains PRIVATE KEY"
else
	ok "no output of gf-certs contains PRIVATE KEY"
fi
check "output was captured at all (sanity)" test -s "$OUT"
bad_modes=$(find "$work" -name '*.key' ! -perm 600 2>/dev/null)
check "every .key file is mode 600" test -z "$bad_modes"
check "no temporary files left in the PKI dir" no_tmp_left "$P"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
