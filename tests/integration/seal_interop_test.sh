#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sealed payloads between two JOSE implementations (issue 12, "Interoperability
# and honesty checks"): lib/anon (OpenSSL, through
# tests/tools/gf-seal) and python3-jwcrypto (tests/integration/seal_jwcrypto.py).
# What one seals the other opens, with the header fields alg, enc, kid, cty
# and nothing else; what jwcrypto seals passes the broker's form check (gfctl
# validate --as jose); each side refuses another key, changed parts and other
# algorithms; gf-seal refuses key files others may read and small keys, and
# opens with a ring of keys by kid (rotation). Needs no broker.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SEAL=$BUILD/tests/tools/gf-seal
GFCTL=$BUILD/bin/gfctl
PY=/usr/bin/python3
JWC=$top/tests/integration/seal_jwcrypto.py
[ -x "$SEAL" ] || { echo "no $SEAL (run make)"; exit 1; }
[ -x "$GFCTL" ] || { echo "no $GFCTL (run make)"; exit 1; }
$PY -c 'import jwcrypto' 2>/dev/null || { echo "no python3-jwcrypto (make deps)"; exit 1; }

tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

jwc() { $PY "$JWC" "$@"; }
# refused NAME ERRNAME FILE COMMAND...: COMMAND < FILE exits 1 with one line on
# stderr, "gf-seal: ERRNAME: ...", and nothing on stdout.
refused() {
	local name=$1 want=$2 in=$3 rc; shift 3
	"$@" <"$in" >out.txt 2>err.txt; rc=$?
	if [ $rc -eq 1 ] && [ ! -s out.txt ] && [ "$(wc -l <err.txt)" -eq 1 ] &&
		grep -q "^gf-seal: $want: " err.txt; then
		ok "$name: $want"
	else
		not_ok "$name: expected exit 1 and $want, got $rc: $(head -3 err.txt)"
	fi
}
# jwc_refuses NAME KEY FILE: jwcrypto does not open FILE with KEY.
jwc_refuses() {
	if jwc open "$2" <"$3" >out.txt 2>err.txt; then
		not_ok "$1: jwcrypto opened it"
	else
		check "$1: jwcrypto refuses it ($(cat err.txt))" [ ! -s out.txt ]
	fi
}

