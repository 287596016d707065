"""A real IMAP server for the tests: Debian's Dovecot, run by the tests on 127.0.0.1.

Everything lives in one temporary folder: the configuration, a passwd-file of test users, their
maildirs, a test CA and the server certificate it signed (for 127.0.0.1 and localhost). Dovecot
listens on two free ports (IMAPS, and IMAP with STARTTLS) and uses its own base_dir, state_dir
and instance name: a system Dovecot started by the package (as on a fresh CI machine) neither
clashes with it nor is touched. It runs in the foreground (-F) in a process group of its own, so
stopping it (or killing it mid-fetch) ends exactly its processes. As root it runs as the
package's `dovecot` user (its login processes refuse root), else as the current user.

POSIX only (Dovecot, process groups, users): elsewhere `available()` is false and the IMAP tests
skip, or fail under TRACKER_REQUIRE_DOVECOT=1.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USERS = 40


def available() -> bool:
    return os.name == "posix" and os.access(DOVECOT, os.X_OK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(folder: Path) -> None:
    """ca.pem (a test CA), cert.pem + key.pem (the server's, signed by it, for 127.0.0.1 and localhost)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    later = now + dt.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tracker test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(later)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (folder / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))


class Dovecot:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="tracker-dovecot-"))
        import pwd      # POSIX: imported here, so that the module loads (and the tests skip) elsewhere

        self.run_as = "dovecot" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        entry = pwd.getpwnam(self.run_as)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.imaps_port, self.imap_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        self.users = {f"u{i:02d}": f"secret-{i:02d}" for i in range(1, USERS + 1)}
        self.users["vn"] = "mật-khẩu-Việt"
        self._next = 0
        for d in ("base", "state", "mail"):
            (self.root / d).mkdir()
        make_certificates(self.root)
        self.ca = self.root / "ca.pem"
        (self.root / "passwd").write_text("".join(
            f"{u}:{{PLAIN}}{p}:{self.uid}:{self.gid}::{self.root / 'mail' / u}::\n" for u, p in self.users.items()),
            encoding="utf-8")
        (self.root / "dovecot.conf").write_text(self._config(), encoding="utf-8")
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, self.uid, self.gid)
        os.chmod(self.root, 0o755)

    def _config(self) -> str:
        r = self.root
        return f"""
base_dir = {r}/base
state_dir = {r}/state
instance_name = tracker-test-{self.imaps_port}
listen = 127.0.0.1
protocols = imap
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = {self.run_as}
default_internal_group = {self.run_as}
default_login_user = {self.run_as}
log_path = {r}/dovecot.log
auth_failure_delay = 0
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {r}/passwd
}}
userdb {{
  driver = passwd-file
  args = {r}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No auth penalty: a test's wrong password must not slow the next test's logins by seconds.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def start(self) -> "Dovecot":
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": self.uid, "group": self.gid, "extra_groups": []}
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")], start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode()}\n{self.log()}")
            if all(_accepts(port) for port in (self.imaps_port, self.imap_port)):
                return self
            time.sleep(0.02)
        raise RuntimeError(f"dovecot did not listen within 15 s\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL to every process of this Dovecot (its own process group), as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc.stderr.close()
        self.proc = None
        # The login and imap processes leave the group as the master goes: wait until none serves the ports.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_accepts(p) for p in (self.imaps_port, self.imap_port)):
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def new_user(self) -> tuple[str, str]:
        """A user whose mailbox no other test used."""
        self._next += 1
        user = f"u{self._next:02d}"
        return user, self.users[user]

    def client(self, user: str):
        """An IMAP client of the test's own (to fill and look at mailboxes), over verified TLS."""
        import ssl

        from imapclient import IMAPClient

        c = IMAPClient("127.0.0.1", port=self.imaps_port, ssl=True,
                       ssl_context=ssl.create_default_context(cafile=str(self.ca)), timeout=10)
        password = self.users[user]
        c.login(user, password) if password.isascii() else c.plain_login(user, password)
        return c


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
