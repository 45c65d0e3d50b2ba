"""Read and validate environment files, reporting every problem at once."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from infrakit.config.models import DOCKER_SERVICES_WITH_HOST_PORT, EnvironmentConfig, host_port_keys
from infrakit.environment_files import toml_entries

_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """One or more user mistakes in environment files. Printed as a list, never a traceback."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"infrakit: {count} configuration {noun}:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class Environment:
    """A validated environment: its name (the file's stem, also the stack name) and config."""

    name: str
    file: str
    config: EnvironmentConfig


@dataclass(frozen=True)
class EnvironmentFiles:
    """The `<env>.toml` files of a directory: those that can be read as environments, and the
    entries that look like one but are not a readable file (a directory, a dangling symlink)."""

    files: dict[str, Path]
    broken: dict[str, Problem]

    @property
    def names(self) -> list[str]:
        return sorted({*self.files, *self.broken})


def environment_files(directory: Path) -> EnvironmentFiles:
    """Every `*.toml` entry of directory except editor and hidden files; the one listing that both
    the loader and the host-port check use."""
    files: dict[str, Path] = {}
    broken: dict[str, Problem] = {}
    for path in toml_entries(directory):
        problem = _not_a_file(path)
        if problem:
            # The entry's own name: resolving it would name a symlink's target instead.
            broken[path.stem] = Problem(str(Path(_display(path.parent)) / path.name), "", problem)
        else:
            files[path.stem] = path
    return EnvironmentFiles(files, broken)


def _not_a_file(path: Path) -> str | None:
    fix = "every *.toml file in this directory is an environment: remove it or rename it"
    if path.is_symlink() and not path.exists():
        return f"a symbolic link to {path.readlink()}, which does not exist; {fix}"
    if path.is_dir():
        return f"a directory, not an environment file; {fix}"
    if not path.is_file():
        return f"not a regular file; {fix}"
    return None


def load_environments(directory: Path, names: Iterable[str] = ()) -> list[Environment]:
    """Load the named environments, or all of them. Raises ConfigError listing every problem.

    A broken entry (a directory or dangling symlink named *.toml) is reported when it is asked for
    or when all environments are: it does not stop a synth of other, healthy environments.
    """
    if not directory.is_dir():
        raise ConfigError([_missing_directory(directory)])
    try:
        listing = environment_files(directory)
    except OSError as error:
        problem = Problem(_display(directory), "", f"cannot list the directory: {error.strerror}")
        raise ConfigError([problem]) from None
    known = listing.names
    wanted = list(names) or known
    problems: list[Problem] = [listing.broken[name] for name in wanted if name in listing.broken]
    for name in wanted:
        if name not in known:
            hint = f"known environments: {', '.join(known)}" if known else "there are none yet"
            problems.append(
                Problem(
                    _display(directory / f"{name}.toml"),
                    "",
                    f"unknown environment '{name}': no such file ({hint})",
                )
            )
    if not wanted:
        problems.append(Problem(_display(directory), "", "no environment files (*.toml) found"))

    environments: list[Environment] = []
    loadable = [name for name in wanted if name in listing.files]
    for name in loadable:
        try:
            environments.append(load_environment(listing.files[name]))
        except ConfigError as error:
            problems += error.problems
    problems += host_port_clashes(directory, loadable)
    if problems:
        raise ConfigError(problems)
    return environments


def _missing_directory(directory: Path) -> Problem:
    fix = "pass --environments-dir with the directory that holds the <env>.toml files"
    if directory.exists():
        return Problem(_display(directory), "", f"not a directory of environment files; {fix}")
    return Problem(
        _display(directory),
        "",
        f"the environments directory does not exist; create it with one <env>.toml per environment, or {fix}",
    )


# ----------------------------------------------------------------------------- host ports


@dataclass(frozen=True)
class _PublishedPort:
    file: str
    key: str
    port: int

    def __str__(self) -> str:
        return f"{self.file}: {self.key}"


