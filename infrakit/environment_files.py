"""Which entries of an environments directory are environments: every `*.toml` except hidden files
and what editors leave beside the file being edited. One rule for the loader, the host-port check
and the synth cache; free of heavy imports, since the synth cache reads it on its fast path."""

from __future__ import annotations

from pathlib import Path


def is_editor_file(name: str) -> bool:
    """Hidden files and what editors leave beside the file being edited: Emacs's lock
    (`.#local.toml`, a dangling symlink) and auto-save (`#local.toml#`), backups (`local.toml~`)."""
    return name.startswith((".", "#")) or name.endswith(("~", "#"))


def toml_entries(directory: Path) -> list[Path]:
    """The directory's `*.toml` entries that may be environments, sorted: files, or anything else
    by that name (a directory, a dangling link) for the loader to report. None where the directory
    does not exist (the loader reports that)."""
    entries = sorted(directory.iterdir()) if directory.is_dir() else []
    return [path for path in entries if path.suffix == ".toml" and not is_editor_file(path.name)]
