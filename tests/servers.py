"""Throwaway PostgreSQL and Redis servers for integration tests, from Debian's packages.

PostgreSQL refuses to run as root, and CI runs as root: there, the server runs as the
unprivileged `postgres` user that Debian's package creates. Each server listens on 127.0.0.1
on a free port, keeps its data in a temporary directory, and is gone when the test ends.

scripts/test.sh installs the packages (scripts/test-servers.sh) where it can. Where it cannot (no
root, no passwordless sudo), a test that needs a missing one is skipped with one line naming the
package to install; under CI it fails instead, since CI must run every test.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

SUPERUSER = "postgres"
PASSWORD = "test-only-superuser-password"  # checkov:skip=CKV_SECRET_6: test value
REDIS_PASSWORD = "test-only-redis-password"  # checkov:skip=CKV_SECRET_6: test value


# Where Debian puts server binaries; a user's PATH may lack the sbin directories.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
# The Debian package that provides each tool the tests run.
PACKAGES = {
    "initdb": "postgresql",
    "pg_isready": "postgresql-client",
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    "nginx": "nginx",
    "busybox": "busybox",
    "ip": "iproute2",
}


def unavailable(name: str) -> NoReturn:
    """Skip the calling test because the tool `name` is not installed, in one line that says what to
    install. Under CI (CI set) every test must run, so it fails instead."""
    package = PACKAGES.get(name, name)
    message = (
        f"{name} not found: install it with `sudo apt-get install {package}` "
        "(scripts/test.sh does, as root or with sudo)"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def tool(name: str) -> str:
    """The path of a tool the tests run; skips the test (see `unavailable`) when it is missing."""
    return shutil.which(name, path=SEARCH_PATH) or unavailable(name)


def missing_tools(*names: str) -> list[str]:
    """The packages to install for the tools that are not here, for a module-level skip."""
    found = {name: shutil.which(name, path=SEARCH_PATH) for name in names if name != "initdb"}
    if "initdb" in names:
        found["initdb"] = next(iter(glob.glob("/usr/lib/postgresql/*/bin/initdb")), None)
    return [PACKAGES.get(name, name) for name, path in found.items() if path is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(cert: Path, key: Path, *, host: str = "localhost") -> None:
    """A throwaway self-signed certificate for `host` (a name or an IP address), valid one day."""
    alt = f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert),
            "-subj", f"/CN={host}", "-addext", f"subjectAltName={alt}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("initdb")
    return Path(found[-1]).parent


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class PostgresServer:
    port: int
    data: Path
    bindir: Path
    superuser: str = SUPERUSER
    password: str = PASSWORD

    def url(self, database: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        user, password = user or self.superuser, password or self.password
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )


@contextmanager
def postgres_server(
    *, port: int | None = None, superuser: str = SUPERUSER, password: str = PASSWORD, tls: bool = False
) -> Iterator[PostgresServer]:
    """A fresh cluster on 127.0.0.1; `port` None picks a free one. With `tls`, it also serves TLS
    (`ssl = on`) with a throwaway self-signed certificate for localhost; clients may still connect
    without TLS unless they ask for it (sslmode=require)."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="infrakit-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    root.chmod(0o700)
    data, password_file = root / "data", root / "password"
    password_file.write_text(password)
    if os.geteuid() == 0:
        os.chown(password_file, account.pw_uid, account.pw_gid)
    port = port or free_port()
    try:
        subprocess.run(
            _as_postgres_user(
                [
                    str(bindir / "initdb"),
                    "-D", str(data),
                    "-U", superuser,
                    "--pwfile", str(password_file),
                    "--auth-local", "trust",
                    "--auth-host", "scram-sha-256",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        if tls:
            cert, key = root / "server.crt", root / "server.key"
            self_signed_certificate(cert, key)
            key.chmod(0o600)  # PostgreSQL refuses a key others may read
            if os.geteuid() == 0:
                for path in (cert, key):
                    os.chown(path, account.pw_uid, account.pw_gid)
            options += f" -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
        subprocess.run(
            _as_postgres_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server = PostgresServer(port=port, data=data, bindir=bindir, superuser=superuser, password=password)
        try:
            yield server
        finally:  # a failing test must not leave a server running
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    password: str = REDIS_PASSWORD
    ca_file: Path | None = None  # set when the server speaks TLS only; its certificate names localhost

    def url(self, password: str | None = None) -> str:
        return f"redis://:{password or self.password}@127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def redis_server(
    maxmemory_policy: str = "noeviction", *, password: str = REDIS_PASSWORD, tls: bool = False
) -> Iterator[RedisServer]:
    """Redis on 127.0.0.1 and a free port. With `tls`, it serves TLS only (as ElastiCache with
    in-transit encryption does), with a throwaway self-signed certificate for `localhost`."""
    binary = tool("redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="infrakit-redis-") as directory:
        listen = ["--port", str(port)]
        ca_file = None
        if tls:
            ca_file, key_file = Path(directory) / "cert.pem", Path(directory) / "key.pem"
            self_signed_certificate(ca_file, key_file)
            listen = [
                "--port", "0", "--tls-port", str(port),
                "--tls-cert-file", str(ca_file), "--tls-key-file", str(key_file),
                "--tls-ca-cert-file", str(ca_file), "--tls-auth-clients", "no",
            ]  # fmt: skip
        process = subprocess.Popen(
            [
                binary,
                *listen,
                "--bind", "127.0.0.1",
                "--requirepass", password,
                "--maxmemory-policy", maxmemory_policy,
                "--save", "",
                "--appendonly", "no",
                "--dir", directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server = RedisServer(port=port, process=process, password=password, ca_file=ca_file)
        try:
            _wait_for_port(port)
            yield server
        finally:
            server.stop()


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start within {timeout} s")
