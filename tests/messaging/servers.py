"""Real servers the channel tests talk to, each on a free port of 127.0.0.1, stopped afterwards:
Dovecot (IMAP, from Debian's dovecot-imapd), an aiosmtpd SMTP sink, and small HTTP servers that
speak the WeChat API or receive webhooks."""

import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Dovecot:
    """An IMAP server with one user and a throwaway Maildir. Runs unprivileged; under root
    (CI containers) the mail processes run as the `dovecot` system user, since Dovecot refuses
    mail access as uid 0."""

    user = "support@example.com"
    password = "imap-secret"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dovecot-")
        self.port = free_port()
        self.proc = None

    def start(self):
        d = self.dir
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            uid, gid, run_user = owner.pw_uid, owner.pw_gid, "dovecot"
        else:
            uid, gid = os.getuid(), os.getgid()
            run_user = pwd.getpwuid(uid).pw_name
        os.makedirs(f"{d}/mail", exist_ok=True)
        os.makedirs(f"{d}/run", exist_ok=True)
        with open(f"{d}/passwd", "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{d}/mail::\n")
        with open(f"{d}/dovecot.conf", "w") as f:
            f.write(
                f"""
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {run_user}
default_login_user = {run_user}
default_internal_group = {grp.getgrgid(gid).gr_name}
first_valid_uid = {min(uid, 100) if uid else 1}
mail_location = maildir:{d}/mail/Maildir
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Archive {{
    auto = create
  }}
}}
"""
            )
        os.makedirs(f"{d}/state", exist_ok=True)
        if os.getuid() == 0:
            for root, dirs, files in os.walk(d):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), uid, gid)
            os.chown(d, uid, gid)
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", f"{d}/dovecot.conf"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if not _wait_port(self.port):
            out = b""
            if self.proc.poll() is not None:
                out = self.proc.stdout.read()
            log = self.log()
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {out.decode(errors='replace')} {log}")
        return self

    def log(self):
        try:
            with open(f"{self.dir}/dovecot.log") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def append(self, raw: bytes, folder="INBOX"):
        """Deliver a message into the store through IMAP APPEND, as an MTA would."""
        import imaplib

        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(self.user, self.password)
        imap.append(folder, "", None, raw)
        imap.logout()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class SmtpSink:
    """aiosmtpd capturing every message it receives (raw bytes) in `messages`."""

    def __init__(self):
        self.messages = []
        self.port = free_port()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages.append(
                    {"from": envelope.mail_from, "to": envelope.rcpt_tos, "raw": envelope.content}
                )
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()


class HttpServer:
    """A local HTTP server; `handle(method, path, headers, body) -> (status, dict|bytes[, type])`.
    Every request is kept in `requests`. `down` makes it answer 503 (a receiver down)."""

    def __init__(self, handle=None):
        self.requests = []
        self.down = False
        self.handle = handle or (lambda *a: (200, b"ok"))
        self.port = free_port()
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rest = []
                if outer.down:
                    status, payload = 503, b"down"
                else:
                    outer.requests.append(
                        {"method": self.command, "path": self.path,
                         "headers": dict(self.headers), "body": body}
                    )  # fmt: skip
                    status, payload, *rest = outer.handle(
                        self.command, self.path, self.headers, body
                    )
                content_type = rest[0] if rest else "text/plain"
                if isinstance(payload, dict):
                    payload, content_type = json.dumps(payload).encode(), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
