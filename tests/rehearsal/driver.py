"""The rehearsal itself, run inside a private network (netns.py): `python -m tests.rehearsal.driver`.

For a planned Docker stack (plan.py) it starts, for each container, the real server the container
would run, with that container's settings, then runs the container's own strings on this machine:

- postgres: PostgreSQL from Debian, initialised with the container's POSTGRES_USER, POSTGRES_PASSWORD
  and POSTGRES_DB, on the container's port;
- redis: the container's own command (`sh -c "exec redis-server ..."`), with its environment, run by
  busybox sh against Debian's redis-server: the same password, noeviction, AOF and port;
- qdrant: the Qdrant stand-in (tests/standins/qdrant.py) with the container's API key, on its port;
- neo4j: the Neo4j stand-in (tests/standins/neo4j.py, Bolt and HTTP discovery) with the user and
  password of the container's NEO4J_AUTH, on its Bolt and HTTP ports;
- api: nginx from Debian on the container's port, standing in for the nginx stand-in image;
- worker: nothing to start; its command is the program under test.

Healthchecks and commands run as Docker would start them: CMD-SHELL through `sh -c` (busybox's sh,
as in the Alpine images), CMD directly, each with exactly the container's environment plus a PATH
holding the tools the images ship (busybox `sh` and `wget`, Debian's `redis-cli`, `pg_isready`,
`bash`; for neo4j, Debian's GNU wget, which its Debian-based image ships in place of busybox's).
Aliases resolve to 127.0.0.1 through the namespace's own /etc/hosts.

Results go to a JSON file, one record per check; the tests assert on them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import neo4j
import psycopg
import redis
from qdrant_client import QdrantClient

from infrakit.bootstrap.endpoints import OUTPUT_NAMES
from tests.rehearsal.plan import ContainerPlan, StackPlan
from tests.servers import postgres_server
from tests.standins.neo4j import Neo4jStandIn
from tests.standins.qdrant import QdrantStandIn

ROOT = Path(__file__).resolve().parents[2]
# The ports inside the neo4j container (infrakit/constructs/docker/neo4j.py).
NEO4J_BOLT_PORT, NEO4J_HTTP_PORT = 7687, 7474
HEALTHY_WITHIN_SECONDS = 30.0  # Docker's start_period in our containers
WORKER_OBSERVED_SECONDS = 2.0


@dataclass
class Result:
    container: str
    check: str
    ok: bool
    detail: str
    seconds: float


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None  # None: still running at the time limit
    output: str
    seconds: float


# Where an image ships its own build of a tool in place of busybox's, by container alias: the neo4j
# image is Debian's and keeps GNU wget (docker-neo4j's Dockerfile installs wget and purges curl).
IMAGE_TOOLS: dict[str, dict[str, str]] = {"neo4j": {"wget": "wget"}}


class Toolbox:
    """A directory of the tools the images ship, first on PATH for every string that runs."""

    def __init__(self, directory: Path):
        busybox = shutil.which("busybox")
        if busybox is None:  # test_local_rehearsal.py skips before this, naming the package
            raise RuntimeError("busybox not found: apt-get install busybox")
        for applet in ("sh", "wget"):
            (directory / applet).symlink_to(busybox)
        self.shell = str(directory / "sh")
        self.path = f"{directory}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        self.image_paths: dict[str, str] = {}
        for alias, tools in IMAGE_TOOLS.items():
            own = directory / f"image-{alias}"
            own.mkdir()
            for name, program in tools.items():
                found = shutil.which(program, path="/usr/local/bin:/usr/bin:/bin")
                if found is None:  # test_local_rehearsal.py skips before this, naming the package
                    raise RuntimeError(f"{program} not found: apt-get install {program}")
                (own / name).symlink_to(found)
            self.image_paths[alias] = f"{own}:{self.path}"

    def environment(self, container: ContainerPlan) -> dict[str, str]:
        # What Docker gives a process: the container's env (plus the image's PATH and HOME).
        path = self.image_paths.get(container.alias, self.path)
        return {**container.environment, "PATH": path, "HOME": "/tmp"}

    def run(self, argv: list[str], container: ContainerPlan, timeout: float, **env: str) -> Outcome:
        start = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                env={**self.environment(container), **env},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as expired:
            output = (expired.stdout or b"") + (expired.stderr or b"")
            text = output.decode(errors="replace") if isinstance(output, bytes) else output
            return Outcome(None, text, time.monotonic() - start)
        return Outcome(done.returncode, done.stdout + done.stderr, time.monotonic() - start)

    def healthcheck(self, container: ContainerPlan) -> Outcome:
        return self.run(
            container.healthcheck.argv(self.shell), container, container.healthcheck.timeout_seconds
        )

    def start(
        self, argv: list[str], container: ContainerPlan, cwd: Path, **env: str
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            argv,
            env={**self.environment(container), **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def command(self, container: ContainerPlan) -> list[str]:
        """The container's command, with `sh` being the image's shell."""
        if not container.command:
            raise RuntimeError(f"{container.alias} has no command to run")
        first, *rest = container.command
        return [self.shell if first in ("sh", "/bin/sh") else first, *rest]


def stop_process(process: subprocess.Popen[str], *, timeout: float = 10.0) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything the process left behind in its group


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def container_port(container: ContainerPlan, default: int) -> int:
    return container.ports[0][0] if container.ports else default


# ----------------------------------------------------------------------------- the servers


class Server:
    """One container's server, started and stopped on demand."""

    def __init__(self, container: ContainerPlan, toolbox: Toolbox, workdir: Path):
        self.container = container
        self.toolbox = toolbox
        self.workdir = workdir
        self._stack: ExitStack | None = None

    def start(self, **overrides: str) -> None:
        self._stack = ExitStack()
        try:
            self._start(self._stack, {**self.container.environment, **overrides})
        except BaseException:
            self._stack.close()
            raise

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def _start(self, stack: ExitStack, environment: dict[str, str]) -> None:
        raise NotImplementedError


