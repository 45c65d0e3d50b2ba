"""The Supabase stack's Terraform expressions, evaluated by `terraform console` on the data the
provider really returns.

Provider 1.10.1 (`pooler_data_source.go`) keys `supabase_pooler.url` by the pool mode of the
Management API's PRIMARY entries, and the API returns one entry, in transaction mode on port 6543,
with `[YOUR-PASSWORD]` where the password goes. These tests hand the synthesized `dev` outputs that
map and evaluate them; nothing is compared as a string.

What this cannot prove: that a real project's pooler answers on the derived session URL (Supabase
serves session mode on port 5432 of the same host, as the Supabase CLI assumes), or what a future
Management API may return.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infrakit.bootstrap.migration_ledger import target_of
from infrakit.constructs.supabase.database import PUBLISHABLE_KEY_PRESENT
from tests.terraform_console import evaluate

POOLER_HOST = "aws-0-eu-west-1.pooler.supabase.com"
TRANSACTION = f"postgres://postgres.abcdefghijklmnopqrst:[YOUR-PASSWORD]@{POOLER_HOST}:6543/postgres"
PASSWORD = "GeneratedPassword0123456789abcdefghijklm"  # checkov:skip=CKV_SECRET_6: test value


@pytest.fixture(scope="module")
def dev(synthesized: Path) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / "dev" / "cdk.tf.json").read_text())


def outputs_with(stack: dict[str, Any], pooler_url: dict[str, str]) -> dict[str, str]:
    """The database outputs, as Terraform evaluates them for this pooler map."""
    templates = {name: stack["output"][name]["value"] for name in ("database_url", "database_migration_url")}
    text = json.dumps(templates)
    values: dict[str, Any] = {
        address: pooler_url for address in set(re.findall(r"data\.supabase_pooler\.[\w-]+\.url", text))
    }
    values |= {address: PASSWORD for address in set(re.findall(r"random_password\.[\w-]+\.result", text))}
    assert len(values) == 2, values  # one pooler, one password
    return dict(evaluate(templates, values))


def test_migration_url_is_the_session_pooler_derived_from_the_transaction_entry(dev) -> None:
    urls = outputs_with(dev, {"transaction": TRANSACTION})
    migration = urlsplit(urls["database_migration_url"])
    assert (migration.hostname, migration.port, migration.password) == (POOLER_HOST, 5432, PASSWORD)
    assert parse_qs(migration.query) == {"sslmode": ["require"]}
    # The migrations accept it: the session pooler holds their advisory lock.
    assert target_of(urls["database_migration_url"]).description.endswith(f"{POOLER_HOST}:5432/postgres")


def test_database_url_stays_on_the_transaction_pooler(dev) -> None:
    url = urlsplit(outputs_with(dev, {"transaction": TRANSACTION})["database_url"])
    assert (url.hostname, url.port, url.password) == (POOLER_HOST, 6543, PASSWORD)
    assert "[YOUR-PASSWORD]" not in url.geturl()


def test_a_real_session_entry_wins(dev) -> None:
    session = "postgres://postgres.abcdefghijklmnopqrst:[YOUR-PASSWORD]@session.example:5432/postgres"
    url = urlsplit(
        outputs_with(dev, {"transaction": TRANSACTION, "session": session})["database_migration_url"]
    )
    assert (url.hostname, url.password) == ("session.example", PASSWORD)


@pytest.mark.parametrize(("publishable", "holds"), [("sb_publishable_abc", True), (None, False)])
def test_a_project_without_a_publishable_key_stops_the_apply(publishable: str | None, holds: bool) -> None:
    """The data source's postcondition, as Terraform evaluates it for a key the API may leave null.
    Cannot prove: when Supabase leaves it null (the provider creates `default` with the first
    secret key; apikey_resource.go)."""
    condition = PUBLISHABLE_KEY_PRESENT["condition"]
    result = evaluate({"c": condition}, {"self.publishable_key": publishable})
    assert result["c"] is holds


def test_the_publishable_key_output_is_plain_though_the_provider_marks_it_sensitive(dev) -> None:
    """The stack's own expression, with the data source's attribute given as the provider gives it
    (sensitive): Terraform evaluates it to the plain key, so an output and a container's plain
    environment may hold it. Cannot prove: the real key's format beyond `sb_publishable_`."""
    template = dev["output"]["supabase_publishable_key"]["value"]
    (address,) = set(re.findall(r"data\.supabase_apikeys\.[\w-]+\.publishable_key", template))
    planted = template.replace(address, 'sensitive("sb_publishable_abc")')
    assert evaluate({"k": planted}, {})["k"] == "sb_publishable_abc"
    assert dev["output"]["supabase_publishable_key"].get("sensitive") is not True


def test_no_stack_enables_or_reads_the_legacy_keys(synthesized: Path) -> None:
    """Acceptance of the move to publishable and secret keys, over every synthesized stack.
    Cannot prove: what an environment's product code still reads (SUPABASE_SERVICE_ROLE_KEY stays
    one release as an alias of its own secret key)."""
    for path in (synthesized / "stacks").glob("*/cdk.tf.json"):
        text = path.read_text()
        for legacy in ("legacy_api_keys_enabled", ".anon_key", ".service_role_key"):
            assert legacy not in text, (path.parent.name, legacy)


def test_the_publishable_key_postcondition_is_in_the_stack(dev) -> None:
    (keys,) = dev["data"]["supabase_apikeys"].values()
    assert keys["lifecycle"]["postcondition"] == [PUBLISHABLE_KEY_PRESENT]
