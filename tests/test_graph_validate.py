"""`validate` checks Neo4j where [graph] is: RETURN 1, the server's version and edition; a wrong
password or an unusable URI stops at once; no piece of a password is printed, even from a URI
that holds one with an unencoded '@' or '#'.

Against tests/standins/neo4j.py through the real `neo4j` driver. What this cannot prove: how a
real Neo4j or Aura words its refusals beyond the code the stand-in cites, and anything over TLS
(neo4j+s://), which the stand-in does not speak.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infrakit import cli
from tests.graph_environments import write_environment
from tests.servers import free_port
from tests.standins.neo4j import Neo4jStandIn

PASSWORD = "graph-validate-test-password"  # checkov:skip=CKV_SECRET_6: test value
# Random-looking pieces around '@' and '#', so that no piece is an ordinary word.
TRICKY = "Zq7@Kx9#Wm4"  # checkov:skip=CKV_SECRET_6: test value


@pytest.fixture
def environments(elsewhere: Path) -> Path:
    return write_environment(elsewhere / "environments", "")


def validate(directory: Path, *options: str) -> int:
    return cli.main(
        ["--environments-dir", str(directory), "validate", "--env", "local", "--service", "neo4j", "--json",
         "--timeout", "2", "--deadline", "20", *options]
    )  # fmt: skip


def endpoint(monkeypatch: pytest.MonkeyPatch, uri: str, password: str) -> None:
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", password)


def the_check(stdout: str) -> dict[str, object]:
    (check,) = json.loads(stdout)["checks"]
    return dict(check)


def test_validate_reports_the_version_and_edition(environments, monkeypatch, capsys) -> None:
    with Neo4jStandIn(password=PASSWORD, version="5.26.4", edition="community") as stand_in:
        endpoint(monkeypatch, stand_in.bolt_url, PASSWORD)
        assert validate(environments) == 0
        queries = [q.text for q in stand_in.queries]
    check = the_check(capsys.readouterr().out)
    assert check["ok"] is True and check["service"] == "neo4j"
    assert "Neo4j 5.26.4 community, RETURN 1 ok" in str(check["detail"])
    assert queries == ["RETURN 1 AS ok", "CALL dbms.components() YIELD name, versions, edition"]


def test_a_wrong_password_is_not_retried(environments, monkeypatch, capsys) -> None:
    with Neo4jStandIn(password=PASSWORD) as stand_in:
        endpoint(monkeypatch, stand_in.bolt_url, "not-the-password")
        assert validate(environments) == 1
        logons = stand_in.messages.count("LOGON")
    out, err = capsys.readouterr()
    check = the_check(out)
    assert check["attempts"] == 1 and logons == 1
    assert "Neo.ClientError.Security.Unauthorized" in str(check["detail"])
    assert "retrying" not in err and "not-the-password" not in out + err


@pytest.mark.parametrize("uri", ["http://127.0.0.1:7687", "127.0.0.1:7687"])
def test_a_uri_the_driver_cannot_speak_is_refused_at_once(
    environments, monkeypatch, capsys, uri: str
) -> None:
    endpoint(monkeypatch, uri, PASSWORD)
    assert validate(environments) == 1
    out, err = capsys.readouterr()
    check = the_check(out)
    assert (
        check["attempts"] <= 1 and "NEO4J_URI" in str(check["detail"]) and "neo4j://" in str(check["detail"])
    )
    assert "retrying" not in err


def test_a_refused_connection_is_retried_with_one_line_each(environments, monkeypatch, capsys) -> None:
    endpoint(monkeypatch, f"neo4j://127.0.0.1:{free_port()}", PASSWORD)
    assert cli.main(
        ["--environments-dir", str(environments), "validate", "--env", "local", "--service", "neo4j",
         "--timeout", "1", "--deadline", "3"]
    ) == 1  # fmt: skip
    assert re.search(r"neo4j: attempt 1 failed \(cannot connect to Neo4j", capsys.readouterr().err)


def fragments(secret: str) -> set[str]:
    return {piece for piece in (secret, *re.split(r"[@#/:?%]", secret)) if len(piece) >= 3}


@pytest.mark.parametrize("command", ["validate", "graph"])
@pytest.mark.parametrize("listening", [True, False], ids=["server answers", "nothing listens"])
def test_no_piece_of_a_password_is_printed_from_a_malformed_uri(
    elsewhere: Path, monkeypatch, capfd, command: str, listening: bool
) -> None:
    directory = write_environment(
        elsewhere / "environments", '[[graph.constraints]]\nname = "d"\nlabel = "D"\nproperties = ["id"]\n'
    )
    with Neo4jStandIn(password=PASSWORD) as stand_in:
        port = stand_in.bolt_port if listening else free_port()
        # The password written into the URI, unencoded, and given again (wrong) as NEO4J_PASSWORD.
        endpoint(monkeypatch, f"neo4j://neo4j:{TRICKY}@127.0.0.1:{port}", TRICKY)
        options = ["--timeout", "1"] + (["--deadline", "3"] if command == "validate" else [])
        code = cli.main(["--environments-dir", str(directory), command, "--env", "local", *options])
        out, err = capfd.readouterr()
    assert code == 1, out + err
    printed = [piece for piece in fragments(TRICKY) if piece in out + err]
    assert not printed, out + err
