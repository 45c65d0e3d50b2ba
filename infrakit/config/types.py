"""Building blocks shared by every service's config model: strict models, secret references,
pinned images and sizing."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

_TF_VAR = re.compile(r"^TF_VAR_[A-Za-z_][A-Za-z0-9_]*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def named_once(subject: str = "") -> Callable[[list[_N]], list[_N]]:
    """An AfterValidator for a list of named tables (collections, constraints, indexes): a name
    declared twice is an error that lists every such name. `subject` starts the message."""

    def check(items: list[_N]) -> list[_N]:
        names = [item.name for item in items]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PydanticCustomError(
                "named_twice",
                f"{subject} declares {{names}} more than once".lstrip(),
                {"names": ", ".join(twice)},
            )
        return items

    return check


# ----------------------------------------------------------------------------- secrets


class SecretRef(Model):
    """Where a secret comes from. Never its value.

    Written in TOML as `"generate"` (Terraform generates it at apply time) or as
    `{ env = "TF_VAR_name" }` (Terraform reads it from that variable at apply time). A
    `TF_VAR_` name is required so the value never passes through infrakit or `cdk.tf.json`:
    Terraform itself reads it.
    """

    generate: bool = False
    env: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        if value == "generate":
            return {"generate": True}
        if isinstance(value, str):
            raise PydanticCustomError(
                "literal_secret",
                "a secret is written here as a literal value; secrets never go in environment "
                'files. Write "generate" or { env = "TF_VAR_<name>" } instead',
            )
        if not isinstance(value, dict):
            raise PydanticCustomError(
                "secret_ref", 'expected "generate" or a table like { env = "TF_VAR_<name>" }'
            )
        return value

    @model_validator(mode="after")
    def _exactly_one_source(self) -> SecretRef:
        if self.generate == (self.env is not None):
            raise PydanticCustomError(
                "secret_ref", 'set exactly one of: "generate", or { env = "TF_VAR_<name>" }'
            )
        if self.env is not None and not _TF_VAR.match(self.env):
            raise PydanticCustomError(
                "secret_env",
                "env must name a Terraform input variable such as TF_VAR_db_password, "
                "so that Terraform reads the value at apply time",
            )
        return self

    @property
    def variable_name(self) -> str:
        """The Terraform variable that carries an env-sourced secret."""
        assert self.env is not None
        return self.env.removeprefix("TF_VAR_")


GENERATED = SecretRef(generate=True)


# ----------------------------------------------------------------------------- images


def _pinned_image(ref: str) -> str:
    if "@" in ref:
        name, _, digest = ref.partition("@")
        repository, tag = _split_tag(name)
        raise PydanticCustomError(
            "image_digest_inline",
            'put the digest in image_digest, next to a pinned tag: image = "{pinned}" and '
            'image_digest = "{digest}"',
            {"pinned": name if tag else _example(repository), "digest": digest},
        )
    repository, tag = _split_tag(ref)
    if tag is None:
        raise PydanticCustomError(
            "image_unpinned",
            "image has no tag; pin a version, e.g. {pinned}",
            {"pinned": _example(repository)},
        )
    if tag == "latest":
        raise PydanticCustomError(
            "image_latest",
            "image uses the moving tag 'latest'; pin a version instead, e.g. {pinned}",
            {"pinned": _example(repository)},
        )
    return ref


def _split_tag(ref: str) -> tuple[str, str | None]:
    """("redis", "7.4") for "redis:7.4"; a registry port is no tag: ("host:5000/repo", None)."""
    repository, _, tag = ref.rpartition(":")
    if not repository or "/" in tag:
        return ref, None
    return repository, tag


def _example(repository: str) -> str:
    # The service's own image, so the example fits the service at hand.
    return f"{repository}:<version>"


def _digest(value: str) -> str:
    if not _DIGEST.match(value):
        raise PydanticCustomError("image_digest", "expected sha256:<64 lowercase hex digits>")
    return value


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
ImageDigest = Annotated[str, AfterValidator(_digest)]
Port = Annotated[int, Field(ge=1, le=65535)]
Identifier = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]


def docker_cpus(value: float) -> str:
    """`cpus` as the Docker provider reads it back from the container, e.g. 1 -> "1.0", 0.25 -> "0.25".

    kreuzwerker/docker parses `cpus` into NanoCPUs (docker/cli `opts.ParseCPUs`) and reads it back
    with `nanoInt64ToDecimalString` (internal/provider/helpers.go): nine decimals; if that text holds
    exactly nine "0" characters, one decimal, rounded; otherwise trailing zeros trimmed. `cpus`
    forces replacement, so any other spelling ("1" for "1.0") recreates the container on every apply.
    Raises ValueError for a value with no stable spelling: one the read-back rounds to another
    amount (0.01 reads back as "0.0", 10.01 as "10.0") or finer than a nano-CPU.
    """
    nano = Decimal(repr(value)) * 10**9
    if nano != nano.to_integral_value() or nano <= 0:
        raise ValueError(f"cpus = {value} is finer than Docker's unit of 1e-9 CPU")
    exact = f"{nano.scaleb(-9):.9f}"
    if exact.count("0") == 9:
        text = f"{Decimal(exact).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"
    else:
        text = exact.rstrip("0")
    if Decimal(text) * 10**9 != nano:
        raise ValueError(
            f"cpus = {value} has no stable form: the Docker provider reads it back as {text!r}, which "
            "is another amount, and would recreate the container on every apply; choose a multiple of 0.1"
        )
    return text


def _stable_cpus(value: float) -> float:
    try:
        docker_cpus(value)
    except ValueError as error:
        raise PydanticCustomError("cpus", "{reason}", {"reason": str(error)}) from None
    return value


class ContainerSizing(Model):
    """Image and limits shared by every container-backed service."""

    image: PinnedImage
    image_digest: ImageDigest | None = None
    memory_mb: int = Field(gt=0, le=262_144)
    cpus: Annotated[float, AfterValidator(_stable_cpus)] = Field(gt=0, le=64)

    @property
    def image_ref(self) -> str:
        return f"{self.image}@{self.image_digest}" if self.image_digest else self.image
