from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infrakit import jsii_node
from infrakit.bootstrap.endpoints import OUTPUT_NAMES
from infrakit.config import Environment, EnvironmentConfig
from infrakit.config.loader import load_environment

if TYPE_CHECKING:
    from infrakit.cdk import App

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ROOT / "environments"
PYTHON = sys.executable

# Before any test module imports the CDK: jsii's Node starts at the first import and reads its
# options then, and without the on-demand preload it loads all ~2,400 AWS provider submodules
# (about 3 s in every xdist worker, while collecting).
jsii_node.configure()
# Every synth the tests start synthesizes in one process: xdist already runs a worker per core, and
# more processes per synth would only compete with them. tests/test_synth_jobs.py asks for more.
os.environ["INFRAKIT_SYNTH_JOBS"] = "1"


def default_sigint() -> None:
    """For preexec_fn: Ctrl-C's default action, as a command run from a terminal has it. A shell
    without job control starts background jobs with SIGINT ignored, and children inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_foreground_job(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Starts args as a terminal's foreground job: in a process group of its own, which a test
    signals as a whole, and with Ctrl-C's default action."""
    return subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def local_toml() -> dict[str, Any]:
    return tomllib.loads((ENVIRONMENTS / "local.toml").read_text())


def local_text(port_offset: int = 0) -> str:
    """local.toml as text, its host ports moved by port_offset so that copies can live side by side."""
    text = (ENVIRONMENTS / "local.toml").read_text()
    if not port_offset:
        return text
    # Every key that publishes a host port: host_port, and [graph]'s bolt_host_port and http_host_port.
    return re.sub(r"(?m)^(\w*host_port) = (\d+)$", lambda m: f"{m[1]} = {int(m[2]) + port_offset}", text)


# The variables that override stack outputs (infrakit/bootstrap/endpoints.py).
ENDPOINT_VARIABLES = frozenset(name.upper() for name in OUTPUT_NAMES)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, and no endpoint variable from the shell running the tests."""
    monkeypatch.chdir(tmp_path)
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def environment_with(name: str = "local", **changes: dict[str, Any]) -> Environment:
    """The local environment with some service tables updated, validated like a file would be."""
    data = local_toml()
    for service, values in changes.items():
        data[service] = {**data[service], **values}
    return Environment(name=name, file=f"{name}.toml", config=EnvironmentConfig.model_validate(data))


# Testing.app() without an outdir makes a new cdktf.outdir.* directory in the system's temporary
# directory for every app and never removes it (94 a suite run). Every test app shares this one,
# removed when the worker ends: Testing.synth returns the JSON and writes no file there.
TESTING_OUTDIR = Path(tempfile.mkdtemp(prefix="infrakit-testing-app-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(TESTING_OUTDIR, ignore_errors=True)


def in_process_app() -> App:
    """The CDK's Testing.app, for in-process stacks, in TESTING_OUTDIR."""
    jsii_node.configure()  # as a synth does, before the first CDK import
    from infrakit.cdk import Testing

    return Testing.app(stack_traces=False, outdir=str(TESTING_OUTDIR))


def synth(environment: Environment) -> str:
    """Synthesize one environment stack with the CDK's Testing API; returns cdk.tf.json text."""
    from infrakit.cdk import Testing
    from infrakit.stacks.environment_stack import EnvironmentStack

    return str(Testing.synth(EnvironmentStack(in_process_app(), environment)))


@dataclass(frozen=True)
class MainRun:
    returncode: int
    stdout: str
    stderr: str


MainInProcess = Callable[..., MainRun]


