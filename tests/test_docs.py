"""The documentation site (docs/, mkdocs.yml) builds with `mkdocs build --strict`, and strict really
fails on a broken link, a missing anchor and a page left out of the nav.

What these tests cannot prove: that the prose is true (a page may describe behaviour the code no
longer has), that a command quoted in a code span works, or that a link to a repository file written
as a code span (`scripts/setup.sh`) names a file that exists. They check the site's structure only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of `project`'s mkdocs.yml into `site`, with the venv's mkdocs."""
    build = ["build", "--strict", "--config-file", str(project / "mkdocs.yml"), "--site-dir", str(site)]
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *build],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        # Material prints a multi-line notice about its end of life on every build; keep the log to mkdocs'.
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def copy_project(tmp_path: Path) -> Path:
    """docs/ and mkdocs.yml, copied to a scratch project that a test may break."""
    project = tmp_path / "project"
    shutil.copytree(DOCS, project / "docs")
    shutil.copy2(MKDOCS_YML, project / "mkdocs.yml")
    return project


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real docs, built once per module (per xdist worker) with --strict."""
    site = tmp_path_factory.mktemp("site")
    result = mkdocs_build(ROOT, site)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return site


def test_docs_build_strict(site: Path) -> None:
    """The docs build with --strict: no broken link or anchor, no page outside the nav, no absolute
    or unrecognized link. It does not check that any page says something true or current."""
    assert (site / "index.html").is_file()
    assert (site / "reference" / "index.html").is_file()


@pytest.mark.parametrize(
    ("plant", "named"),
    [
        ("[gone](no-such-page.md)", "no-such-page.md"),
        ("[gone](deploy.md#no-such-anchor)", "no-such-anchor"),
    ],
    ids=["missing-page", "missing-anchor"],
)
def test_broken_link_fails_the_build(tmp_path: Path, plant: str, named: str) -> None:
    """A link to a missing page, or to an anchor a page lacks, fails the strict build, which names it.
    This proves the validation settings in mkdocs.yml bite; it cannot find a link that points to the
    wrong (existing) page or anchor."""
    project = copy_project(tmp_path)
    index = project / "docs" / "index.md"
    index.write_text(index.read_text() + f"\nSee {plant}.\n")
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0, f"the strict build passed with {plant} planted:\n{result.stderr}"
    assert named in result.stderr, result.stderr


def test_page_outside_the_nav_fails_the_build(tmp_path: Path) -> None:
    """A page under docs/ that the nav leaves out fails the strict build, which names it. This proves
    that a page cannot be added without a place in the nav; it cannot tell whether the place is apt."""
    project = copy_project(tmp_path)
    (project / "docs" / "stray-page.md").write_text("# A page nobody links to\n")
    result = mkdocs_build(project, tmp_path / "site")
    assert result.returncode != 0, f"the strict build passed with a page outside the nav:\n{result.stderr}"
    assert "stray-page.md" in result.stderr, result.stderr


def nav_pages(nav: list[object]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            if isinstance(value, list):
                pages += nav_pages(value)
            elif isinstance(value, str):
                pages.append(value)
    return pages


def test_every_page_is_in_the_nav_once() -> None:
    """Each Markdown file under docs/ appears in mkdocs.yml's nav exactly once, and the nav names no
    file that is missing: the same rule as the strict build, with a message that lists the files.
    It cannot tell whether the nav's order or titles make sense to a reader."""
    nav = nav_pages(yaml.safe_load(MKDOCS_YML.read_text())["nav"])
    on_disk = sorted(str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md"))
    duplicates = sorted({page for page in nav if nav.count(page) > 1})
    assert not duplicates, f"in the nav more than once: {duplicates}"
    not_in_nav, missing = sorted(set(on_disk) - set(nav)), sorted(set(nav) - set(on_disk))
    assert not not_in_nav and not missing, f"not in the nav: {not_in_nav}; in the nav but missing: {missing}"


README_LINK = re.compile(r"\]\((?!https?://)([^)#\s]+)(?:#([^)\s]+))?\)")


def test_readme_links_resolve(site: Path) -> None:
    """README.md is not part of the site, so the strict build does not check it: every relative link
    in it must name an existing file, and an anchor into a docs page must exist in the built page.
    It does not check links to other sites, nor that the README's tour still runs."""
    readme = (ROOT / "README.md").read_text()
    links = README_LINK.findall(readme)
    assert links, "README.md links to no docs page"
    problems = []
    for target, anchor in links:
        if not (ROOT / target).exists():
            problems.append(f"{target}: no such file")
            continue
        if anchor and target.startswith("docs/") and target.endswith(".md"):
            page = target.removeprefix("docs/").removesuffix(".md")
            html = site / ("" if page == "index" else page) / "index.html"
            if f'id="{anchor}"' not in html.read_text():
                problems.append(f"{target}#{anchor}: no such anchor")
    assert not problems, problems


def test_readme_keeps_the_two_commands() -> None:
    """The README names the two commands a newcomer runs first, literally. It cannot prove they work;
    the rest of the suite tests them."""
    readme = (ROOT / "README.md").read_text()
    assert "scripts/setup.sh" in readme
    assert "scripts/test.sh" in readme
