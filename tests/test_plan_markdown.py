"""`infrakit plan --format markdown`: the plan summary for a pull-request comment or a job summary.

End to end with the stand-ins of tests/test_plan_command.py (a `terraform` script on PATH that prints
fixture plans built from our synthesized stacks, and a stand-in `main.py`), and the Markdown rendered
to HTML by markdown-it-py with GitHub's table extension, so that the escaping is proven by how the
text renders, not by how it looks. What this cannot prove: real Terraform and provider behaviour
(tests/test_plan_command.py runs real Terraform on a provider-free stack), and GitHub's own renderer
(markdown-it-py follows CommonMark and GitHub's table rules, GitHub's may differ at the edges).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from infrakit import cli
from infrakit.deploy.plan import Action, PlannedChange, PlanSummary, decide
from infrakit.deploy.plan_markdown import code, escape, render_plan
from infrakit.deploy.stateful import STATEFUL_TYPES
from tests.conftest import ENVIRONMENTS
from tests.test_plan import SECRET, addresses, plan_json
from tests.test_plan_command import Project, executable

ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def project(tmp_path, synthesized, monkeypatch) -> Project:
    return Project(tmp_path, synthesized, monkeypatch)


def plan(*args: str) -> int:
    return cli.main(["--environments-dir", str(ENVIRONMENTS), "plan", "--format", "markdown", *args])


class Rendered(HTMLParser):
    """The HTML of rendered Markdown, read back: each table row's cells, each code span, the text."""

    def __init__(self, markdown: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self.codes: list[str] = []
        self.text = ""
        self.headings: list[str] = []
        self._cell: str | None = None
        self._code: str | None = None
        self._heading: str | None = None
        self.feed(MarkdownIt("commonmark").enable("table").render(markdown))

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "code":
            self._code = ""
        elif tag in ("h2", "h3"):
            self._heading = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None
        elif tag == "code" and self._code is not None:
            self.codes.append(self._code)
            self._code = None
        elif tag in ("h2", "h3") and self._heading is not None:
            self.headings.append(self._heading)
            self._heading = None

    def handle_data(self, data):
        self.text += data
        for part in ("_cell", "_code", "_heading"):
            if getattr(self, part) is not None:
                setattr(self, part, getattr(self, part) + data)


def body_rows(rendered: Rendered) -> list[list[str]]:
    return rendered.rows[1:]  # the header row first


def test_no_changes_is_one_heading_and_the_verdict_on_stdout_alone(project, capfd) -> None:
    project.plans(dev=plan_json(project.document("dev"), default=["no-op"]))
    assert plan("--env", "dev") == 0
    out, err = capfd.readouterr()
    rendered = Rendered(out)
    assert rendered.headings == ["Plan of dev: no changes"]
    assert rendered.rows == []
    assert "Verdict: nothing refused; dev may be applied (exit 0)." in rendered.text
    # What Terraform and the synth print goes to stderr: stdout is the Markdown and nothing else.
    assert out.startswith("### Plan of `dev`: no changes\n")
    assert "Terraform will perform the following actions" in err
    assert "synthesized dev" in err
    assert "Terraform will perform" not in out
    assert not ANSI.search(out)
    assert SECRET not in out + err
    assert list(project.temp.iterdir()) == []  # the plan file is gone


def test_changes_are_a_table_of_every_resource_with_the_stateful_ones_marked(project, capfd) -> None:
    document = project.document("dev")
    tasks = addresses(document, "aws_ecs_task_definition")
    services = addresses(document, "aws_ecs_service")
    project.plans(
        dev=plan_json(
            document,
            {**dict.fromkeys(tasks, ["delete", "create"]), **dict.fromkeys(services, ["update"])},
        )
    )
    assert plan("--env", "dev") == 0
    out, err = capfd.readouterr()
    rendered = Rendered(out)
    created = [a for a in addresses(document) if a not in tasks + services]
    counts = f"{len(created)} to add, {len(services)} to change, {len(tasks)} to replace, 0 to destroy"
    assert rendered.headings == [f"Plan of dev: {counts}"]
    assert rendered.rows[0] == ["action", "resource", "stateful: holds / credential"]
    rows = {row[1]: row for row in body_rows(rendered)}
    assert sorted(rows) == sorted(addresses(document))
    assert all(len(row) == 3 for row in rows.values())
    for address in created:
        assert rows[address] == ["add", address, STATEFUL_TYPES.get(address.split(".")[0], "")]
    assert {rows[a][0] for a in tasks} == {"replace"} and {rows[a][0] for a in services} == {"change"}
    assert f"**replace** | `{tasks[0]}`" in out  # a loss is in bold
    assert "Verdict: nothing refused" in rendered.text
    assert not ANSI.search(out)
    assert SECRET not in out + err


def test_a_refusal_is_marked_in_its_row_and_the_verdict_lines_say_how_to_lift_it(project, capfd) -> None:
    document = project.document("prod")
    (group,) = addresses(document, "aws_elasticache_replication_group")
    project.plans(
        prod=plan_json(
            document,
            {group: ["delete", "create"]},
            default=["no-op"],
            reasons={group: "replace_because_cannot_update"},
            replace_paths={group: [["transit_encryption_enabled"]]},
        )
    )
    assert plan("--env", "prod") == 1
    out, err = capfd.readouterr()
    rendered = Rendered(out)
    assert rendered.headings == ["Plan of prod: 0 to add, 0 to change, 1 to replace, 0 to destroy"]
    (row,) = body_rows(rendered)
    assert row == ["replace", group, f"REFUSED: {STATEFUL_TYPES['aws_elasticache_replication_group']}"]
    assert "| **REFUSED**: " in out
    assert "Verdict: refused (exit 1): prod would not be applied" in rendered.text
    # The same verdict lines as the terminal's, each a list item, rendered back to the same words.
    assert f"prod was not applied. If you mean to lose it, add: --allow-replace {group}" in rendered.text
    assert "replace_because_cannot_update: an argument that cannot change in place changed: " in (
        rendered.text
    )
    assert f"infrakit: prod was not applied. If you mean to lose it, add: --allow-replace {group}" in err
    assert SECRET not in out + err


def test_an_unused_allow_replace_is_exit_2_and_says_so(project, capfd) -> None:
    project.plans(dev=plan_json(project.document("dev"), default=["no-op"]))
    assert plan("--env", "dev", "--allow-replace", "aws_kms_key.nothing") == 2
    rendered = Rendered(capfd.readouterr().out)
    assert "Verdict: usage error (exit 2)" in rendered.text
    assert "--allow-replace aws_kms_key.nothing: no plan of this run replaces or destroys it" in rendered.text


def test_a_failed_plan_still_prints_a_section_that_says_so(project, capfd) -> None:
    executable(
        project.bin / "terraform",
        "#!/bin/sh\n[ \"$1\" = init ] && exit 0\necho 'Error: no credentials' >&2\nexit 1\n",
    )
    assert plan("--env", "dev") == 1
    out, err = capfd.readouterr()
    assert Rendered(out).headings == ["Plan of dev: failed (exit 1)"]
    assert "Error: no credentials" in err and "Error" not in out


def test_the_images_stack_and_an_unknown_stack(project, capfd) -> None:
    project.plans(**{"dev-images": plan_json(project.document("dev-images"), default=["no-op"])})
    assert plan("--env", "dev", "--stack", "dev-images") == 0
    assert Rendered(capfd.readouterr().out).headings == ["Plan of dev-images: no changes"]
    assert plan("--env", "dev", "--stack", "prod") == 2
    out, err = capfd.readouterr()
    assert Rendered(out).headings == ["Plan of prod: failed (exit 2)"]
    assert "--stack prod: the stacks of 'dev' are dev-images, dev" in err


def test_the_default_format_is_still_the_table_on_the_terminal(project, capfd) -> None:
    project.plans(dev=plan_json(project.document("dev"), default=["no-op"]))
    assert cli.main(["--environments-dir", str(ENVIRONMENTS), "plan", "--env", "dev"]) == 0
    out, err = capfd.readouterr()
    assert "infrakit: dev: planning" in err and "dev: no changes" in err
    assert "###" not in out + err


# ----------------------------------------------------------------------------- escaping

ODD = [
    'aws_s3_bucket.b["a|b"]',
    'aws_s3_bucket.b["tick`tock"]',
    'aws_s3_bucket.b["``two``"]',
    'aws_s3_bucket.b["*not emphasis* [not](a link) <b>not html</b> _x_"]',
    'aws_s3_bucket.b["`"]',
]


@pytest.mark.parametrize("address", ODD)
def test_an_address_renders_as_itself_in_one_cell(address) -> None:
    summary = PlanSummary("dev", (PlannedChange(address, "aws_s3_bucket", Action.DESTROY),))
    markdown = render_plan(summary, decide(summary, [address]))
    rendered = Rendered(markdown)
    (row,) = body_rows(rendered)
    assert row[:2] == ["destroy", address]
    assert row[2].startswith("allowed by --allow-replace: ")
    assert address in rendered.codes
    assert f"allowed by --allow-replace: {address} would be destroyed" in rendered.text  # verdict line
    assert "<b>" not in MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.mark.parametrize(
    "text",
    [
        "a | b",
        "`x`",
        "# not a heading",
        "- not a list",
        "+ not a list",
        "1. not a list",
        "2) not a list",
        "_x_ *y* ~~z~~ [a](b) ![c](d) <!-- e --> &amp; <https://f>",
        "a\\b",
    ],
)
def test_escaped_text_renders_as_itself(text) -> None:
    assert Rendered(escape(text)).text.strip() == text
    assert Rendered(code(text)).codes == [text]