@pytest.fixture
def main_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> MainInProcess:
    """`python main.py ARGS` in `cwd`, run by the same infrakit.synth.main in this process: a synth
    then costs this worker its own work, not a new interpreter and Node (about 1 s of CPU each).

    What it cannot prove: Python's start and main.py's wrapper around main(), and Node stopping at
    the end. Node is this worker's, which later tests go on using, so it is left running, and what
    Node reads from its environment when it starts (SYNTH_HCL_OUTPUT, CDKTF_CONTEXT_JSON,
    NODE_OPTIONS) is what the worker had then: a variable set for one run reaches main()'s own
    Python (the synth cache's fingerprint), not Node. jsii's runtime type checks stay on, as in
    every in-process synth of the tests. The tests that signal a synth, or need a fresh process,
    run the command itself."""
    from infrakit import synth as synth_module

    monkeypatch.setattr(synth_module, "_stop_jsii_node", lambda: None)
    monkeypatch.setenv(jsii_node.TYPE_CHECKS_VARIABLE, "1")

    def run(
        *args: str, cwd: Path, app_file: Path = ROOT / "main.py", env: dict[str, str] | None = None
    ) -> MainRun:
        """`app_file`: the main.py run, as main.py passes itself and its environments/ to main().
        `env`: variables set for this run only."""
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        with monkeypatch.context() as scoped:
            for name, value in (env or {}).items():
                scoped.setenv(name, value)
            code = synth_module.main(
                list(args), default_environments_dir=app_file.parent / "environments", app_file=app_file
            )
        captured = capsys.readouterr()
        return MainRun(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def local_environment() -> Environment:
    return load_environment(ENVIRONMENTS / "local.toml")


@pytest.fixture(scope="session")
def local_synth(local_environment: Environment) -> str:
    return synth(local_environment)


@pytest.fixture(scope="session")
def local_json(local_synth: str) -> dict[str, Any]:
    return json.loads(local_synth)


@pytest.fixture
def resources() -> Callable[[dict[str, Any], str], dict[str, Any]]:
    def of_type(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
        found = document.get("resource", {}).get(resource_type, {})
        assert isinstance(found, dict)
        return found

    return of_type


# Planted in the synth's environment: none may reach the output.
SENTINELS = {
    "SUPABASE_ACCESS_TOKEN": "sentinel-supabase-token-1f2e3d",  # checkov:skip=CKV_SECRET_6: test value
    "QDRANT_CLOUD_API_KEY": "sentinel-qdrant-key-4c5b6a",  # checkov:skip=CKV_SECRET_6: test value
    "QDRANT_CLOUD_ACCOUNT_ID": "sentinel-qdrant-account-7a8b9c",
    "TF_VAR_neo4j_aura_client_id": "sentinel-aura-client-2b3c4d",
    "TF_VAR_neo4j_aura_client_secret": "sentinel-aura-secret-5e6f7a",  # checkov:skip=CKV_SECRET_6: test value
    "AWS_SECRET_ACCESS_KEY": "sentinel-aws-secret-0d0e0f",  # checkov:skip=CKV_SECRET_6: test value
}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every environment, synthesized once by `python main.py`, with sentinel credentials set.

    Read-only for the tests. Under pytest-xdist the workers share one synth: the first to need it
    runs it while the others wait on a lock, in the run's common temporary directory."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent / "synthesized" if worker else base / "synthesized"
    shared.mkdir(exist_ok=True)
    outdir = shared / "cdktf.out"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "complete").exists():
            result = subprocess.run(
                [PYTHON, "main.py", "--outdir", str(outdir)],
                cwd=ROOT,
                env={**os.environ, **SENTINELS},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, result.stderr
            (shared / "complete").touch()
    return outdir


@dataclass(frozen=True)
class GateRun:
    result: subprocess.CompletedProcess[str]
    reports: Path  # checkov.sarif and results_json.json

    def report(self, check_type: str) -> dict[str, Any]:
        """checkov's JSON report for one framework: terraform_json, secrets or github_actions."""
        raw = json.loads((self.reports / "results_json.json").read_text())
        reports = raw if isinstance(raw, list) else [raw]
        return next(item for item in reports if item["check_type"] == check_type)


@pytest.fixture(scope="session")
def gate_on_synthesized(synthesized: Path, tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The policy gate's CLI on every synthesized stack and the repository, run once (checkov takes
    seconds to start) and shared across xdist workers like `synthesized`. --list-passed makes its
    JSON report list every passed check, which the tests of checkov and of the custom policies read."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent / "policy_gate" if worker else base / "policy_gate"
    shared.mkdir(exist_ok=True)
    args = [
        PYTHON, "-m", "infrakit.policy_gate", "--list-passed",
        "--stacks", str(synthesized / "stacks"), "--reports", str(shared / "reports"),
        "--root", str(ROOT), "--repository", str(ROOT),
    ]  # fmt: skip
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "result.json").exists():
            run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900)
            saved = {"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}
            (shared / "result.json").write_text(json.dumps(saved))
    saved = json.loads((shared / "result.json").read_text())
    return GateRun(subprocess.CompletedProcess(args, **saved), shared / "reports")


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole session; tests each get their own database."""
    from tests.servers import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture
def database_url(postgres, request) -> str:
    """A fresh, empty database on the session's server; returns its superuser URL."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres.url(name)


@pytest.fixture(scope="session")
def redis():
    """A real Redis server (noeviction, AUTH) for the whole session."""
    from tests.servers import redis_server

    with redis_server() as server:
        yield server


def offline_client(service: str, region_name: str | None = "eu-west-1", *, make: Any = None) -> Any:
    """A real boto3 client with throwaway credentials, for a botocore Stubber to answer: it never
    signs anything AWS would accept. `make` is boto3.client unless a test has replaced that."""
    import boto3

    return (make or boto3.client)(
        service,
        region_name=region_name,
        aws_access_key_id="test-only",  # checkov:skip=CKV_SECRET_2: test value
        aws_secret_access_key="test-only",  # checkov:skip=CKV_SECRET_6: test value
    )


@pytest.fixture
def ecr():
    """ECR faked at the SDK boundary: a real boto3 client under botocore's Stubber, which answers
    only what a test told it to expect and fails the test on any other call. Nothing reaches AWS.
    Yields (client, stubber); tests/ecr_stub.py adds the usual answers."""
    from botocore.stub import Stubber

    client = offline_client("ecr")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def s3():
    """A local HTTP server standing in for S3's pre-signed URLs, which ECR hands out for an image's
    config blob (tests/ecr_stub.py `Blobs`); nothing reaches AWS."""
    import threading

    from tests.ecr_stub import Blobs

    blobs = Blobs()
    thread = threading.Thread(target=blobs.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield blobs
    blobs.server.shutdown()
    blobs.server.server_close()
