"""`split: true`: an over-long post becomes a numbered thread, every part within the limit by Mastodon's count."""

from __future__ import annotations

import re

import pytest

from publisher.cli import app as cli
from publisher.clock import FakeClock
from publisher.errors import InvalidInput
from publisher.sandbox import FakeMastodon
from publisher.source.config import Limits
from publisher.source.length import status_length
from publisher.source.models import DesiredStatus, MediaSpec, PollSpec
from publisher.source.project import load_project
from publisher.source.split import SplitImpossible, split_status, split_text, thread_replies
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import TOKEN, read_state, run_sync

LABEL = re.compile(r" \((\d+)/(\d+)\)$")
SENTENCES = " ".join(f"Sentence {n} says a few words about item {n}, and then it ends." for n in range(30))
LONG_URL = "https://example.com/" + "p" * 200


def unlabelled(parts: list[str]) -> list[str]:
    return [LABEL.sub("", part) for part in parts]


def words(text: str) -> list[str]:
    return text.split()


def assert_numbered_within(parts: list[str], spoiler: str, limits: Limits) -> None:
    assert len(parts) > 1
    for index, part in enumerate(parts, start=1):
        assert LABEL.search(part).groups() == (str(index), str(len(parts)))
        assert (
            status_length(part, spoiler, url_length=limits.characters_reserved_per_url)
            <= limits.max_characters
        )


@pytest.mark.parametrize(
    ("text", "spoiler", "limits"),
    [
        (SENTENCES, "", Limits()),
        (SENTENCES, "A content warning that repeats on every part " * 3, Limits()),
        ("word " * 400, "", Limits()),
        ("x" * 2000, "", Limits()),
        ("👩\u200d👩\u200d👧\u200d👦" * 1200, "", Limits()),
        (" ".join([LONG_URL] * 60), "", Limits()),
        ("日本語の文です。" * 200, "", Limits()),
        ("tiny words " * 300, "cw", Limits(max_characters=30)),
        (SENTENCES, "", Limits(max_characters=5000, characters_reserved_per_url=25)),
    ],
    ids=[
        "sentences",
        "with-spoiler",
        "one-long-sentence",
        "one-long-word",
        "zwj-emoji",
        "urls",
        "cjk",
        "many-parts",
        "gotosocial-like",
    ],
)
def test_parts_are_numbered_within_the_limit_and_keep_every_word(text, spoiler, limits):
    if status_length(text, spoiler, url_length=limits.characters_reserved_per_url) <= limits.max_characters:
        text = text * 12
    parts = split_text(text, spoiler, limits)
    assert_numbered_within(parts, spoiler, limits)
    assert "".join(unlabelled(parts)).replace(" ", "") == text.replace(" ", "")


def test_independent_count_agrees_that_every_part_fits():
    mastodon = pytest.importorskip("mastodon")
    text = " ".join(f"Part of a thread with @alice@example.social and {LONG_URL}/{n} 🇩🇪." for n in range(40))
    for part in split_text(text, "CW", Limits()):
        assert mastodon.Mastodon.get_status_length(part, "CW") <= 500


def test_cuts_fall_at_sentence_ends():
    parts = unlabelled(split_text(SENTENCES, "", Limits()))
    assert all(part.endswith("ends.") for part in parts)
    assert all(part.startswith("Sentence ") for part in parts)


def test_a_sentence_longer_than_a_part_is_cut_between_words():
    text = "Short one. " + " ".join(["lengthy"] * 150) + ". Another short one."
    parts = unlabelled(split_text(text, "", Limits()))
    assert parts[0].startswith("Short one. lengthy")
    assert all(
        set(words(part)) <= {"Short", "one.", "lengthy", "lengthy.", "Another", "short"} for part in parts
    )


def test_urls_and_grapheme_clusters_are_never_broken():
    family = "👩\u200d👩\u200d👧\u200d👦"
    parts = unlabelled(split_text(" ".join([LONG_URL] * 40) + " " + family * 700, "", Limits()))
    assert len(parts) > 3
    assert all(part.replace(LONG_URL, "").replace(family, "").strip() == "" for part in parts)


def test_ten_parts_or_more_get_two_digit_numbers():
    parts = split_text("x" * 6000, "", Limits())
    assert LABEL.search(parts[0]).groups() == ("1", "13") and parts[-1].endswith(" (13/13)")
    assert_numbered_within(parts, "", Limits())


def test_a_spoiler_that_leaves_no_room_cannot_be_split():
    with pytest.raises(SplitImpossible):
        split_text("word " * 200, "c" * 495, Limits())


def desired(**fields) -> DesiredStatus:
    media = (MediaSpec(path="posts/a.png", sha256="0" * 64, size=10, mime_type="image/png", alt="a"),)
    values = dict(
        post_id="long",
        source="posts/long.md",
        account="main",
        text=SENTENCES,
        spoiler_text="CW",
        sensitive=True,
        media=media,
        reply_to="earlier",
    )
    return DesiredStatus(**{**values, **fields})


