#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Test data for gf-sp (tests/integration/sp_test.sh): meter pseudonyms,
MeterReadings batches as gf-anonymizer would send them before sealing, and
sealing with a second JOSE implementation (python3-jwcrypto).

  sp_batches.py pseudonym N...
      the pseudonym of test meter N: base64url(SHA-256("meter-N")), 43 chars
  sp_batches.py register --meters A B --start T --steps S --per K [--skip N@STEP]...
                [--stop N@STEP]... [--key-id ID]
      one JSON MeterReadings per line: meter n's register reads 100 n +
      0.1 n k kWh at step k (every 15 minutes from T, epoch seconds), K
      readings per line, in time order; --skip leaves one read out, --stop
      ends a meter's reads after a step
  sp_batches.py seal --pub PEM --kid KID < plain > jwe
      a compact JWE (RSA-OAEP-256, A256GCM, cty application/json), jwcrypto
"""
import argparse
import base64
import datetime
import hashlib
import json
import sys


def pseudonym(n):
    digest = hashlib.sha256(b"meter-%d" % n).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def register(a):
    skip = {tuple(int(x) for x in s.split("@")) for s in a.skip}
    stop = {int(s.split("@")[0]): int(s.split("@")[1]) for s in a.stop}
    out = []
    for k in range(a.steps):
        for n in range(a.meters[0], a.meters[1] + 1):
            if (n, k) in skip or (n in stop and k > stop[n]):
                continue
            out.append({"observedTimestamp": stamp(a.start + 900 * k), "deviceId": pseudonym(n),
                        "value": round(100 * n + 0.1 * n * k, 6), "obis": "1-0:1.8.0",
                        "unit": "kWh"})
    for i in range(0, len(out), a.per):
        doc = {"readings": out[i:i + a.per]}
        if a.key_id:
            doc["pseudonymKeyId"] = a.key_id
        print(json.dumps(doc, separators=(",", ":")))


def seal(a):
    from jwcrypto import jwe, jwk
    with open(a.pub, "rb") as f:
        key = jwk.JWK.from_pem(f.read())
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": a.kid, "cty": "application/json"}
    token = jwe.JWE(sys.stdin.buffer.read(), protected=json.dumps(header))
    token.add_recipient(key)
    print(token.serialize(compact=True))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("pseudonym")
    ps.add_argument("n", type=int, nargs="+")
    r = sub.add_parser("register")
    r.add_argument("--meters", type=int, nargs=2, required=True)
    r.add_argument("--start", type=int, required=True)
    r.add_argument("--steps", type=int, required=True)
    r.add_argument("--per", type=int, default=1000)
    r.add_argument("--skip", action="append", default=[])
    r.add_argument("--stop", action="append", default=[])
    r.add_argument("--key-id", default="dso-k1")
    s = sub.add_parser("seal")
    s.add_argument("--pub", required=True)
    s.add_argument("--kid", required=True)
    a = p.parse_args()
    if a.cmd == "pseudonym":
        for n in a.n:
            print(pseudonym(n))
    elif a.cmd == "register":
        register(a)
    else:
        seal(a)


if __name__ == "__main__":
    main()
