"""Secrets are never printed, even from a URL whose password holds an unencoded '@', '#', '/', ':',
'?' or '%'. Each parser (urllib, libpq, redis-py, httpx) cuts such a URL at a different place and
reports part of the password as the host, port or path, where a search for the whole password
cannot find it. So the test looks for every piece of the password, split at those characters.

Each operator command runs through main() in this process, its output captured at the file
descriptors (what a terminal would show, libraries' own writes included), with the passwords planted
in DATABASE_URL, REDIS_URL, QDRANT_URL and QDRANT_API_KEY, and again percent-encoded (the
well-formed spelling), pointing at ports where nothing listens; one case runs as a real process, as
a user runs it. What this cannot prove: that no other spelling or failure path (a server that
answers, a library's next version) prints a secret.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from infrakit import cli
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


def argv(command: list[str]) -> list[str]:
    return ["--environments-dir", str(ENVIRONMENTS), command[0], "--env", "local", *command[1:]]


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Callable[[list[str], dict[str, str]], str]:
    """Runs the command through main(), in a directory with no cdktf.out (the endpoints come from
    the variables alone), and returns what it printed (stdout, then stderr)."""
    monkeypatch.chdir(tmp_path)
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def run(command: list[str], environ: dict[str, str]) -> str:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        code = cli.main(argv(command))
        out, err = capfd.readouterr()
        assert code == 1, out + err  # it failed, and said why, with nothing to hide
        return out + err

    return run


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
def test_no_piece_of_an_unencoded_password_is_printed(command: list[str], shape: str, run) -> None:
    output = run(command, endpoints(shape, encode=False))
    assert not leaked(output, [password(shape, n) for n in range(4)]), output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]).replace(" --", " "))
def test_no_piece_of_a_percent_encoded_password_is_printed(command: list[str], run) -> None:
    shape = SHAPES[-1]
    output = run(command, endpoints(shape, encode=True))
    assert not leaked(output, [password(shape, n) for n in range(4)]), output


@pytest.mark.parametrize("encode", [False, True], ids=["unencoded", "percent-encoded"])
def test_a_real_process_prints_no_piece_of_the_password(encode: bool, tmp_path: Path) -> None:
    """As a user runs it: the interpreter's own output (a traceback at exit, a warning) counts too."""
    shape, bootstrap = SHAPES[-1], COMMANDS[-1]
    result = subprocess.run(
        [sys.executable, "-m", "infrakit", *argv(bootstrap)],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}
        | endpoints(shape, encode)
        | {"PYTHONPATH": str(ROOT)},  # this checkout's infrakit, wherever it is installed
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert not leaked(output, [password(shape, n) for n in range(4)]), output