def test_split_status_threads_the_parts_and_puts_media_on_the_first():
    parts = split_status(desired(), Limits())
    assert [part.post_id for part in parts] == ["long", "long#2", "long#3", "long#4"]
    assert [part.reply_to for part in parts] == ["earlier", "long", "long#2", "long#3"]
    assert [len(part.media) for part in parts] == [1, 0, 0, 0]
    assert {(part.spoiler_text, part.sensitive, part.account, part.source) for part in parts} == {
        ("CW", True, "main", "posts/long.md")
    }


def test_poll_goes_on_the_first_part_too():
    parts = split_status(desired(media=(), poll=PollSpec(options=("a", "b"), expires_in=3600)), Limits())
    assert [part.poll is not None for part in parts] == [True, False, False, False]


def test_a_reply_to_a_split_post_continues_the_thread():
    long = list(split_status(desired(reply_to=None), Limits()))
    reply = DesiredStatus(
        post_id="reply", source="posts/reply.md", account="main", text="more", reply_to="long"
    )
    other = DesiredStatus(
        post_id="other", source="posts/other.md", account="main", text="x", reply_to="elsewhere"
    )
    threaded = thread_replies([*long, reply, other])
    assert [status.reply_to for status in threaded] == [
        None,
        "long",
        "long#2",
        "long#3",
        "long#4",
        "elsewhere",
    ]


# -- through check, plan and sync -----------------------------------------------------------------------------


def long_post(split: bool) -> str:
    flag = "split: true\n" if split else ""
    return f"---\n{flag}spoiler: Long read\nmedia:\n  - {{path: a.png, alt: a picture}}\n---\n{SENTENCES}"


def test_without_split_an_over_long_post_is_refused_with_the_count_and_the_hint(tmp_path):
    config = make_repo(tmp_path, {"long.md": long_post(split=False)}, files={"posts/a.png": PNG_1PX})
    result = CliRunner().invoke(cli, ["plan", "--offline", "--config", str(config)])
    assert result.exit_code == 2
    expected = (
        "posts/long.md:6: text: 1848/500 characters by Mastodon's count (hint: shorten it, or add `split"
    )
    assert expected in result.stderr
    assert "that is Mastodon's default limit: nothing is cached of mastodon.example's own" in result.stderr


def test_plan_shows_each_part_with_its_count(tmp_path):
    config = make_repo(tmp_path, {"long.md": long_post(split=True)}, files={"posts/a.png": PNG_1PX})
    result = CliRunner().invoke(cli, ["plan", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert [line.split("  (")[0] for line in result.stdout.splitlines() if line.startswith("+ create")] == [
        "+ create long",
        "+ create long#2",
        "+ create long#3",
        "+ create long#4",
        "+ create long#5",
    ]
    counts = [int(n) for n in re.findall(r"characters: (\d+)/500", result.stdout)]
    assert len(counts) == 5 and max(counts) <= 500


def test_split_thread_is_published_in_order_on_the_server(tmp_path):
    clock = FakeClock()
    with FakeMastodon(token=TOKEN, clock=clock) as server:
        config = make_repo(
            tmp_path,
            {"long.md": long_post(split=True), "after.md": "---\nreply_to: long\n---\nAnd one more thing."},
            files={"posts/a.png": PNG_1PX},
            instance=server.url,
        )
        run_sync(config, clock)
        statuses = sorted(server.statuses.values(), key=lambda status: int(status["id"]))
        thread, after = statuses[:5], statuses[5]
        assert [LABEL.search(status["text"]).group(1) for status in thread] == ["1", "2", "3", "4", "5"]
        assert [status["in_reply_to_id"] for status in thread] == [None] + [
            status["id"] for status in thread[:-1]
        ]
        assert after["in_reply_to_id"] == thread[-1]["id"]
        assert [len(status["media_attachments"]) for status in thread] == [1, 0, 0, 0, 0]
        assert {status["spoiler_text"] for status in thread} == {"Long read"}
        assert all(status_length(s["text"], s["spoiler_text"]) <= 500 for s in thread)
        state = read_state(config)["posts"]
        assert [state[f"long{suffix}"]["status_id"] for suffix in ("", "#2", "#3", "#4", "#5")] == [
            s["id"] for s in thread
        ]
        writes = len(server.writes())
        assert not run_sync(config, clock).applied and len(server.writes()) == writes


def test_split_that_cannot_fit_is_a_problem_on_the_post(tmp_path):
    post = "---\nsplit: true\nspoiler: " + "c" * 495 + "\n---\n" + "word " * 200
    config = make_repo(tmp_path, {"p.md": post})
    with pytest.raises(InvalidInput) as error:
        load_project(config)
    (problem,) = error.value.problems
    assert (problem.field, problem.line) == ("split", 2)
    assert problem.message.startswith("cannot split into parts of 500")
