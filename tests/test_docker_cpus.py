"""Every local container's `cpus` is written exactly as the Docker provider reads it back, so an
unchanged config plans no replacement (`cpus` is ForceNew in kreuzwerker/docker).

The provider's read-back is ported here from its source, kreuzwerker/terraform-provider-docker at
83c00e0 (v4.5.0 + 5 commits; the 4.6.0 tag is not in the mirror):
- `internal/provider/resource_docker_container_funcs.go`: create sets `NanoCPUs` from
  `opts.ParseCPUs(cpus)`; read sets `cpus` to `nanoInt64ToDecimalString(NanoCPUs)` when it is > 0;
- `internal/provider/helpers.go`, `nanoInt64ToDecimalString`: `big.Rat` n/1e9, `FloatString(9)`; if
  that text has exactly nine "0" characters, `FloatString(1)`, else trailing zeros trimmed;
- `internal/provider/resource_docker_container.go`: `"cpus"` is `ForceNew: true`.
`opts.ParseCPUs` (docker/cli) is `big.Rat.SetString` times 1e9, refused unless whole.

What this cannot prove: the provider and Docker themselves (no Go toolchain or Docker engine here).
In particular that Go's `big.Rat` parses the trimmed form "10." (its grammar allows `digits "."`),
which is what the provider itself writes to state for 10, 20, ... CPUs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

from infrakit.cdk import Container
from infrakit.config.types import ContainerSizing, docker_cpus

IMAGE = "postgres:16.6-alpine"


def go_float_string(x: Fraction, prec: int) -> str:
    """Go's `(*big.Rat).FloatString(prec)` for x >= 0: rounded to nearest, halves away from zero."""
    scaled = x * 10**prec
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    integer, fraction = divmod(whole, 10**prec)
    return f"{integer}.{fraction:0{prec}d}" if prec else str(integer)


def nano_int64_to_decimal_string(nano: int) -> str:
    """helpers.go `nanoInt64ToDecimalString`, line for line."""
    if nano == 0:
        return "0"
    rat = Fraction(nano, 10**9)
    text = go_float_string(rat, 9)
    if text.count("0") == 9:
        return go_float_string(rat, 1)
    return text.rstrip("0")


def parse_cpus(text: str) -> int:
    """docker/cli `opts.ParseCPUs`: the NanoCPUs Docker receives for `text`."""
    nano = Fraction(text) * 10**9
    assert nano.denominator == 1, f"{text!r}: value is too precise"
    return int(nano)


@pytest.mark.parametrize(
    ("nano", "expected"),
    [
        (0, "0"),
        (1_000_000_000, "1.0"),
        (1_500_000_000, "1.5"),
        (2_000_000_000, "2.0"),
        (2_250_000_000, "2.25"),
    ],
)
def test_the_port_matches_the_providers_own_test_table(nano: int, expected: str) -> None:
    """helpers_test.go, TestNanoInt64ToDecimalString."""
    assert nano_int64_to_decimal_string(nano) == expected


# Every 0.05 from 0.05 to 64, and finer values people write.
CONFIGURED = [round(step * 0.05, 2) for step in range(1, 1281)] + [0.125, 0.01, 1.01, 2.25, 10.01, 33.3]


def test_written_form_is_what_the_provider_reads_back() -> None:
    wrong = []
    for value in CONFIGURED:
        nano = parse_cpus(repr(value))
        try:
            written = docker_cpus(value)
        except ValueError:
            # Refused only when no spelling survives: the read-back is another amount.
            if parse_cpus(nano_int64_to_decimal_string(nano)) == nano:
                wrong.append((value, "refused, though it has a stable form"))
            continue
        if parse_cpus(written) != nano:
            wrong.append((value, f"{written!r} is another amount"))
        elif nano_int64_to_decimal_string(nano) != written:
            wrong.append((value, f"{written!r} reads back as {nano_int64_to_decimal_string(nano)!r}"))
    assert wrong == []


def test_the_old_spelling_of_whole_cpus_is_replaced_on_every_apply() -> None:
    """The control: `f"{1.0:g}"`, what the containers were given, is not what the provider reads back."""
    assert nano_int64_to_decimal_string(parse_cpus(f"{1.0:g}")) != f"{1.0:g}"


@pytest.mark.parametrize("value", [0.01, 0.05, 10.01])
def test_config_refuses_cpus_with_no_stable_form(value: float) -> None:
    with pytest.raises(ValidationError, match=r"cpus(.|\n)*no stable form(.|\n)*multiple of 0.1"):
        ContainerSizing(image=IMAGE, memory_mb=256, cpus=value)


def test_every_local_container_carries_the_read_back_form(local_json: dict[str, Any], resources) -> None:
    containers = resources(local_json, Container.TF_RESOURCE_TYPE)
    assert containers
    for name, container in containers.items():
        written = container["cpus"]
        assert nano_int64_to_decimal_string(parse_cpus(written)) == written, name
