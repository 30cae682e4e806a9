"""A test identity provider: an RSA key, tokens shaped like Cognito's, a JWKS over HTTP."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1"
CLIENT_ID = "test-app-client-id"


@cache
def rsa_key(name: str = "primary") -> rsa.RSAPrivateKey:
    # Key generation is slow; each named key is made once per test session.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TokenIssuer:
    def __init__(self, kid: str = "test-key-1", key_name: str = "primary") -> None:
        self.kid = kid
        self.key = rsa_key(key_name)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def claims(self, token_use: str = "id", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid4()),
            "iss": ISSUER,
            "token_use": token_use,
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
            "cognito:username": "alice",
        }
        if token_use == "id":
            claims["aud"] = CLIENT_ID
        else:
            claims["client_id"] = CLIENT_ID
        claims.update(overrides)  # None removes a claim
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, claims: dict[str, Any] | None = None, **header: Any) -> str:
        headers = {"kid": self.kid, **header}
        return jwt.encode(claims or self.claims(), self.key, algorithm="RS256", headers=headers)


class JwksServer:
    """Serves `keys` at /jwks.json on loopback and counts the fetches."""

    def __init__(self, issuers: list[TokenIssuer]) -> None:
        self.keys = [issuer.jwk() for issuer in issuers]
        self.fetches = 0
        self.failing = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                if server.failing:
                    self.send_error(503)
                    return
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"

    @contextmanager
    def running(self) -> Iterator["JwksServer"]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