class PostgresServer(Server):
    def _start(self, stack: ExitStack, environment: dict[str, str]) -> None:
        user, password = environment["POSTGRES_USER"], environment["POSTGRES_PASSWORD"]
        database = environment.get("POSTGRES_DB", user)
        port = container_port(self.container, 5432)
        server = stack.enter_context(postgres_server(port=port, superuser=user, password=password))
        # The image's entrypoint creates POSTGRES_DB on first start.
        if database != "postgres":
            with psycopg.connect(server.url(), autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{database}"')


class RedisServer(Server):
    """The container's own command: it is a shell program, so it runs as it is."""

    def _start(self, stack: ExitStack, environment: dict[str, str]) -> None:
        data = Path(tempfile.mkdtemp(prefix="redis-data-", dir=self.workdir))
        overrides = {k: v for k, v in environment.items() if self.container.environment.get(k) != v}
        process = self.toolbox.start(self.toolbox.command(self.container), self.container, data, **overrides)
        stack.callback(stop_process, process)
        wait_for_port(container_port(self.container, 6379))


def redis_settings(url: str) -> str:
    """What BullMQ needs from the server the worker reaches: noeviction, and AOF for durability."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        memory, persistence = client.info("memory"), client.info("persistence")
    finally:
        client.close()
    policy, aof = memory.get("maxmemory_policy"), persistence.get("aof_enabled")
    if policy != "noeviction" or aof != 1:
        raise RuntimeError(f"maxmemory_policy={policy}, aof_enabled={aof}")
    return f"maxmemory_policy={policy}, aof_enabled={aof}, maxmemory={memory.get('maxmemory_human')}"


class QdrantServer(Server):
    def _start(self, stack: ExitStack, environment: dict[str, str]) -> None:
        key = environment["QDRANT__SERVICE__API_KEY"]
        stack.enter_context(QdrantStandIn(api_key=key, port=container_port(self.container, 6333)))


class Neo4jServer(Server):
    """The Neo4j stand-in, with the credentials the image's entrypoint takes from NEO4J_AUTH
    (`neo4j/<password>`, split at the first "/"), on the container's Bolt and HTTP ports."""

    def _start(self, stack: ExitStack, environment: dict[str, str]) -> None:
        username, _, password = environment["NEO4J_AUTH"].partition("/")
        inside = {port for port, _ in self.container.ports}
        if inside != {NEO4J_BOLT_PORT, NEO4J_HTTP_PORT}:
            expected = f"Bolt {NEO4J_BOLT_PORT} and HTTP {NEO4J_HTTP_PORT}"
            raise RuntimeError(f"neo4j publishes {sorted(inside)}, not {expected}")
        stand_in = Neo4jStandIn(
            username=username, password=password, bolt_port=NEO4J_BOLT_PORT, http_port=NEO4J_HTTP_PORT
        )
        stack.enter_context(stand_in)


class NginxServer(Server):
    def _start(self, stack: ExitStack, environment: dict[str, str]) -> None:
        port = container_port(self.container, 8080)
        home = Path(tempfile.mkdtemp(prefix="nginx-", dir=self.workdir))
        temp = " ".join(
            f"{kind}_temp_path {home / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (home / "nginx.conf").write_text(
            f"daemon off; pid {home / 'nginx.pid'}; error_log stderr error;\n"
            "events {}\n"
            f"http {{ access_log off; {temp}\n"
            f"  server {{ listen 127.0.0.1:{port}; location / {{ return 200 'ok'; }} }} }}\n"
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        process = self.toolbox.start(
            [nginx, "-p", str(home), "-c", str(home / "nginx.conf")], self.container, home
        )
        stack.callback(stop_process, process)
        wait_for_port(port)


SERVERS: dict[str, type[Server]] = {
    "postgres": PostgresServer,
    "redis": RedisServer,
    "qdrant": QdrantServer,
    "neo4j": Neo4jServer,
    "api": NginxServer,
}
NO_SERVER = {"worker"}  # its command is what runs


class PortForwarder:
    """Docker's published port: host_port on 127.0.0.1 to the container's port, when they differ."""

    def __init__(self, listen: int, target: int):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", listen))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with suppress(OSError):
                upstream = socket.create_connection(("127.0.0.1", self.target))
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()


# ----------------------------------------------------------------------------- the checks


class Rehearsal:
    def __init__(
        self, plan: StackPlan, toolbox: Toolbox, workdir: Path, env_name: str, environments_dir: Path
    ):
        self.plan = plan
        self.environments_dir = environments_dir
        self.toolbox = toolbox
        self.workdir = workdir
        self.env_name = env_name
        self.results: list[Result] = []
        unknown = set(plan.containers) - set(SERVERS) - NO_SERVER
        for alias in sorted(unknown):
            self.record(alias, "has a rehearsal", False, "no stand-in server for this container: add one")
        self.servers = {
            alias: SERVERS[alias](container, toolbox, workdir)
            for alias, container in plan.containers.items()
            if alias in SERVERS
        }

    def record(self, container: str, check: str, ok: bool, detail: str, seconds: float = 0.0) -> None:
        self.results.append(Result(container, check, ok, detail[-800:], round(seconds, 3)))

    @contextmanager
    def timed(self, container: str, check: str) -> Iterator[Callable[[bool, str], None]]:
        """Record one check; an exception inside counts as its failure, with the message."""
        start = time.monotonic()
        recorded = False

        def finish(ok: bool, detail: str) -> None:
            nonlocal recorded
            recorded = True
            self.record(container, check, ok, detail, time.monotonic() - start)

        try:
            yield finish
        except Exception as error:  # the check failed in a way the rehearsal reports, not crashes on
            finish(False, f"{type(error).__name__}: {error}")
        if not recorded:
            finish(True, "")

    def run(self) -> None:
        with ExitStack() as cleanup:
            for server in self.servers.values():
                cleanup.callback(server.stop)
            self.start_all(cleanup)
            if "worker" in self.plan.containers:
                self.worker_healthy_while_up()
                if "redis" in self.servers:
                    with self.timed("redis", "runs noeviction with AOF") as finish:
                        finish(True, redis_settings(self.plan.containers["worker"].environment["REDIS_URL"]))
            for alias in ("api", "worker"):
                if alias in self.plan.containers:
                    self.contract_connects(self.plan.containers[alias])
            if "neo4j" in self.servers:
                self.graph_outputs_connect()
            if "worker" in self.plan.containers and "redis" in self.servers:
                self.worker_command_while_up()
            self.bootstrap_from_outputs()
            self.unhealthy_once_stopped()
            if "worker" in self.plan.containers and "redis" in self.servers:
                self.worker_without_redis()

    # -- up

    def start_all(self, cleanup: ExitStack) -> None:
        for alias, server in self.servers.items():
            container = server.container
            with self.timed(alias, "healthy while up") as finish:
                server.start()
                for inside, published in container.ports:
                    if inside != published:
                        cleanup.callback(PortForwarder(published, inside).close)
                outcome = self.wait_healthy(container)
                finish(outcome.exit_code == 0, outcome.output)

    def wait_healthy(self, container: ContainerPlan) -> Outcome:
        deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
        while True:
            outcome = self.toolbox.healthcheck(container)
            if outcome.exit_code == 0 or time.monotonic() > deadline:
                return outcome
            time.sleep(0.2)

    def worker_healthy_while_up(self) -> None:
        worker = self.plan.containers["worker"]
        with self.timed("worker", "healthy while up") as finish:
            outcome = self.toolbox.healthcheck(worker)
            finish(outcome.exit_code == 0, f"exit {outcome.exit_code}: {outcome.output}")

    def contract_connects(self, container: ContainerPlan) -> None:
        env = container.environment
        checks: dict[str, Callable[[], str]] = {
            "DATABASE_URL": lambda: self.database_connects(env["DATABASE_URL"]),
            "REDIS_URL": lambda: self.redis_connects(container, env["REDIS_URL"]),
            "QDRANT_URL": lambda: self.qdrant_connects(env["QDRANT_URL"], env.get("QDRANT_API_KEY")),
            "API_URL": lambda: self.api_answers(env["API_URL"]),
            "NEO4J_URI": lambda: self.neo4j_connects(container),
        }
        for name, check in checks.items():
            if name in env:
                with self.timed(container.alias, f"{name} connects") as finish:
                    finish(True, check())

    @staticmethod
    def database_connects(url: str) -> str:
        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute("SELECT current_user, current_database()").fetchone()
        return f"as {row}"

    def redis_connects(self, container: ContainerPlan, url: str) -> str:
        """Every client the product uses must accept the URL: redis-cli, redis-py and ioredis."""
        cli = self.toolbox.run(["redis-cli", "-u", url, "--no-auth-warning", "ping"], container, 5)
        if cli.output.strip() != "PONG":
            raise RuntimeError(f"redis-cli -u answered {cli.output.strip()!r}")
        client = redis.Redis.from_url(url, socket_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
        node = str(Path(sys.executable).with_name("node"))
        script = str(Path(__file__).with_name("ioredis_ping.js"))
        ioredis = self.toolbox.run([node, script], container, 10, REDIS_URL=url)
        if ioredis.exit_code != 0 or ioredis.output.strip() != "PONG":
            raise RuntimeError(f"ioredis answered {ioredis.output.strip()!r}")
        return "redis-cli, redis-py and ioredis: PONG"

    @staticmethod
    def qdrant_connects(url: str, key: str | None) -> str:
        client = QdrantClient(url=url, api_key=key, timeout=5)
        try:
            return f"{len(client.get_collections().collections)} collections"
        finally:
            client.close()

    def neo4j_connects(self, container: ContainerPlan) -> str:
        """RETURN 1 through neo4j-driver, the product's Node client, with the container's NEO4J_URI,
        NEO4J_USERNAME and NEO4J_PASSWORD, routed (neo4j://) by the routing table the server answers."""
        node = str(Path(sys.executable).with_name("node"))
        script = str(Path(__file__).with_name("neo4j_return_one.js"))
        outcome = self.toolbox.run([node, script], container, 15)
        if outcome.exit_code != 0:
            raise RuntimeError(f"neo4j-driver: {outcome.output.strip()}")
        answer = json.loads(outcome.output)
        if answer.get("one") != 1:
            raise RuntimeError(f"neo4j-driver answered {outcome.output.strip()!r}")
        return f"neo4j-driver: RETURN 1 on {answer['server']}"

    def graph_outputs_connect(self) -> None:
        """The operator's side: the Python driver (the bootstrap's client) with the stack outputs."""
        outputs = self.plan.outputs
        with self.timed("stack", "neo4j_uri output connects") as finish:
            auth = (outputs["neo4j_username"], outputs["neo4j_password"])
            with neo4j.GraphDatabase.driver(outputs["neo4j_uri"], auth=auth, connection_timeout=5) as driver:
                records, summary, _ = driver.execute_query("RETURN 1 AS one")
            if records[0]["one"] != 1:
                raise RuntimeError(f"RETURN 1 answered {records[0]['one']!r}")
            finish(True, f"neo4j (Python): RETURN 1 on {summary.server.address}")

    @staticmethod
    def api_answers(url: str) -> str:
        response = httpx.get(url, timeout=5)
        response.raise_for_status()
        return f"HTTP {response.status_code}"

    def worker_command_while_up(self) -> None:
        worker = self.plan.containers["worker"]
        observer = redis.Redis.from_url(self.plan.containers["worker"].environment["REDIS_URL"])
        try:
            before = int(observer.info("stats")["total_connections_received"])
            process = self.toolbox.start(self.toolbox.command(worker), worker, self.workdir)
            try:
                with self.timed(
                    "worker", "command keeps running while Redis answers, without spinning"
                ) as finish:
                    time.sleep(WORKER_OBSERVED_SECONDS)
                    after = int(observer.info("stats")["total_connections_received"])
                    running = process.poll() is None
                    finish(
                        running and after - before <= 1,
                        f"running={running}, {after - before} connections in {WORKER_OBSERVED_SECONDS:g} s",
                    )
                with self.timed("worker", "command stops promptly on SIGTERM") as finish:
                    # What `docker stop` sends to the container's first process.
                    os.kill(process.pid, signal.SIGTERM)
                    try:
                        code = process.wait(timeout=3)
                        finish(code == 0, f"exit {code}")
                    except subprocess.TimeoutExpired:
                        finish(False, "still running 3 s after SIGTERM")
            finally:
                stop_process(process)
        finally:
            observer.close()

    def bootstrap_from_outputs(self) -> None:
        """What scripts/setup.sh runs after deploy, fed the stack's outputs as the operator sees them."""
        with self.timed("stack", "bootstrap from the outputs") as finish:
            # Endpoints come only from the outputs: nothing of this machine's environment leaks in.
            environment = {k: v for k, v in os.environ.items() if k.lower() not in OUTPUT_NAMES}
            environment.update({name.upper(): value for name, value in self.plan.outputs.items()})
            # Run from an empty directory, so no cdktf.out state of this checkout is read.
            done = subprocess.run(
                [
                    sys.executable, "-m", "infrakit",
                    "--environments-dir", str(self.environments_dir),
                    "bootstrap", "--env", self.env_name,
                    "--migrations-dir", str(ROOT / "supabase" / "migrations"),
                    "--deadline", "20",
                ],
                cwd=self.workdir,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )  # fmt: skip
            finish(done.returncode == 0, f"exit {done.returncode}: {done.stderr}")

    # -- down

    def unhealthy_once_stopped(self) -> None:
        for alias, server in self.servers.items():
            server.stop()
            self.expect_unhealthy(server.container, "unhealthy once stopped")
            if alias == "redis" and "worker" in self.plan.containers:
                self.expect_unhealthy(self.plan.containers["worker"], "unhealthy once Redis is stopped")

    def expect_unhealthy(self, container: ContainerPlan, check: str) -> None:
        with self.timed(container.alias, check) as finish:
            outcome = self.toolbox.healthcheck(container)
            finish(
                outcome.exit_code not in (0, None),
                f"exit {outcome.exit_code} after {outcome.seconds:.2f} s"
                f" (timeout {container.healthcheck.timeout_seconds:g} s): {outcome.output}",
            )

    def worker_without_redis(self) -> None:
        worker = self.plan.containers["worker"]
        self.expect_worker_exit(worker, "command fails when Redis is down")
        redis_server = self.servers["redis"]
        password_names = [k for k in redis_server.container.environment if "PASSWORD" in k]
        redis_server.start(**{name: "not-the-workers-password" for name in password_names})
        try:
            self.expect_worker_exit(worker, "command fails when Redis refuses its password")
            self.expect_unhealthy(worker, "unhealthy when Redis refuses its password")
        finally:
            redis_server.stop()

    def expect_worker_exit(self, worker: ContainerPlan, check: str) -> None:
        with self.timed("worker", check) as finish:
            outcome = self.toolbox.run(self.toolbox.command(worker), worker, 5)
            finish(
                outcome.exit_code not in (0, None),
                f"exit {outcome.exit_code} after {outcome.seconds:.2f} s: {outcome.output}",
            )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rehearsal.driver")
    parser.add_argument("plan", type=Path, help="StackPlan JSON")
    parser.add_argument("results", type=Path, help="where to write the results JSON")
    parser.add_argument("--env", required=True, help="the environment's name, for the bootstrap")
    parser.add_argument("--environments-dir", type=Path, default=ROOT / "environments")
    args = parser.parse_args()
    plan = StackPlan.from_json(args.plan.read_text())
    with tempfile.TemporaryDirectory(prefix="infrakit-rehearsal-") as directory:
        workdir = Path(directory)
        os.chmod(workdir, 0o755)
        tools = workdir / "bin"
        tools.mkdir()
        rehearsal = Rehearsal(plan, Toolbox(tools), workdir, args.env, args.environments_dir)
        rehearsal.run()
    args.results.write_text(json.dumps([asdict(r) for r in rehearsal.results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
