#!/usr/bin/python3
"""An OpenID Connect client this project did not write (Debian's
python3-authlib) driving the issuer, for t/533-sso-oidc-client.t.

    oidc_client.py flow  STATE_FILE    discovery, authorize (a browser's
                                       sign-in), token, ID token, userinfo,
                                       refresh, the grace's retry
    oidc_client.py reuse STATE_FILE    the first refresh token again, after
                                       the grace: the session revoked
    oidc_client.py discovery STATE_FILE  discovery alone

The settings come from the environment: OIDC_ISSUER (the issuer's URL),
OIDC_CA (the test CA's PEM file: every request is checked against it),
OIDC_CLIENT_ID, OIDC_REDIRECT_URI, OIDC_USERNAME, OIDC_PASSWORD,
OIDC_API_URL (a gateway location that takes the app's access tokens).
"flow" writes what "reuse" needs (tokens, endpoints) into STATE_FILE.

Each step prints one line of JSON, {"step": NAME, "ok": true|false, ...}
with what it saw or the error; the first failed step ends the run (exit
1).  The perl test asserts on the lines.
"""

import json
import os
import sys
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken, IDToken
from authlib.oidc.discovery import OpenIDProviderMetadata

ENV = os.environ


class StepFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise StepFailed(what)


def step(name, fn, *args):
    try:
        seen = fn(*args) or {}
    except (StepFailed, AuthlibBaseError, requests.RequestException,
            ValueError, KeyError) as e:
        print(json.dumps({"step": name, "ok": False,
                          "error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
    print(json.dumps(dict(seen, step=name, ok=True)), flush=True)
    return seen


class Form(HTMLParser):
    """The first form of a page: its action, method and named inputs."""

    def __init__(self):
        super().__init__()
        self.action, self.method, self.fields, self.done = None, None, {}, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None and not self.done:
            self.action = a.get("action", "")
            self.method = (a.get("method") or "GET").upper()
        elif tag == "input" and self.action is not None and not self.done:
            if a.get("name"):
                self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self.done = 1


def browser():
    b = requests.Session()
    b.trust_env = False      # no proxy or CA bundle from the environment
    b.verify = ENV["OIDC_CA"]
    return b


def discovery(st):
    iss = ENV["OIDC_ISSUER"]
    r = browser().get(iss + "/.well-known/openid-configuration", timeout=30)
    check(r.status_code == 200, "discovery: status %d" % r.status_code)
    meta = OpenIDProviderMetadata(r.json())
    meta.validate()
    check(meta["issuer"] == iss, "issuer %r, not %r" % (meta["issuer"], iss))
    check("S256" in meta.get("code_challenge_methods_supported", []),
          "S256 not in code_challenge_methods_supported")
    check("none" in meta["token_endpoint_auth_methods_supported"],
          "the auth method none (a public app) is not offered")
    st["meta"] = dict(meta)
    return {"issuer": meta["issuer"],
            "endpoints": {k: meta[k] for k in (
                "authorization_endpoint", "token_endpoint",
                "userinfo_endpoint", "jwks_uri", "end_session_endpoint")}}


def client(st):
    c = OAuth2Session(ENV["OIDC_CLIENT_ID"], scope="openid",
                      redirect_uri=ENV["OIDC_REDIRECT_URI"],
                      code_challenge_method="S256",
                      token_endpoint_auth_method="none",
                      token=st.get("token"))
    c.trust_env = False
    c.verify = ENV["OIDC_CA"]
    return c


def authorize(st):
    """The sign-in as a browser makes it, up to the redirect to the app."""
    c = client(st)
    verifier = generate_token(64)
    nonce = generate_token(32)
    url, state = c.create_authorization_url(
        st["meta"]["authorization_endpoint"], code_verifier=verifier,
        nonce=nonce)
    q = parse_qs(urlsplit(url).query)
    check(q.get("code_challenge_method") == ["S256"], "no S256 in " + url)
    st.update(verifier=verifier, nonce=nonce, state=state)
    b = browser()
    seen, hops, posted = [], 0, False
    r = b.get(url, allow_redirects=False, timeout=30)
    while True:
        hops += 1
        check(hops < 10, "too many hops: %s" % seen)
        seen.append(r.status_code)
        loc = r.headers.get("Location")
        if r.is_redirect and loc:
            nxt = urljoin(r.url, loc)
            if nxt.startswith(ENV["OIDC_REDIRECT_URI"]):
                break                      # the app's: not followed
            check(nxt.startswith(ENV["OIDC_ISSUER"] + "/"),
                  "a redirect out of the issuer: " + nxt)
            r = b.get(nxt, allow_redirects=False, timeout=30)
            continue
        check(r.status_code == 200 and not posted,
              "status %d at %s" % (r.status_code, r.url))
        f = Form()
        f.feed(r.text)
        check("password" in f.fields and "csrf" in f.fields,
              "no sign-in form with a CSRF token at " + r.url)
        data = dict(f.fields, username=ENV["OIDC_USERNAME"],
                    password=ENV["OIDC_PASSWORD"])
        r = b.post(urljoin(r.url, f.action), data=data,
                   allow_redirects=False, timeout=60)
        posted = True
    q = parse_qs(urlsplit(nxt).query)
    st["response"] = nxt
    cookies = sorted(c.name for c in b.cookies)
    return {"statuses": seen, "signed_in": posted, "cookies": cookies,
            "state_back": q.get("state") == [state],
            "iss": (q.get("iss") or [None])[0],
            "code": bool(q.get("code"))}


def key_set(st):
    r = browser().get(st["meta"]["jwks_uri"], timeout=30)
    check(r.status_code == 200, "jwks: status %d" % r.status_code)
    return JsonWebKey.import_key_set(r.json())


def jwt(st):
    return JsonWebToken(st["meta"]["id_token_signing_alg_values_supported"])


def id_token_claims(st, token, nonce, cls):
    """The ID token's signature by a key of the JWKS, then its claims."""
    claims = jwt(st).decode(
        token["id_token"], key_set(st), claims_cls=cls,
        claims_options={"iss": {"essential": True,
                                "value": st["meta"]["issuer"]},
                        "aud": {"essential": True,
                                "value": ENV["OIDC_CLIENT_ID"]},
                        "sub": {"essential": True},
                        "exp": {"essential": True},
                        "iat": {"essential": True}},
        claims_params={"nonce": nonce, "client_id": ENV["OIDC_CLIENT_ID"],
                       "access_token": token["access_token"]})
    claims.validate(leeway=5)
    return claims


def access_claims(st, token):
    claims = jwt(st).decode(
        token["access_token"], key_set(st),
        claims_options={"iss": {"essential": True,
                                "value": st["meta"]["issuer"]},
                        "exp": {"essential": True}})
    claims.validate(leeway=5)
    return claims


def tokens(st):
    c = client(st)
    token = c.fetch_token(st["meta"]["token_endpoint"],
                          authorization_response=st["response"],
                          code_verifier=st["verifier"], state=st["state"])
    check(token.get("token_type", "").lower() == "bearer",
          "token_type %r" % token.get("token_type"))
    for k in ("access_token", "id_token", "refresh_token", "expires_in"):
        check(k in token, "no %s in the answer" % k)
    st["token"] = dict(token)
    idt = id_token_claims(st, token, st["nonce"], CodeIDToken)
    check(idt.get("nonce") == st["nonce"], "the nonce is not the request's")
    at = access_claims(st, token)
    st["sub"] = idt["sub"]
    return {"id_token": {"header": dict(idt.header), "claims": dict(idt)},
            "access_token": {"header": dict(at.header), "claims": dict(at)},
            "expires_in": token["expires_in"], "scope": token.get("scope"),
            "expires_at": token.get("expires_at")}


def userinfo(st):
    c = client(st)
    r = c.get(st["meta"]["userinfo_endpoint"], timeout=30)
    check(r.status_code == 200, "userinfo: status %d %s"
          % (r.status_code, r.text))
    api = c.get(ENV["OIDC_API_URL"], timeout=30)
    return {"claims": r.json(), "api_status": api.status_code,
            "api_body": api.text}


def refresh(st):
    c = client(st)
    old = st["token"]["refresh_token"]
    new = c.refresh_token(st["meta"]["token_endpoint"], refresh_token=old)
    check(new["refresh_token"] != old, "the refresh token did not rotate")
    check(new["access_token"] != st["token"]["access_token"],
          "the same access token")
    idt = id_token_claims(st, new, None, IDToken)
    check(idt["sub"] == st["sub"], "another sub")
    at = access_claims(st, new)
    st.update(first_rt=old, token=dict(new))
    r = c.get(st["meta"]["userinfo_endpoint"], timeout=30)
    return {"rotated": True, "nonce_in_id_token": "nonce" in idt,
            "typ": at.header.get("typ"), "sid": at.get("sid"),
            "userinfo_status": r.status_code}


def grace(st):
    """The first token again at once: a retry whose reply was lost."""
    c = client(st)
    again = c.refresh_token(st["meta"]["token_endpoint"],
                            refresh_token=st["first_rt"])
    check(again["refresh_token"] not in (st["first_rt"],
                                         st["token"]["refresh_token"]),
          "the retry did not give another refresh token")
    st["token"] = dict(again)
    st["grace_at"] = time.time()
    return {"new_pair": True}


def refused(st, rt):
    """A refresh grant the issuer must refuse: the OAuth error it gave."""
    c = client(st)
    try:
        c.refresh_token(st["meta"]["token_endpoint"], refresh_token=rt)
    except OAuthError as e:
        return {"error": e.error, "description": e.description}
    raise StepFailed("the refresh was not refused")


def reuse(st):
    e = refused(st, st["first_rt"])
    return dict(e, waited=round(time.time() - st["grace_at"], 1))


def after(st):
    e = refused(st, st["token"]["refresh_token"])
    c = client(st)
    r = c.get(st["meta"]["userinfo_endpoint"], timeout=30)
    t0 = time.time()
    while True:
        api = c.get(ENV["OIDC_API_URL"], timeout=30)
        if api.status_code != 200 or time.time() - t0 > 5:
            break
        time.sleep(0.05)
    return {"current_rt": e, "userinfo_status": r.status_code,
            "userinfo_www": r.headers.get("WWW-Authenticate"),
            "api_status": api.status_code,
            "api_refused_after": round(time.time() - t0, 2)}


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "flow":
        st = {}
        step("discovery", discovery, st)
        step("authorize", authorize, st)
        step("token", tokens, st)
        step("userinfo", userinfo, st)
        step("refresh", refresh, st)
        step("grace", grace, st)
        with open(path, "w") as f:
            json.dump(st, f)
    elif mode == "discovery":
        step("discovery", discovery, {})
    elif mode == "reuse":
        with open(path) as f:
            st = json.load(f)
        step("reuse", reuse, st)
        step("revoked", after, st)
    else:
        sys.exit("usage: oidc_client.py flow|reuse|discovery STATE_FILE")


if __name__ == "__main__":
    main()
