"""Secrets are never printed, even from a URL whose password holds an unencoded '@', '#', '/', ':',
'?' or '%'. Each parser (urllib, libpq, redis-py, httpx) cuts such a URL at a different place and
reports part of the password as the host, port or path, where a search for the whole password
cannot find it. So the test looks for every piece of the password, split at those characters.

Each operator command runs as a subprocess, as a user runs it, with the passwords planted in
DATABASE_URL, REDIS_URL, QDRANT_URL and QDRANT_API_KEY, and again percent-encoded (the well-formed
spelling), pointing at ports where nothing listens. What this cannot prove: that no other
spelling or failure path (a server that answers, a library's next version) prints a secret.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import ENDPOINT_VARIABLES, ENVIRONMENTS, ROOT
from tests.servers import free_port

# Random-looking pieces of three characters, so that none of them is an ordinary word.
PIECES = ("Zq7", "Kx9", "Wm4", "Tv2", "Hp8", "Rj5", "Ln3", "Yb6", "Qc1", "Nd0", "Ue5", "Sf2", "Og8", "Xw4")
# The delimiters each password holds, in order: each is its own case, because one parser stops at
# the first odd character (libpq refuses a '%' before it resolves the host it read).
SHAPES = ("@#", "/@", ":@", "?@", "@/", "#:", "%@", "@#/:?%")


def password(shape: str, variable: int) -> str:
    """A password with `shape`'s delimiters between pieces; each variable gets other pieces."""
    pieces = PIECES[variable * 3 :] + PIECES[: variable * 3]
    return pieces[0] + "".join(delimiter + piece for delimiter, piece in zip(shape, pieces[1:], strict=False))


COMMANDS = (
    ["validate", "--timeout", "1", "--deadline", "3"],
    ["migrate", "--migrations-dir", str(ROOT / "supabase" / "migrations"), "--timeout", "1"],
    ["migrate", "--apply", "--migrations-dir", str(ROOT / "supabase" / "migrations"), "--timeout", "1"],
    ["collections", "--timeout", "1"],
    [
        "bootstrap",
        "--migrations-dir",
        str(ROOT / "supabase" / "migrations"),
        "--timeout",
        "1",
        "--deadline",
        "3",
    ],
)


def fragments(secret: str) -> set[str]:
    """The secret and each piece of it between '@', '#', '/', ':', '?' and '%', of 3 or more characters."""
    return {piece for piece in (secret, *re.split(r"[@#/:?%]", secret)) if len(piece) >= 3}


def endpoints(shape: str, encode: bool) -> dict[str, str]:
    spell = (lambda text: quote(text, safe="")) if encode else (lambda text: text)
    port = free_port()  # nothing listens there: every command fails, and says so
    return {
        "DATABASE_URL": f"postgresql://app:{spell(password(shape, 0))}@127.0.0.1:{port}/app",
        "REDIS_URL": f"redis://default:{spell(password(shape, 1))}@127.0.0.1:{port}/0",
        "QDRANT_URL": f"http://operator:{spell(password(shape, 2))}@127.0.0.1:{port}",
        "QDRANT_API_KEY": password(shape, 3),
    }


def run(command: list[str], environ: dict[str, str], cwd: Path) -> str:
    """Runs the command as a user would, and returns what it printed (stdout, then stderr)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infrakit",
            "--environments-dir",
            str(ENVIRONMENTS),
            command[0],
            "--env",
            "local",
        ]
        + command[1:],
        cwd=cwd,  # no cdktf.out here: the endpoints come from the variables alone
        env={k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}
        | environ
        | {"PYTHONPATH": str(ROOT)},  # this checkout's infrakit, wherever it is installed
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # it failed, and said why, with nothing to hide
    assert "Traceback" not in output
    return output


def leaked(output: str, secrets: list[str]) -> list[str]:
    return sorted(
        piece
        for secret in secrets
        for spelling in (secret, quote(secret, safe=""))
        for piece in fragments(spelling)
        if piece in output
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]).replace(" --", " "))
def test_no_piece_of_an_unencoded_password_is_printed(command: list[str], shape: str, tmp_path: Path) -> None:
    variables = endpoints(shape, encode=False)
    output = run(command, variables, tmp_path)
    assert not leaked(output, [password(shape, n) for n in range(4)]), output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]).replace(" --", " "))
def test_no_piece_of_a_percent_encoded_password_is_printed(command: list[str], tmp_path: Path) -> None:
    shape = SHAPES[-1]
    output = run(command, endpoints(shape, encode=True), tmp_path)
    assert not leaked(output, [password(shape, n) for n in range(4)]), output
