#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Opens sealed payloads, one per line of stdin (a compact JWE as is, or a
# `gfctl sub` JSON line), with python3-jwcrypto,
# a JOSE implementation independent of ours, and prints one JSON line per
# reading: {"deviceId", "observedTimestamp", "value", "obis", "unit",
# "pseudonymKeyId", "kid"}. Exit 1 on a payload it cannot open, with why.
#   open_sealed.py PRIVATE_KEY.pem < gfctl-sub-output
import json
import sys

from jwcrypto import jwe, jwk

key = jwk.JWK.from_pem(open(sys.argv[1], "rb").read())
for n, line in enumerate(sys.stdin, 1):
    line = line.strip()
    if not line:
        continue
    if line.startswith("{"):
        msg = json.loads(line)
        if msg.get("contentType") != "application/jose":
            sys.exit(f"line {n}: Content Type {msg.get('contentType')!r}, not application/jose")
        line = msg["payload"]
    token = jwe.JWE()
    token.deserialize(line)
    hdr = token.jose_header
    if hdr.get("alg") != "RSA-OAEP-256" or hdr.get("enc") != "A256GCM":
        sys.exit(f"line {n}: alg {hdr.get('alg')} enc {hdr.get('enc')}")
    token.decrypt(key)
    doc = json.loads(token.payload)
    for r in doc["readings"]:
        r["pseudonymKeyId"] = doc.get("pseudonymKeyId")
        r["kid"] = hdr.get("kid")
        r["cty"] = hdr.get("cty")
        r["msg"] = n
        print(json.dumps(r, sort_keys=True))
