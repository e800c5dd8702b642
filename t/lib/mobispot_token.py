#!/usr/bin/python3
"""Builds test tokens for the SSO gateway tests, good ones and bad ones.

    mobispot_token.py KEYFILE ALG HEADER_JSON PAYLOAD_JSON
    mobispot_token.py --jwks KEYFILE[:KID[:ALG]]...      (a JWKS document)

HEADER_JSON and PAYLOAD_JSON are used as written (so that duplicate members,
floats or odd types survive), after "@now" is replaced by the current time
and "@now+N" / "@now-N" by the current time plus or minus N seconds.  ALG is
the algorithm actually used to sign (HS*, RS*, ES*, or "none"), independent of
the alg written in the header.  KEYFILE is an HMAC secret file (its trailing
end of line removed, as the module does) or a PEM private key; for HS* a PEM
*public* key file may be given on purpose (algorithm confusion tests).
"""

import base64
import hashlib
import hmac
import re
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def times(text):
    now = int(time.time())

    def repl(m):
        if m.group(1):
            return str(now + int(m.group(1)))
        return str(now)

    return re.sub(r"@now([+-][0-9]+)?", repl, text)


def sign(keyfile, alg, data):
    if alg == "none":
        return b""

    bits = int(alg[2:])
    h = {256: hashes.SHA256, 384: hashes.SHA384, 512: hashes.SHA512}[bits]
    raw = open(keyfile, "rb").read()

    if alg.startswith("HS"):
        dig = {256: hashlib.sha256, 384: hashlib.sha384,
               512: hashlib.sha512}[bits]
        if not raw.startswith(b"-----"):
            raw = raw.rstrip(b"\r\n")
        return hmac.new(raw, data, dig).digest()

    key = serialization.load_pem_private_key(raw, password=None)

    if alg.startswith("RS"):
        return key.sign(data, padding.PKCS1v15(), h())

    der = key.sign(data, ec.ECDSA(h()))
    r, s = decode_dss_signature(der)
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def jwk(spec):
    """KEYFILE[:KID[:ALG]] (a PEM public or private key) as a JWK."""
    parts = spec.split(":")
    raw = open(parts[0], "rb").read()
    try:
        key = serialization.load_pem_public_key(raw)
    except ValueError:
        key = serialization.load_pem_private_key(raw, password=None)
        key = key.public_key()

    def num(n, size=None):
        size = size or (n.bit_length() + 7) // 8
        return b64(n.to_bytes(size, "big"))

    nums = key.public_numbers()
    if hasattr(nums, "n"):
        out = {"kty": "RSA", "n": num(nums.n), "e": num(nums.e)}
    else:
        size = (key.curve.key_size + 7) // 8
        crv = {256: "P-256", 384: "P-384", 521: "P-521"}[key.curve.key_size]
        out = {"kty": "EC", "crv": crv, "x": num(nums.x, size),
               "y": num(nums.y, size)}
    if len(parts) > 1 and parts[1]:
        out["kid"] = parts[1]
    if len(parts) > 2 and parts[2]:
        out["alg"] = parts[2]
    out["use"] = "sig"
    return out


def main():
    if sys.argv[1] == "--jwks":
        import json
        sys.stdout.write(json.dumps({"keys": [jwk(s) for s in sys.argv[2:]]}))
        return

    keyfile, alg, header, payload = sys.argv[1:5]
    # argv's bytes as given, invalid UTF-8 too (the hostile cases need it)
    raw = ("utf-8", "surrogateescape")
    signing_input = (b64(times(header).encode(*raw)) + "."
                     + b64(times(payload).encode(*raw)))
    sig = sign(keyfile, alg, signing_input.encode())
    sys.stdout.write(signing_input + "." + b64(sig))


if __name__ == "__main__":
    main()
