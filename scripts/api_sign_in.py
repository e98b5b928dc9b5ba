"""Signs an initial administrator in to a fresh shuan server the way a person would:
one-time password -> new password -> TOTP enrolment and confirmation. Prints the
session token. Used by scripts/schemathesis.sh.

usage: api_sign_in.py BASE_URL ACCOUNTS_JSON USERNAME
"""
import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.request

PASSWORD = "Schemathesis#2026-run"


def call(base, path, body, token=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def totp(secret_b32, t):
    # RFC 6238 with SHA-1, 30 s steps, 6 digits.
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def main():
    base, accounts, user = sys.argv[1], sys.argv[2], sys.argv[3]
    otp = next(a["one_time_password"] for a in json.load(open(accounts))["accounts"] if a["username"] == user)
    token = call(base, "/api/v1/session", {"username": user, "password": otp})["token"]
    call(base, "/api/v1/session/password", {"current_password": otp, "new_password": PASSWORD}, token)
    secret = call(base, "/api/v1/session/totp", {}, token)["secret"]
    call(base, "/api/v1/session/totp/confirm", {"code": totp(secret, time.time() - 30)}, token)
    print(token)


if __name__ == "__main__":
    main()
