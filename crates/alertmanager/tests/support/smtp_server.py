"""An SMTP server for pm-alertmanager's email tests, built on aiosmtpd.

Usage: smtp_server.py '<json options>'
  port, dir: where to listen (127.0.0.1) and where to write one JSON file per message
  mode: "plain" (STARTTLS offered when a cert is given), or "implicit" (TLS from the start)
  cert, key: PEM files of the server certificate
  exclude: AUTH mechanisms not to offer (of CRAM-MD5, LOGIN, PLAIN)
  auth_require_tls: offer AUTH only after TLS
Only user "alice" with password (and CRAM-MD5 secret) "s3cret" authenticates. Each message
file records the envelope, the content, the TLS state and what authenticated the session.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import uuid

from aiosmtpd.smtp import SMTP, AuthResult

USER, PASSWORD = "alice", "s3cret"


class Handler:
    def __init__(self, out_dir):
        self.out_dir = out_dir

    @staticmethod
    def _result(mechanism, username, password, identity=None):
        ok = username == USER and password == PASSWORD
        data = {"mechanism": mechanism, "username": username, "password": password}
        if identity is not None:
            data["identity"] = identity
        return AuthResult(success=ok, auth_data=data)

    async def auth_PLAIN(self, server, args):
        if len(args) == 1:
            raw = await server.challenge_auth("")
        else:
            raw = base64.b64decode(args[1])
        identity, username, password = raw.decode().split("\0")
        return self._result("PLAIN", username, password, identity)

    async def auth_LOGIN(self, server, args):
        username = await server.challenge_auth("Username:")
        password = await server.challenge_auth("Password:")
        return self._result("LOGIN", username.decode(), password.decode())

    async def auth_CRAM__MD5(self, server, args):
        challenge = f"<{uuid.uuid4()}@smtp.test>".encode()
        answer = (await server.challenge_auth(challenge)).decode()
        username, digest = answer.rsplit(" ", 1)
        expected = hmac.new(PASSWORD.encode(), challenge, hashlib.md5).hexdigest()
        password = PASSWORD if digest == expected else "<wrong digest>"
        return self._result("CRAM-MD5", username, password)

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "content": envelope.content.decode("utf-8", "replace"),
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "auth": session.auth_data,
        }
        path = os.path.join(self.out_dir, f"{uuid.uuid4()}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    opts = json.loads(sys.argv[1])
    context = None
    if opts.get("cert"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(opts["cert"], opts["key"])
    implicit = opts.get("mode") == "implicit"
    handler = Handler(opts["dir"])

    def factory():
        return SMTP(
            handler,
            hostname="smtp.test",
            tls_context=None if implicit else context,
            auth_require_tls=opts.get("auth_require_tls", False),
            auth_exclude_mechanism=opts.get("exclude", []),
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host="127.0.0.1",
            port=opts["port"],
            ssl=context if implicit else None,
        )
    )
    print("ready", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
