"""A throwaway PostgreSQL that serves TLS with a certificate chain no system store trusts, as
Supabase's pooler does (Supavisor's chain ends in Supabase's own root CA).

It is tests/servers.py's `postgres_server`, restarted with `ssl = on` and a certificate signed by a
throwaway root CA made here with openssl. The server sends its certificate and that root, so a client
that verifies the chain against the system store fails the way node-postgres fails on the real
pooler (SELF_SIGNED_CERT_IN_CHAIN). The certificate names localhost and 127.0.0.1, so a verifying
client fails on the chain, never on the name. The server still accepts clients without TLS; a test
of refusal uses a server that has TLS off.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.servers import PostgresServer, postgres_server


def _openssl(*arguments: str) -> None:
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


def _certificates(directory: Path) -> tuple[Path, Path]:
    """(chain file with the server certificate then the root, server key), in `directory`."""
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, request, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    extensions = directory / "server.ext"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-keyout", str(ca_key), "-out", str(ca_cert), "-subj", "/CN=infrakit throwaway root CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(request),
        "-subj", "/CN=localhost",
    )  # fmt: skip
    extensions.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "1", "-out", str(cert), "-extfile", str(extensions),
    )  # fmt: skip
    chain = directory / "chain.pem"
    chain.write_text(cert.read_text() + ca_cert.read_text())
    return chain, key


def _as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def tls_postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL 15 on 127.0.0.1 with `ssl = on` and an untrusted chain (see the module docstring)."""
    with postgres_server() as server, tempfile.TemporaryDirectory(prefix="infrakit-pg-tls-") as made:
        chain, key = _certificates(Path(made))
        # PostgreSQL reads its key only when the server's user owns it with mode 0600.
        installed_chain, installed_key = server.data / "server-chain.pem", server.data / "server.key"
        installed_chain.write_bytes(chain.read_bytes())
        installed_key.write_bytes(key.read_bytes())
        installed_key.chmod(0o600)
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in (installed_chain, installed_key):
                os.chown(path, account.pw_uid, account.pw_gid)
        with psycopg.connect(server.url(), autocommit=True) as connection:
            connection.execute("ALTER SYSTEM SET ssl = on")
            connection.execute(f"ALTER SYSTEM SET ssl_cert_file = '{installed_chain}'")
            connection.execute(f"ALTER SYSTEM SET ssl_key_file = '{installed_key}'")
        # A restart, unlike a reload, reports a bad certificate or key by failing; -w waits until
        # the server accepts connections again. pg_ctl reuses the original options (postmaster.opts).
        subprocess.run(
            _as_postgres_user(
                [str(server.bindir / "pg_ctl"), "-D", str(server.data), "-l", str(server.data.parent / "log"),
                 "-w", "restart"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        try:
            yield server
        finally:
            server.stop()  # also when the test fails, which postgres_server alone does not do
