"""Strict front-matter keys, data for templates under `vars:`, and Hugo's and Jekyll's files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from publisher.cli import app
from publisher.errors import InvalidInput, did_you_mean, one_typo_apart
from publisher.source.frontmatter import FrontMatterError, parse_markdown_file, toml_key_lines
from publisher.source.posts import SITE_GENERATOR_KEYS, FrontMatter
from publisher.source.project import load_project
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import run_sync

# The keys publish itself reads (the site generators' keys are accepted but read by templates only).
OWN_KEYS = [key for key in FrontMatter.known_keys() if key not in SITE_GENERATOR_KEYS]


def typos(key: str) -> list[str]:
    """One typo of each kind, where it is not itself a known key: a letter dropped, doubled, changed, and
    the first two swapped."""
    changed = key[:-1] + ("x" if key[-1] != "x" else "y")
    made = [key[1:], key + key[-1], changed, key[1] + key[0] + key[2:]]
    return sorted({typo for typo in made if typo and typo not in FrontMatter.known_keys()})


def typo_cases() -> list[tuple[str, str]]:
    return [(key, typo) for key in OWN_KEYS for typo in typos(key)]


@pytest.mark.parametrize("suffix", ["md", "yaml"])
@pytest.mark.parametrize(("key", "typo"), typo_cases())
def test_a_key_one_typo_away_is_an_error_with_the_key_it_meant(tmp_path, key, typo, suffix):
    text = f"{typo}: x\nbody: hello\n" if suffix == "yaml" else f"---\n{typo}: x\n---\nhello\n"
    config = make_repo(tmp_path, {f"p.{suffix}": text})
    with pytest.raises(InvalidInput) as raised:
        load_project(config)
    [problem] = raised.value.problems
    assert (problem.path, problem.line, problem.field) == (f"posts/p.{suffix}", 1 + (suffix == "md"), typo)
    assert problem.message == "unknown key"
    meant = problem.hint.removeprefix("did you mean '").removesuffix("'?")
    assert one_typo_apart(typo, meant) or meant == key, problem.hint


def test_the_typos_of_the_issue_are_refused_by_check_and_nothing_is_sent(tmp_path, clock, server):
    post = "---\nvisibilty: unlisted\nspoilr: Food\npublish_on: 2026-12-24T10:00:00Z\n---\nSoup."
    config = make_repo(tmp_path, {"soup.md": post, "fine.md": "Fine."}, instance=server.url)
    result = CliRunner().invoke(app, ["check", "--config", str(config)])
    assert result.exit_code == 2
    expected = [(2, "visibilty", "visibility"), (3, "spoilr", "spoiler"), (4, "publish_on", "publish_at")]
    for line, typo, meant in expected:
        assert f"posts/soup.md:{line}: {typo}: unknown key (hint: did you mean '{meant}'?)" in result.output
    with pytest.raises(InvalidInput):
        run_sync(config, clock)
    assert server.requests == []


@pytest.mark.parametrize(
    ("front", "line", "field", "message"),
    [
        ("spoiler: a\ncw: b", 3, "cw", "sets the same field as 'spoiler'"),
        ("vars: {a: 1}\nparams: {b: 2}", 3, "params", "sets the same field as 'vars'"),
        ("mood: sunny", 2, "mood", "unknown key"),
        ("media:\n  - path: a.png\n    alt: x\n    focux: [0, 0]", 5, "media[0].focux", "unknown key"),
        ("title: T\ndate: next tuesday", 3, "date", "must be an ISO 8601 date and time"),
        ("publishDate: 2026-12-01T09:00:00", 2, "publishDate", "needs a timezone"),
    ],
)
def test_each_problem_names_the_key_as_written(tmp_path, front, line, field, message):
    config = make_repo(tmp_path, {"p.md": f"---\n{front}\n---\nx"}, files={"posts/a.png": PNG_1PX})
    with pytest.raises(InvalidInput) as raised:
        load_project(config)
    [problem] = raised.value.problems
    assert (problem.line, problem.field) == (line, field) and problem.message.startswith(message), problem


def test_an_unknown_key_with_nothing_close_points_at_vars(tmp_path):
    config = make_repo(tmp_path, {"p.md": "---\nmood: sunny\n---\nx"})
    with pytest.raises(InvalidInput) as raised:
        load_project(config)
    assert raised.value.problems[0].hint == "put data for templates under `vars:`"


@pytest.mark.parametrize("key", ["vars", "params"])
def test_templates_read_vars_under_either_name_and_site_keys_at_the_top(tmp_path, key):
    template = "{{ title }}: {{ vars.series }}/{{ params.series }} by {{ author }}\n{{ body }}"
    post = f"---\ntitle: Harbour\nauthor: Ann\n{key}: {{series: boats}}\n---\nSails."
    config = make_repo(tmp_path, {"p.md": post}, templates={"default.txt.j2": template})
    [status] = load_project(config).posts
    assert status.text == "Harbour: boats/boats by Ann\nSails."


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("date: 2027-01-02T03:04:05Z", datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("date: 2027-01-02", datetime(2027, 1, 2, tzinfo=UTC)),
        ("date: 2020-01-01\npublishDate: 2027-01-02T00:00:00Z", datetime(2027, 1, 2, tzinfo=UTC)),
        ("date: 2027-05-05T00:00:00Z\npublish_at: 2027-01-02T00:00:00Z", datetime(2027, 1, 2, tzinfo=UTC)),
    ],
)
def test_date_and_publish_date_are_aliases_of_publish_at_in_that_order(tmp_path, front, expected):
    config = make_repo(tmp_path, {"p.md": f"---\n{front}\n---\nx"})
    [status] = load_project(config).posts
    assert status.publish_at == expected


def test_a_bare_publish_at_date_is_still_an_error(tmp_path):
    config = make_repo(tmp_path, {"p.md": "---\npublish_at: 2027-01-02\n---\nx"})
    with pytest.raises(InvalidInput, match="publish_at: must be a date and time with a timezone"):
        load_project(config)


HUGO_FOLDER = {
    "harbour.md": """\
        +++
        title = "Photos from the harbour"
        date = 2026-11-20T10:00:00+01:00
        draft = false
        tags = ["harbour", "boats"]
        categories = ["photos"]
        slug = "harbour"

        [params]
        series = "Sea"

        [[media]]
        path = "boat.png"
        alt = "A red boat"
        +++
        Boats in the *morning* light.
        +++
        And the second part of the thread.
        """,
    "unfinished.md": '+++\ntitle = "Not yet"\ndraft = true\n+++\nThis must never be published.\n',
    "later.md": """\
        ---
        title: Christmas
        date: 2026-11-01T08:00:00Z
        publishDate: 2026-12-24T09:00:00Z
        description: A post for later
        ---
        Merry Christmas!
        """,
    "notes.md": "---\ntitle: Notes\ndraft: true\n---\nNot this one either.",
}


def test_a_hugo_content_folder_plans_correctly(tmp_path):
    template = "{% if vars.series is defined %}[{{ vars.series }}] {% endif %}{{ body }}"
    config = make_repo(
        tmp_path, HUGO_FOLDER, files={"posts/boat.png": PNG_1PX}, templates={"default.txt.j2": template}
    )
    result = CliRunner().invoke(app, ["plan", "--config", str(config), "--offline", "--json"])
    assert result.exit_code == 0, result.output
    changes = {change["post"]: change for change in json.loads(result.stdout)["changes"]}
    assert sorted(changes) == ["harbour", "harbour#2", "later"]
    assert changes["harbour"]["status"]["text"] == "[Sea] Boats in the morning light."
    assert changes["harbour#2"]["status"]["text"] == "[Sea] And the second part of the thread."
    project = load_project(config)
    statuses = {status.post_id: status for status in project.posts}
    assert statuses["harbour"].publish_at == datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert [media.alt for media in statuses["harbour"].media] == ["A red boat"]
    assert statuses["later"].publish_at == datetime(2026, 12, 24, 9, tzinfo=UTC)
    assert sorted(project.drafts) == ["notes", "unfinished"]
    assert not any("title =" in status.text or "draft" in status.text for status in project.posts)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('+++\ntitle = "x"\nbody', 1, "front-matter starts with '+++' but has no closing '+++' line"),
        ('+++\ntitle = "x"\ntitle = "y"\n+++\n', 3, "not valid TOML"),
        ("+++\ntags = [\n+++\n", 2, "not valid TOML"),
        ('+++\n\ntitle = "\\u001b"\n+++\n', 3, "control character U+001B"),
    ],
)
def test_toml_front_matter_problems_have_their_line(text, line, message):
    with pytest.raises(FrontMatterError, match=message.replace("+", r"\+")) as raised:
        parse_markdown_file(text)
    assert raised.value.line == line


def test_toml_key_lines_follow_tables_and_arrays_of_tables():
    lines = ['title = "x"', "[params]", "a = 1", "[[media]]", 'path = "a"', "[[media]]", 'alt = "b"']
    assert toml_key_lines(lines, first_line=2) == {
        "title": 2, "params": 3, "params.a": 4, "media": 5, "media[0]": 5,
        "media[0].path": 6, "media[1]": 7, "media[1].alt": 8,
    }  # fmt: skip


def test_a_plus_line_after_yaml_front_matter_still_cuts_a_thread(tmp_path):
    config = make_repo(tmp_path, {"t.md": "---\ntitle: T\n---\none\n+++\ntwo"})
    assert [status.text for status in load_project(config).posts] == ["one", "two"]


@pytest.mark.parametrize(
    ("typed", "known", "hint"),
    [
        ("ix", ["id", "cw"], "did you mean 'id'?"),
        ("cx", ["id", "cw"], "did you mean 'cw'?"),
        ("zzz", ["id"], ""),
    ],
)
def test_did_you_mean_finds_one_typo_in_short_keys(typed, known, hint):
    assert did_you_mean(typed, known) == hint


def test_a_thread_cut_on_the_first_line_is_read_as_toml_and_says_so(tmp_path):
    config = make_repo(tmp_path, {"t.md": "+++\nFirst part.\n+++\nSecond part."})
    with pytest.raises(InvalidInput) as raised:
        load_project(config)
    [problem] = raised.value.problems
    assert (problem.line, problem.field) == (2, "front-matter")
    assert problem.message.startswith("not valid TOML") and "put text before the first +++" in problem.hint


@pytest.mark.parametrize(
    ("front", "message", "hint"),
    [
        (
            "visibility: unlistd",
            "'unlistd' is not one of public, unlisted, private, direct",
            "did you mean 'unlisted'?",
        ),
        ("sensitive: ye", "'ye' is not true or false", "write true or false, unquoted"),
        ("draft: maybe", "'maybe' is not true or false", "write true or false, unquoted"),
    ],
)
def test_a_value_typo_says_what_the_field_takes(tmp_path, front, message, hint):
    config = make_repo(tmp_path, {"p.md": f"---\n{front}\n---\nx"})
    with pytest.raises(InvalidInput) as raised:
        load_project(config)
    [problem] = raised.value.problems
    assert (problem.line, problem.message, problem.hint) == (2, message, hint)


def test_the_title_is_shown_in_every_plan_output_and_changes_nothing_sent(tmp_path):
    plain = make_repo(tmp_path / "plain", {"p.md": "Boats."})
    titled = make_repo(tmp_path / "titled", {"p.md": "---\ntitle: Harbour <b>\n---\nBoats."})
    [without], [with_title] = load_project(plain).posts, load_project(titled).posts
    assert (with_title.title, with_title.text) == ("Harbour <b>", without.text)
    assert with_title.content_hash == without.content_hash
    runner = CliRunner()
    for flags, shown in [([], "    title: Harbour <b>"), (["--markdown"], "**Title:** Harbour &lt;b&gt;")]:
        result = runner.invoke(app, ["plan", "--config", str(titled), "--offline", *flags])
        assert shown in result.stdout, result.stdout
    result = runner.invoke(app, ["plan", "--config", str(titled), "--offline", "--json"])
    assert json.loads(result.stdout)["changes"][0]["status"]["title"] == "Harbour <b>"
