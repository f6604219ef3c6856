#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The second JOSE implementation of tests/integration/seal_interop_test.sh:
python3-jwcrypto seals and opens compact JWEs, independently of lib/anon.

  seal_jwcrypto.py seal PUB.pem KID [--cty CT] [--alg A] [--enc E] [--zip] < plain > jwe
  seal_jwcrypto.py open KEY.pem < jwe > plain       exit 1 when jwcrypto refuses it
  seal_jwcrypto.py header < jwe                     the protected header, JSON, sorted keys
  seal_jwcrypto.py tamper PART < jwe > jwe          flips one bit of the middle byte of
                                                    part 0..4 (the result stays canonical)
  seal_jwcrypto.py reheader JSON < jwe > jwe        puts JSON in place of the protected header
"""
import base64
import json
import sys

from jwcrypto import jwe, jwk


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def key(path):
    with open(path, "rb") as f:
        return jwk.JWK.from_pem(f.read())


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    data = sys.stdin.buffer.read()
    if cmd == "seal":
        pub, kid, rest = argv[2], argv[3], argv[4:]
        hdr = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": kid}
        while rest:
            opt = rest.pop(0)
            if opt == "--zip":
                hdr["zip"] = "DEF"
            elif opt in ("--cty", "--alg", "--enc"):
                hdr[opt[2:]] = rest.pop(0)
            else:
                sys.exit("unknown option " + opt)
        algs = jwe.default_allowed_algs + ["RSA1_5"]
        token = jwe.JWE(data, protected=json.dumps(hdr))
        token.allowed_algs = algs
        token.add_recipient(key(pub))
        sys.stdout.write(token.serialize(compact=True))
    elif cmd == "open":
        token = jwe.JWE()
        try:
            token.deserialize(data.decode(), key=key(argv[2]))
        except Exception as e:  # jwcrypto's refusals have several types
            print("jwcrypto refused: %s" % type(e).__name__, file=sys.stderr)
            sys.exit(1)
        sys.stdout.buffer.write(token.payload)
    elif cmd == "header":
        print(json.dumps(json.loads(b64d(data.decode().split(".")[0])), sort_keys=True))
    elif cmd == "tamper":
        parts = data.decode().split(".")
        i = int(argv[2])
        raw = bytearray(b64d(parts[i]))
        raw[len(raw) // 2] ^= 0x01
        parts[i] = b64e(bytes(raw))
        sys.stdout.write(".".join(parts))
    elif cmd == "reheader":
        parts = data.decode().split(".")
        parts[0] = b64e(argv[2].encode())
        sys.stdout.write(".".join(parts))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