def host_port_clashes(directory: Path, wanted: Iterable[str]) -> list[Problem]:
    """Host ports that a wanted environment shares with another environment file.

    Every file in the directory counts, loaded or not: deploying one environment while another
    runs publishes both on this machine, and the second deploy fails on the port. Files are
    read leniently here; their own mistakes are reported when they are loaded.
    """
    loading = set(wanted)
    published = {name: _published_ports(path) for name, path in environment_files(directory).files.items()}
    problems = []
    names = sorted(published)
    for index, name in enumerate(names):
        for other in names[index + 1 :]:
            if name not in loading and other not in loading:
                continue
            # Reported on a file being loaded, naming the one it clashes with.
            mine, theirs = (name, other) if name in loading else (other, name)
            for port in published[mine]:
                for clash in (p for p in published[theirs] if p.port == port.port):
                    problems.append(
                        Problem(
                            port.file,
                            port.key,
                            f"host port {port.port} is also used by {clash}; environments running "
                            "side by side cannot publish the same host port: pick another "
                            f"{port.key} in one of them",
                        )
                    )
    return problems


def _published_ports(path: Path) -> list[_PublishedPort]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    ports = []
    for service, model in DOCKER_SERVICES_WITH_HOST_PORT.items():
        table = data.get(service)
        if not isinstance(table, dict) or table.get("backend") != "docker":
            continue
        for key in host_port_keys(model):
            port = table.get(key, model.model_fields[key].default)
            if isinstance(port, int) and not isinstance(port, bool):
                ports.append(_PublishedPort(_display(path), f"{service}.{key}", port))
    return ports


# ----------------------------------------------------------------------------- one file


def load_environment(path: Path) -> Environment:
    file = _display(path)
    if not _ENV_NAME.match(path.stem):
        raise ConfigError(
            [
                Problem(
                    file,
                    "",
                    "environment names become stack names: use lowercase letters, digits and '-', "
                    "starting with a letter",
                )
            ]
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([Problem(file, "", f"not valid TOML: {error}")]) from None
    except OSError as error:
        raise ConfigError([Problem(file, "", f"cannot read file: {error.strerror}")]) from None
    try:
        config = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            [_problem(file, data, e) for e in error.errors(include_input=False, include_url=False)]
        ) from None
    return Environment(name=path.stem, file=file, config=config)


def _problem(file: str, data: Any, error: Any) -> Problem:
    """Turn one pydantic error into a Problem whose key is the TOML key path.

    pydantic inserts union tags (such as a backend name) into error locations; those are
    not keys in the file and are dropped. Input values are never echoed: they may be secrets.
    """
    loc = list(error["loc"])
    path: list[str] = []
    node: Any = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, dict) and part in node:
            path.append(str(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(f"[{part}]")
            node = node[part]
        elif last and error["type"] == "missing":
            path.append(str(part))
        # Anything else is a tag pydantic adds for a union member (a backend name, a model).
    key = ".".join(path).replace(".[", "[")
    message = _message(error, path)
    return Problem(file, key, message)


def _message(error: Any, path: list[str]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        # pydantic tags a union member's errors with its discriminator (the backend name).
        tags = {part for part in error["loc"] if isinstance(part, str)}
        allowed = _allowed_keys(path[:-1], tags)
        suggestion = difflib.get_close_matches(path[-1], allowed, n=1) if path else []
        hint = f"; did you mean '{suggestion[0]}'?" if suggestion else ""
        return f"unknown key{hint} (allowed here: {', '.join(sorted(allowed))})"
    message = str(error["msg"])
    # pydantic prefixes custom and validator messages; people need only the sentence.
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _allowed_keys(parent: list[str], tags: set[str]) -> list[str]:
    """Field names of the model at a key path, for 'did you mean' hints; of a union (the backends
    of one service), the member whose `backend` is among the error's tags."""
    model: type[BaseModel] = EnvironmentConfig
    for part in parent:
        field = model.model_fields.get(part)
        members = _models_of(field.annotation) if field else []
        if not members:
            return []
        tagged = [m for m in members if tags & set(getattr(_field(m, "backend"), "__args__", ()))]
        model = (tagged or members)[0]
    return list(model.model_fields)


def _field(model: type[BaseModel], name: str) -> Any:
    field = model.model_fields.get(name)
    return field.annotation if field else None


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = [model for arg in getattr(annotation, "__args__", ()) for model in _models_of(arg)]
    if found:
        return found
    metadata_origin = getattr(annotation, "__origin__", None)
    return _models_of(metadata_origin) if metadata_origin is not None else []


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
