"""Mistakes in environment files are reported all at once, each with file and key, no traceback."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from pathlib import Path
from unittest import mock

import pytest

from infrakit import synth
from tests.conftest import PYTHON, ROOT, local_text


def write_env(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def run_main(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """main.py's command (infrakit.synth.main: arguments, loading, reporting, exit code), run in
    this process: a Python start per case cost a quarter of a second each. What this cannot show,
    main.py's own process (its imports, Ctrl-C around them), run_main_process and
    tests/test_synth_interrupt.py show."""
    argv = ["--environments-dir", str(directory), "--outdir", str(directory / "out"), *names]
    stdout, stderr = io.StringIO(), io.StringIO()
    cwd = Path.cwd()
    os.chdir(directory)
    try:
        # Should a case synthesize after all, jsii's type checks stay on in this worker.
        with (
            mock.patch.dict(os.environ, {"INFRAKIT_JSII_TYPE_CHECKS": "1"}),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            code = synth.main(argv, default_environments_dir=ROOT / "environments", app_file=ROOT / "main.py")
    finally:
        os.chdir(cwd)
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


def run_main_process(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PYTHON,
            str(ROOT / "main.py"),
            "--environments-dir",
            str(directory),
            "--outdir",
            str(directory / "out"),
            *names,
        ],
        capture_output=True,
        text=True,
        cwd=directory,
        timeout=120,
    )


def assert_config_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for line in expected:
        assert line in result.stderr, f"{line!r} not in:\n{result.stderr}"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda t: t.replace("memory_mb = 512\n", "", 1),
            "dev.toml: database.memory_mb: required key is missing",
            id="missing-field",
        ),
        pytest.param(
            lambda t: t.replace("memory_mb = 512", 'memory_mb = "lots"', 1),
            "dev.toml: database.memory_mb: Input should be a valid integer",
            id="wrong-type",
        ),
        pytest.param(
            lambda t: t.replace("maxmemory_mb = 192", "maxmemory_mb = 192\nmax_memroy = 1", 1),
            "dev.toml: cache.max_memroy: unknown key; did you mean 'maxmemory_mb'?",
            id="unknown-key",
        ),
        pytest.param(
            lambda t: t.replace("host_port = 5432", 'host_port = 5432\npassword = "hunter2-hunter2"', 1),
            "dev.toml: database.password: a secret is written here as a literal value",
            id="literal-secret",
        ),
        pytest.param(
            lambda t: t.replace(
                'LOG_LEVEL = "info" }', 'LOG_LEVEL = "info", STRIPE_API_KEY = "sk_live_1" }', 1
            ),
            "dev.toml: api.environment: STRIPE_API_KEY looks like a secret written as a literal",
            id="literal-secret-in-environment",
        ),
        pytest.param(
            lambda t: t.replace('image = "postgres:16.6-alpine"', 'image = "postgres:latest"', 1),
            "dev.toml: database.image: image uses the moving tag 'latest'",
            id="unpinned-image",
        ),
    ],
)
def test_each_mistake_is_reported_with_file_and_key(tmp_path, edit, expected):
    write_env(tmp_path, "dev", edit(local_text()))
    assert_config_failure(run_main(tmp_path, "dev"), expected)


def test_unknown_environment_name_lists_the_known_ones(tmp_path):
    write_env(tmp_path, "local", local_text())
    assert_config_failure(
        run_main(tmp_path, "prdo"),
        "prdo.toml: unknown environment 'prdo': no such file (known environments: local)",
    )


def test_every_problem_in_every_file_is_reported_at_once(tmp_path):
    broken = (
        local_text()
        .replace("memory_mb = 512\n", "", 1)
        .replace("maxmemory_mb = 192", "maxmemory_mb = 192\nmax_memroy = 1", 1)
        .replace(
            "host_port = 6333", 'host_port = 6333\napi_key = "qdrant-key-in-the-file"', 1
        )  # checkov:skip=CKV_SECRET_6: test value
    )
    write_env(tmp_path, "dev", broken)
    staging = local_text().replace("cpus = 0.25\n", "cpus = -1\n")
    for port in ("5432", "6379", "6333", "7687", "7474", "8080"):  # dev publishes these
        staging = staging.replace(f"host_port = {port}", f"host_port = 1{port}")
    write_env(tmp_path, "staging", staging)
    result = run_main(tmp_path)
    assert_config_failure(
        result,
        "4 configuration problems",
        "dev.toml: database.memory_mb: required key is missing",
        "dev.toml: cache.max_memroy: unknown key",
        "dev.toml: vector_store.api_key: a secret is written here as a literal value",
        "staging.toml: worker.cpus: Input should be greater than 0",
    )
    assert not (tmp_path / "out").exists(), "nothing is synthesized when config is invalid"


def test_secret_values_are_never_echoed_in_errors(tmp_path):
    text = local_text().replace(
        "host_port = 6333", 'host_port = 6333\napi_key = "s3cr3t-value-xyz"', 1
    )  # checkov:skip=CKV_SECRET_6: test value
    write_env(
        tmp_path, "dev", text.replace("[api]", '[api]\nsome_token = "t0ken-value-abc"', 1)
    )  # checkov:skip=CKV_SECRET_6: test value
    result = run_main(tmp_path, "dev")
    assert_config_failure(result, "vector_store.api_key", "api.some_token: unknown key")
    assert "s3cr3t-value-xyz" not in result.stderr
    assert "t0ken-value-abc" not in result.stderr


def test_invalid_toml_names_the_file_and_line(tmp_path):
    write_env(tmp_path, "dev", local_text().replace("[cache]", "[cache", 1))
    assert_config_failure(run_main(tmp_path, "dev"), "dev.toml: not valid TOML", "line")


def test_env_secret_reference_must_be_a_terraform_variable(tmp_path):
    text = local_text().replace("host_port = 5432", 'host_port = 5432\npassword = { env = "DB_PASSWORD" }', 1)
    write_env(tmp_path, "dev", text)
    assert_config_failure(
        run_main(tmp_path, "dev"), "dev.toml: database.password: env must name a Terraform input variable"
    )


@pytest.mark.parametrize(
    ("service", "image", "expected"),
    [
        ("cache", "redis", "cache.image: image has no tag; pin a version, e.g. redis:<version>"),
        (
            "worker",
            "ghcr.io/acme/worker:latest",
            "worker.image: image uses the moving tag 'latest'; pin a version instead, "
            "e.g. ghcr.io/acme/worker:<version>",
        ),
        (
            "api",
            "registry.local:5000/acme/api",
            "api.image: image has no tag; pin a version, e.g. registry.local:5000/acme/api:<version>",
        ),
        (
            "database",
            "postgres:16.6-alpine@sha256:" + "ab" * 32,
            "database.image: put the digest in image_digest, next to a pinned tag: image = "
            '"postgres:16.6-alpine" and image_digest = "sha256:' + "ab" * 32 + '"',
        ),
    ],
    ids=["no-tag", "latest", "registry-port-is-no-tag", "inline-digest"],
)
def test_an_unpinned_image_is_shown_pinned_with_its_own_name(tmp_path, service, image, expected):
    write_env(tmp_path, "dev", with_image(local_text(), service, image))
    assert_config_failure(run_main(tmp_path, "dev"), expected)


def with_image(text: str, table: str, image: str) -> str:
    """The file with the image of one table replaced (api and worker may share an image)."""
    before, header, rest = text.partition(f"[{table}]\n")
    return before + header + re.sub(r'(?m)^image = ".*"$', f'image = "{image}"', rest, count=1)


def with_graph(text: str, **values: str | None) -> str:
    """The file with keys of its [graph] table set to TOML values (None: the key taken out)."""
    before, header, rest = text.partition("[graph]\n")
    assert header, "local.toml has a [graph] table"
    table, next_table, after = rest.partition("\n[")
    for key, value in values.items():
        line = re.compile(rf"(?m)^{key} = .*\n?")
        table = line.sub("", table)
        if value is not None:
            table = f"{key} = {value}\n{table}"
    return before + header + table + next_table + after


_NEO4J_MEMORY = (
    "dev.toml: graph: heap_mb ({heap}) + page_cache_mb ({cache}) must leave at least 256 MB of memory_mb "
    "(1536) for the JVM's own memory (metaspace, threads, network buffers): lower heap_mb or "
    "page_cache_mb, or raise memory_mb to at least {needed}"
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(
            {"heap_mb": "1024"}, _NEO4J_MEMORY.format(heap=1024, cache=512, needed=1792), id="heap-too-large"
        ),
        pytest.param(
            {"page_cache_mb": "900"},
            _NEO4J_MEMORY.format(heap=512, cache=900, needed=1668),
            id="page-cache-too-large",
        ),
        pytest.param(
            {"heap_mb": None}, "dev.toml: graph.heap_mb: required key is missing", id="heap-missing"
        ),
        pytest.param(
            {"page_cache_mb": "0"},
            "dev.toml: graph.page_cache_mb: Input should be greater than 0",
            id="cache-zero",
        ),
        pytest.param(
            {"bolt_host_port": "70000"},
            "dev.toml: graph.bolt_host_port: Input should be less than or equal to 65535",
            id="bolt-port-range",
        ),
        pytest.param(
            {"http_host_port": "0"},
            "dev.toml: graph.http_host_port: Input should be greater than or equal to 1",
            id="http-port-range",
        ),
        pytest.param(
            {"password": '"hunter2-hunter2"'},
            "dev.toml: graph.password: a secret is written here as a literal value",
            id="literal-password",
        ),
        pytest.param(
            {"heap_size": "512"}, "dev.toml: graph.heap_size: unknown key; did you mean 'heap_mb'?", id="typo"
        ),
        pytest.param(
            {"bolt_host_port": "5432"},
            "dev.toml: database.host_port and graph.bolt_host_port are both 5432; give each its own port",
            id="bolt-port-clashes-with-postgres",
        ),
        pytest.param(
            {"http_host_port": "7687"},
            "dev.toml: graph.bolt_host_port and graph.http_host_port are both 7687; give each its own port",
            id="bolt-and-http-on-one-port",
        ),
    ],
)
def test_each_neo4j_mistake_is_reported_with_file_and_key(tmp_path, values, expected):
    """What this cannot prove: that 256 MB is enough for every Neo4j workload beside heap and page
    cache; it is a floor for a local instance, not a sizing guide."""
    write_env(tmp_path, "dev", with_graph(local_text(), **values))
    assert_config_failure(run_main(tmp_path, "dev"), expected)


def test_a_neo4j_image_is_pinned_like_every_image(tmp_path):
    """What this cannot prove: that the pinned tag exists on the registry."""
    write_env(tmp_path, "dev", with_image(local_text(), "graph", "neo4j:latest"))
    assert_config_failure(
        run_main(tmp_path, "dev"),
        "dev.toml: graph.image: image uses the moving tag 'latest'; pin a version instead, "
        "e.g. neo4j:<version>",
    )


@pytest.mark.parametrize("names", [(), ("local",)], ids=["all", "named"])
def test_a_missing_environments_directory_is_named_with_the_fix(tmp_path, names):
    result = subprocess.run(
        [PYTHON, str(ROOT / "main.py"), "--environments-dir", "nowhere", "--outdir", "out", *names],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert_config_failure(
        result,
        "nowhere: the environments directory does not exist; create it with one <env>.toml per "
        "environment, or pass --environments-dir with the directory that holds the <env>.toml files",
    )
    assert "unknown environment" not in result.stderr
    assert "no environment files" not in result.stderr


def test_the_infrakit_cli_names_a_missing_environments_directory(tmp_path):
    result = subprocess.run(
        [
            PYTHON,
            "-m",
            "infrakit",
            "--environments-dir",
            str(tmp_path / "nowhere"),
            "preflight",
            "--env",
            "local",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert_config_failure(result, "nowhere: the environments directory does not exist", "--environments-dir")
    assert "unknown environment" not in result.stderr


def test_host_port_clash_is_reported(tmp_path):
    write_env(tmp_path, "dev", local_text().replace("host_port = 6379", "host_port = 5432", 1))
    assert_config_failure(run_main(tmp_path, "dev"), "database.host_port and cache.host_port are both 5432")


def test_a_valid_file_synthesizes(tmp_path):
    write_env(tmp_path, "dev", local_text())
    result = run_main_process(tmp_path, "dev")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "stacks" / "dev" / "cdk.tf.json").is_file()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda t: t.replace(
                "write_consistency_factor = 1", 'write_consistency_factor = 1\nversion = "1.13.4"'
            ),
            'prod.toml: vector_store.version: Qdrant Cloud takes "latest" or an exact release with a '
            'leading v, such as "v1.13.4"; got 1.13.4',
            id="cluster-version-without-v",
        ),
        pytest.param(
            lambda t: t.replace(
                "write_consistency_factor = 1", 'write_consistency_factor = 1\nversion = "v1.13"'
            ),
            "prod.toml: vector_store.version: Qdrant Cloud takes",
            id="cluster-version-without-patch",
        ),
        pytest.param(
            lambda t: t.replace('name = "documents"', 'name = "doc"'),
            "prod.toml: vector_store.collections[0].name: doc is 3 characters; Qdrant Cloud API key "
            "rules take collection names of 4 to 64 characters",
            id="collection-name-too-short-for-key-rules",
        ),
        pytest.param(
            lambda t: t.replace("shard_number = 3", "shard_number = 0"),
            "prod.toml: vector_store.collections[0].shard_number: Input should be greater than or equal to 1",
            id="shard-number-zero",
        ),
        pytest.param(
            lambda t: t.replace('distance = "Cosine"', 'distance = "Cosine"\nreplication_factor = 4'),
            "prod.toml: vector_store.collections: collection documents: replication_factor 4 exceeds "
            "number_of_nodes 3",
            id="collection-replication-over-nodes",
        ),
    ],
)
def test_qdrant_cloud_values_the_provider_would_refuse_at_apply(tmp_path, edit, expected):
    """Qdrant Cloud's provider refuses these only at apply, after the cluster exists
    (/work/shared/reference.md, Qdrant Cloud provider). What this cannot prove: the provider's
    current rules, which are read from its docs, not run."""
    prod = (ROOT / "environments" / "prod.toml").read_text()
    write_env(tmp_path, "prod", edit(prod))
    assert_config_failure(run_main(tmp_path, "prod"), expected)


@pytest.mark.parametrize("version", ["latest", "v1.13.4"])
def test_qdrant_cloud_versions_the_provider_accepts_pass(version):
    """The two forms the provider's pattern takes; what it cannot prove: that the release exists."""
    from infrakit.config.qdrant_cloud import QdrantCloud

    cluster = QdrantCloud.model_validate(
        {
            "backend": "qdrant_cloud",
            "cloud_region": "eu-west-1",
            "number_of_nodes": 1,
            "package_name": "free2",
            "version": version,
            "collections": [{"name": "documents", "vector_size": 8}],
        }
    )
    assert cluster.version == version
