"""Benchmark the post-apply bootstrap. Prints its numbers; asserts nothing.

  .venv/bin/python scripts/bench_bootstrap.py

1. Validation: every service checked concurrently should take about as long as the slowest
   single check, not their sum. Postgres and Redis are real local servers. Qdrant and Supabase
   are the test stand-ins with a fixed delay per request, to stand for network latency.
2. Migrations: apply 100 small migrations to an empty database, then re-run them as a no-op.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from infrakit.bootstrap.checks import check_postgres, check_qdrant, check_redis, check_supabase  # noqa: E402
from infrakit.bootstrap.migrations import apply_migrations, load_migrations  # noqa: E402
from infrakit.bootstrap.validate import Timing, run_checks  # noqa: E402
from infrakit.config.collections import CollectionSpec  # noqa: E402
from tests.servers import postgres_server, redis_server  # noqa: E402
from tests.standins.qdrant import QdrantStandIn  # noqa: E402
from tests.standins.supabase import SupabaseStandIn  # noqa: E402

QDRANT_DELAY = 0.15  # seconds per request; the Qdrant check makes several requests
SUPABASE_DELAY = 0.25
MIGRATIONS = 100


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_validation(database_url: str, redis_url: str) -> None:
    spec = CollectionSpec(name="documents", vector_size=8)
    with (
        QdrantStandIn(api_key="bench-key", delay_seconds=QDRANT_DELAY) as qdrant,
        SupabaseStandIn(
            secret_key="sb_secret_bench", publishable_key="sb_publishable_bench", delay_seconds=SUPABASE_DELAY
        ) as supabase,
    ):
        from infrakit.bootstrap.collections import connect, sync_collections

        sync_collections(connect(qdrant.url, "bench-key"), [spec])
        checks = {
            "postgres": lambda: check_postgres(database_url, require_tls=False, timeout=5),
            "redis": lambda: check_redis(redis_url, require_tls=False, timeout=5),
            "qdrant": lambda: check_qdrant(qdrant.url, "bench-key", [spec], timeout=5),
            "supabase": lambda: check_supabase(supabase.url, "sb_secret_bench", timeout=5),
        }
        for check in checks.values():  # warm imports and connections once
            check()
        single = {name: min(seconds(check) for _ in range(3)) for name, check in checks.items()}
        together = min(seconds(lambda: run_checks(checks, Timing(deadline=30), [])) for _ in range(3))
    slowest = max(single.values())
    print("validation (best of 3)")
    for name, value in single.items():
        print(f"  {name:<9} alone      {value:6.3f} s")
    print(f"  sum of single checks   {sum(single.values()):6.3f} s")
    print(f"  slowest single check   {slowest:6.3f} s")
    print(f"  all checks, concurrent {together:6.3f} s   ({together / slowest:.2f}x the slowest)")


def bench_migrations(server_url: str) -> None:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server_url.replace("/postgres?", f"/{name}?")
    with tempfile.TemporaryDirectory() as directory:
        for index in range(MIGRATIONS):
            version = f"20260101{index // 3600:02d}{index // 60 % 60:02d}{index % 60:02d}"
            Path(directory, f"{version}_table_{index}.sql").write_text(
                f"create table t_{index} (id bigint primary key, note text);\n"
                f"insert into t_{index} values (1, 'first');\n"
            )
        migrations = load_migrations(Path(directory))
        first = seconds(lambda: apply_migrations(url, migrations))
        again = seconds(lambda: apply_migrations(url, migrations))
    print(f"migrations ({MIGRATIONS} small files, 2 statements each)")
    print(f"  apply all              {first:6.3f} s   ({first / MIGRATIONS * 1000:.1f} ms each)")
    print(f"  re-run (no-op)         {again:6.3f} s")


def main() -> None:
    with postgres_server() as postgres, redis_server() as redis:
        database = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(postgres.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        bench_validation(postgres.url(database), redis.url())
        bench_migrations(postgres.url())


if __name__ == "__main__":
    main()
