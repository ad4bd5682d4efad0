"""Every kind of change shows in every plan output: text, Markdown, JSON and the HTML preview.

The plan is built by hand with one change of each kind, and the tests enumerate ChangeKind themselves:
a kind added later fails here until it has an example change and every output shows it."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from publisher.app import PlanResult
from publisher.output import plan_json, plan_markdown, plan_text
from publisher.output.common import LABELS, RECREATE_HINT, SYMBOLS, summary_line
from publisher.output.preview.page import write_preview
from publisher.plan.changes import Change, ChangeKind, Plan
from publisher.plan.state import StatusRecord
from publisher.source.models import DesiredStatus
from publisher.source.project import load_project
from tests.helpers import make_repo
from tests.plan_fixture import NOW, status_record
from tests.test_preview import Elements

OUTPUTS = ("text", "markdown", "json", "preview")
LATER = NOW + timedelta(days=3)
SCHEDULED = {"status_id": None, "url": None, "published_at": None, "scheduled_id": "s-1"}


def post(post_id: str, text: str = "", **fields) -> DesiredStatus:
    values = {"source": f"posts/{post_id}.md", "account": "main", "text": text or f"The text of {post_id}."}
    return DesiredStatus(post_id=post_id, **{**values, **fields})


def record(post_id: str, text: str = "", **fields) -> StatusRecord:
    return status_record(post_id, text or f"The published text of {post_id}.", **fields)


def post_id_of(kind: ChangeKind) -> str:
    return f"{kind.value}-post"


def example_changes() -> dict[ChangeKind, Change]:
    """One change of each kind, as the planner makes them."""
    K = ChangeKind
    ids = {kind: post_id_of(kind) for kind in ChangeKind}
    scheduled = record(ids[K.RESCHEDULE], scheduled_at=NOW + timedelta(days=1), **SCHEDULED)
    due = record(ids[K.RECORD], scheduled_at=NOW - timedelta(hours=1), **SCHEDULED)
    changes = [
        Change(K.CREATE, ids[K.CREATE], post(ids[K.CREATE])),
        Change(K.UPDATE, ids[K.UPDATE], post(ids[K.UPDATE]), record(ids[K.UPDATE]), "content changed"),
        Change(K.ADJUST, ids[K.ADJUST], post(ids[K.ADJUST], pinned=True), record(ids[K.ADJUST]), "pin it"),
        Change(
            K.REPLACE,
            ids[K.REPLACE],
            post(ids[K.REPLACE], visibility="unlisted"),
            record(ids[K.REPLACE]),
            "visibility public -> unlisted cannot be edited",
        ),
        Change(K.SCHEDULE, ids[K.SCHEDULE], post(ids[K.SCHEDULE], publish_at=LATER), reason="scheduled"),
        Change(
            K.RESCHEDULE, ids[K.RESCHEDULE], post(ids[K.RESCHEDULE], publish_at=LATER), scheduled, "moved"
        ),
        Change(K.DEFERRED, ids[K.DEFERRED], post(ids[K.DEFERRED]), reason="waits for its parent"),
        Change(K.DELETE, ids[K.DELETE], record=record(ids[K.DELETE]), reason="post file is gone"),
        Change(
            K.MOVE,
            ids[K.MOVE],
            post(ids[K.MOVE]),
            record("old-name"),
            "renamed from old-name",
            previous_id="old-name",
        ),
        Change(K.RECORD, ids[K.RECORD], post(ids[K.RECORD]), due, "published on the server"),
        Change(K.GONE, ids[K.GONE], record=record(ids[K.GONE]), reason="deleted on the server"),
        Change(K.ORPHAN, ids[K.ORPHAN], record=record(ids[K.ORPHAN]), reason="post file is gone"),
        Change(K.UNCHANGED, ids[K.UNCHANGED], post(ids[K.UNCHANGED]), record(ids[K.UNCHANGED])),
    ]
    return {change.kind: change for change in changes}


def render(output: str, plan: Plan, out_dir: Path) -> str:
    project = load_project(make_repo(out_dir / "repo", {"any.md": "A post."}))  # the "main" account
    if output == "preview":
        return write_preview(PlanResult(project, plan), out_dir / "preview").read_text()
    renderer = {"text": plan_text, "markdown": plan_markdown, "json": plan_json}[output]
    return renderer(plan, project.config.limits)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, str]:
    plan = Plan(tuple(example_changes().values()), NOW)
    return {output: render(output, plan, tmp_path_factory.mktemp(output)) for output in OUTPUTS}


def summary_items(summary: str) -> list[str]:
    return summary.removeprefix("Plan: ").removesuffix(".").split(", ")


def text_shows(text: str, kind: ChangeKind, post_id: str) -> None:
    if kind == ChangeKind.UNCHANGED:  # only counted, by design
        assert "= 1 unchanged post\n" in text
    else:
        group = ("\n" + text).split(f"\n1 {LABELS[kind]}:\n\n", 1)[1]
        assert group.startswith(f"{SYMBOLS[kind]} {kind} {post_id}  (posts/")
    assert f"1 {LABELS[kind]}" in summary_items(text.splitlines()[-1])


def markdown_shows(document: str, kind: ChangeKind, post_id: str) -> None:
    if kind == ChangeKind.UNCHANGED:
        assert "1 unchanged post not shown." in document
    else:
        assert f"| {SYMBOLS[kind]} | {kind} | `{post_id}` |" in document
        assert f"<summary>{SYMBOLS[kind]} {kind} <code>{post_id}</code>" in document
    assert f"1 {LABELS[kind]}" in document.splitlines()[3]  # the counts under the title
    closing = document.rstrip("\n").splitlines()[-1]
    assert f"1 {LABELS[kind]}" in summary_items(closing.strip("`"))


def json_shows(document: str, kind: ChangeKind, post_id: str) -> None:
    parsed = json.loads(document)
    assert parsed["summary"][kind.value] == 1
    assert {"action": kind.value, "post": post_id} in [
        {"action": change["action"], "post": change["post"]} for change in parsed["changes"]
    ]


def preview_shows(page: str, kind: ChangeKind, post_id: str) -> None:
    cards = {card["id"]: card["data-action"] for card in Elements(page).all("article")}
    assert cards[f"post-{post_id}"] == kind.value
    summary = page[page.index('<p class="summary">') :].split(">", 1)[1].split("<", 1)[0]
    assert f"1 {LABELS[kind]}" in summary_items(summary)


SHOWS = {"text": text_shows, "markdown": markdown_shows, "json": json_shows, "preview": preview_shows}


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_every_kind_has_an_example_change(kind):
    assert kind in example_changes(), f"add an example change of kind {kind} to example_changes()"


@pytest.mark.parametrize("kind", list(ChangeKind))
@pytest.mark.parametrize("output", OUTPUTS)
def test_every_output_shows_every_kind(rendered, output, kind):
    SHOWS[output](rendered[output], kind, post_id_of(kind))


@pytest.mark.parametrize("kind", list(ChangeKind))
def test_every_kind_has_a_symbol_and_a_label_in_the_summary_line(kind):
    plan = Plan((example_changes()[kind],), NOW)
    assert SYMBOLS[kind] and f"1 {LABELS[kind]}" in summary_items(summary_line(plan))


@pytest.mark.parametrize(
    "kind, heading",
    [
        (ChangeKind.RESCHEDULE, "1 to reschedule:"),
        (ChangeKind.MOVE, "1 to move:"),
        (ChangeKind.RECORD, "1 to record:"),
        (ChangeKind.GONE, "1 gone on the server:"),
        (ChangeKind.ADJUST, "1 to adjust:"),
    ],
)
def test_new_kinds_have_their_own_heading(rendered, kind, heading):
    assert f"\n{heading}\n" in rendered["text"]


# -- what a kind adds to its change ----------------------------------------------------------------------


def single(change: Change, output: str, tmp_path: Path) -> str:
    return render(output, Plan((change,), NOW), tmp_path)


MOVED = example_changes()[ChangeKind.MOVE]


@pytest.mark.parametrize(
    "output, shown",
    [
        ("text", "    moved: old-name → move-post\n"),
        ("markdown", "**Moved:** old-name → move-post\n"),
        ("json", '"previous_id": "old-name"'),
        ("preview", "renamed from old-name · moved: old-name → move-post"),
    ],
)
def test_a_move_shows_the_old_and_the_new_id(tmp_path, output, shown):
    assert shown in single(MOVED, output, tmp_path)


GONE = example_changes()[ChangeKind.GONE]
GONE_WITH_POST = dataclasses.replace(GONE, desired=post(GONE.post_id))
GONE_WITH_HINT = dataclasses.replace(GONE, reason=f"deleted on the server; {RECREATE_HINT}")


@pytest.mark.parametrize("change", [GONE, GONE_WITH_POST, GONE_WITH_HINT], ids=["recorded", "post", "hint"])
@pytest.mark.parametrize("output", ["text", "markdown", "preview"])
def test_a_gone_post_shows_its_url_and_how_to_post_it_again_once(tmp_path, change, output):
    shown = single(change, output, tmp_path)
    assert change.record.url in shown
    hint = RECREATE_HINT if output == "text" else "publish sync --recreate-missing"
    assert shown.count(hint) == (1 if output == "text" else 2)  # a table row or a badge's title repeats it


def test_a_gone_post_without_its_file_shows_the_text_it_had(tmp_path):
    document = single(GONE, "markdown", tmp_path)
    assert (
        "Published text, deleted on the server:\n\n```text\nThe published text of gone-post.\n```" in document
    )


EDITED = dataclasses.replace(
    example_changes()[ChangeKind.UPDATE],
    record=record("update-post", "One.\nTwo."),
    desired=post("update-post", "One.\nTwo, from the file."),
    server_text="One, from the web.\nTwo.",
)
SERVER_DIFF = ["--- published", "+++ server", "@@ -1,2 +1,2 @@", "-One.", "+One, from the web.", " Two."]
FILE_DIFF = ["--- server", "+++ new", "@@ -1,2 +1,2 @@", "-One, from the web.", "-Two."]
FILE_DIFF += ["+One.", "+Two, from the file."]


def test_text_shows_the_edit_on_the_server_then_what_the_file_makes_of_it(tmp_path):
    text = single(EDITED, "text", tmp_path)
    rows = ["    edited on the server:", *(f"    {row}" for row in SERVER_DIFF)]
    rows += ["    the post file makes it:", *(f"    {row}" for row in FILE_DIFF)]
    assert "\n".join(rows) + "\n" in text


def test_markdown_shows_the_edit_on_the_server_then_what_the_file_makes_of_it(tmp_path):
    document = single(EDITED, "markdown", tmp_path)
    server = "**Edited on the server:**\n\n```diff\n" + "\n".join(SERVER_DIFF) + "\n```"
    file = "**The post file makes it:**\n\n```diff\n" + "\n".join(FILE_DIFF) + "\n```"
    assert document.index(server) < document.index(file)


@pytest.mark.parametrize(
    "output, shown",
    [
        ("json", '"server_text": "One, from the web.\\nTwo."'),
        ("preview", "edited on the server to &#34;One, from the web.\nTwo.&#34;"),
    ],
)
def test_machines_and_the_preview_get_the_server_text(tmp_path, output, shown):
    assert shown in single(EDITED, output, tmp_path)


@pytest.mark.parametrize("output", ["text", "markdown"])
def test_an_edit_not_made_on_the_server_shows_one_diff(tmp_path, output):
    shown = single(dataclasses.replace(EDITED, server_text=None), output, tmp_path)
    assert "edited on the server" not in shown.lower() and "+++ server" not in shown
    assert "--- published\n" in shown and "+++ new\n" in shown


def test_json_has_previous_id_and_server_text_only_when_set(rendered):
    changes = {change["post"]: change for change in json.loads(rendered["json"])["changes"]}
    assert changes["move-post"]["previous_id"] == "old-name"
    with_extras = {
        post_id for post_id, change in changes.items() if {"previous_id", "server_text"} & set(change)
    }
    assert with_extras == {"move-post"}