# --- keys -------------------------------------------------------------------------
(
	umask 077
	for k in k1 k2; do openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.pem; done
	openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out k3.pem
	openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out small.pem
) || { echo "openssl genpkey failed"; exit 1; }
for k in k1 k2 k3 small; do openssl pkey -in $k.pem -pubout -out $k.pub || exit 1; done
chmod 644 ./*.pub

# A MeterReadings document as gf-anonymizer seals it (pseudonyms, no ids).
cat >doc.json <<'EOF'
{"pseudonymKeyId":"hmac-2026","readings":[{"observedTimestamp":"2026-03-29T00:15:00Z","deviceId":"12d6sHGD1I99aLOY1OnXgQbpPDb14ItconK6jtIqd5E","value":1.25,"obis":"1-0:1.8.0","unit":"kWh"}]}
EOF
head -c 102400 /dev/urandom >big.bin

# --- gf-seal seals, jwcrypto opens ---------------------------------------------------
"$SEAL" seal --to k1.pub --kid sp-2026 --cty application/json <doc.json >a.jwe 2>err.txt
rc=$?
check "gf-seal seal exits 0, says nothing (rc $rc, stderr: $(cat err.txt))" \
	[ $rc -eq 0 -a -s a.jwe -a ! -s err.txt ]
check "a compact JWE: five parts" [ "$(tr -cd . <a.jwe | wc -c)" -eq 4 ]
jwc open k1.pem <a.jwe >a.out
check "jwcrypto opens what gf-seal sealed (rc $?)" [ -s a.out ]
check "... to the same bytes" cmp -s doc.json a.out
hdr=$(jwc header <a.jwe)
check "header is exactly alg, cty, enc, kid ($hdr)" [ "$hdr" = '{"alg": "RSA-OAEP-256", "cty": "application/json", "enc": "A256GCM", "kid": "sp-2026"}' ]
check "the broker's form check (gf-seal check)" grep -qx 'valid kid=sp-2026' <<<"$("$SEAL" check <a.jwe)"
check "gfctl validate meter.reading --as jose: valid" [ "$("$GFCTL" validate meter.reading a.jwe --as jose)" = valid ]

"$SEAL" seal --to k1.pub --kid sp-2026 <big.bin >big.jwe
jwc open k1.pem <big.jwe >big.out
check "100 kB of random bytes: jwcrypto opens them (rc $?)" [ -s big.out ]
check "... unchanged" cmp -s big.bin big.out
hdr=$(jwc header <big.jwe)
check "no cty: header is alg, enc, kid ($hdr)" [ "$hdr" = '{"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "sp-2026"}' ]
"$SEAL" seal --to k1.pub --kid sp-2026 <doc.json >a2.jwe
check "two seals of one document differ" [ -s a2.jwe -a "$(cat a.jwe)" != "$(cat a2.jwe)" ]

jwc_refuses "gf-seal's JWE, another key" k2.pem a.jwe
for part in 1 2 3 4; do
	jwc tamper $part <a.jwe >t$part.jwe
	jwc_refuses "gf-seal's JWE, part $part changed" k1.pem t$part.jwe
done
jwc reheader '{"alg":"RSA-OAEP-256","cty":"text/plain","enc":"A256GCM","kid":"sp-2026"}' <a.jwe >th.jwe
jwc_refuses "gf-seal's JWE, header changed" k1.pem th.jwe

# --- jwcrypto seals, gf-seal opens ---------------------------------------------------
jwc seal k1.pub sp-2026 --cty application/json <doc.json >b.jwe
check "jwcrypto seals (RSA-OAEP-256, A256GCM, kid, cty)" [ -s b.jwe ]
check "jwcrypto's JWE passes gfctl validate --as jose" [ "$("$GFCTL" validate meter.reading b.jwe --as jose)" = valid ]
check "... and gf-seal check" grep -qx 'valid kid=sp-2026' <<<"$("$SEAL" check <b.jwe)"
"$SEAL" open --key k1.pem --kid sp-2026 --info <b.jwe >b.out 2>err.txt; rc=$?
check "gf-seal opens what jwcrypto sealed (rc $rc: $(cat err.txt))" [ $rc -eq 0 ]
check "... to the same bytes" cmp -s doc.json b.out
check "... info: kid and cty" [ "$(cat err.txt)" = "kid=sp-2026 cty=application/json" ]
jwc seal k1.pub sp-2026 <big.bin >bigb.jwe
"$SEAL" open --key k1.pem --kid sp-2026 <bigb.jwe >bigb.out
check "100 kB from jwcrypto: unchanged" cmp -s big.bin bigb.out

# Rotation: one ring, three keys by kid; jwcrypto seals to each.
ring=(--key k1.pem --kid sp-2025 --key k2.pem --kid sp-2026 --key k3.pem --kid sp-2027)
n=0
for k in 1 2 3; do
	kid=sp-$((2024 + k))
	printf 'for %s' "$kid" | jwc seal k$k.pub $kid >r$k.jwe
	[ "$("$SEAL" open "${ring[@]}" <r$k.jwe)" = "for $kid" ] && n=$((n + 1))
done
check "a ring of three keys opens each by its kid ($n of 3)" [ $n -eq 3 ]
printf 'x' | jwc seal k2.pub sp-2025 >rx.jwe
refused "k2's JWE under k1's kid" EDENIED rx.jwe "$SEAL" open "${ring[@]}"
printf 'x' | jwc seal k1.pub sp-2099 >ru.jwe
refused "an unknown kid" ENOENT ru.jwe "$SEAL" open "${ring[@]}"
refused "a duplicate kid in the ring" EEXIST b.jwe "$SEAL" open --key k1.pem --kid a --key k2.pem --kid a

# Refusals of jwcrypto's JWEs.
refused "jwcrypto's JWE, another key" EDENIED b.jwe "$SEAL" open --key k2.pem --kid sp-2026
for part in 1 2 3 4; do
	jwc tamper $part <b.jwe >u$part.jwe
	refused "jwcrypto's JWE, part $part changed" EDENIED u$part.jwe "$SEAL" open --key k1.pem --kid sp-2026
done
jwc reheader '{"alg":"RSA-OAEP-256","cty":"application/json","enc":"A256GCM","kid":"sp-2026","x":1}' <b.jwe >uh.jwe
refused "jwcrypto's JWE, header changed" EDENIED uh.jwe "$SEAL" open --key k1.pem --kid sp-2026
head -c 200 b.jwe >cut.jwe
refused "jwcrypto's JWE, truncated" EPARSE cut.jwe "$SEAL" open --key k1.pem --kid sp-2026
# (jwcrypto 1.1 knows no RSA-OAEP-384 or -512)
for alg in RSA-OAEP RSA1_5; do
	jwc seal k1.pub sp-2026 --alg $alg <doc.json >alg.jwe
	check "jwcrypto seals with alg $alg" [ -s alg.jwe ]
	refused "jwcrypto's JWE with alg $alg" EPARSE alg.jwe "$SEAL" open --key k1.pem --kid sp-2026
done
for enc in A128GCM A256CBC-HS512; do
	jwc seal k1.pub sp-2026 --enc $enc <doc.json >enc.jwe
	check "jwcrypto seals with enc $enc" [ -s enc.jwe ]
	refused "jwcrypto's JWE with enc $enc" EPARSE enc.jwe "$SEAL" open --key k1.pem --kid sp-2026
done
jwc seal k1.pub sp-2026 --zip <doc.json >zip.jwe
check "jwcrypto seals compressed" [ -s zip.jwe ]
refused "jwcrypto's JWE compressed (zip DEF)" EPARSE zip.jwe "$SEAL" open --key k1.pem --kid sp-2026
jwc open k1.pem <zip.jwe >zip.out
check "... which jwcrypto itself opens (the refusal is ours)" cmp -s doc.json zip.out

# --- keys ----------------------------------------------------------------------------
cp k1.pem k1-open.pem
chmod 640 k1-open.pem
refused "a private key its group may read" EDENIED b.jwe "$SEAL" open --key k1-open.pem --kid sp-2026
check "... the message names the path and the mode" grep -q "k1-open.pem: mode 0640" err.txt
chmod 604 k1-open.pem
refused "a private key others may read" EDENIED b.jwe "$SEAL" open --key k1-open.pem --kid sp-2026
refused "a 1024-bit recipient" EINVAL doc.json "$SEAL" seal --to small.pub --kid sp
refused "a 1024-bit private key" EINVAL b.jwe "$SEAL" open --key small.pem --kid sp
refused "a private key as recipient" EPARSE doc.json "$SEAL" seal --to k1.pem --kid sp
refused "no such key file" ENOENT doc.json "$SEAL" seal --to nothere.pub --kid sp
: >empty
refused "nothing to seal" EINVAL empty "$SEAL" seal --to k1.pub --kid sp
"$SEAL" seal --to k1.pub >/dev/null 2>&1 </dev/null
check "usage error: exit 2" [ $? -eq 2 ]

finish
