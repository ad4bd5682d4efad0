"""Quote posts, quote policies and pins without a server: the front-matter keys and their rules, the plan (the
`adjust` kind, replaces, order, the pin cap), what a server's answer is compared with, and what an instance
announces. tests/test_quotes_pins_sync.py sends them to the sandbox server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.errors import InvalidInput
from publisher.mastodon.instance import announced_limits
from publisher.plan.changes import ChangeKind, compute_plan
from publisher.plan.plan_checks import pin_problems
from publisher.plan.state import State
from publisher.plan.verify import stored_differences, stored_quote_id, stored_quote_policy
from publisher.source.config import Limits
from publisher.source.models import DesiredStatus, MediaSpec
from publisher.source.project import load_project
from tests.helpers import CONFIG, PNG_1PX, make_repo
from tests.plan_fixture import NOW, status_record

# -- front-matter ----------------------------------------------------------------------------------------


def posts_of(tmp_path, posts: dict[str, str], **repo) -> dict[str, DesiredStatus]:
    return {post.post_id: post for post in load_project(make_repo(tmp_path, posts, **repo)).posts}


def problems_of(tmp_path, posts: dict[str, str], **repo) -> list[tuple[str, int | None, str, str]]:
    with pytest.raises(InvalidInput) as raised:
        load_project(make_repo(tmp_path, posts, **repo))
    return [(p.path, p.line, p.field, p.message) for p in raised.value.problems]


def test_the_keys_reach_the_status_and_a_thread_pins_and_quotes_with_its_first_part(tmp_path):
    posts = posts_of(
        tmp_path,
        {
            "a.md": "The first post.",
            "b.md": "---\nquote: a\nquote_policy: followers\npinned: true\n---\nOne.\n+++\nTwo.\n",
            "c.md": "---\nquote: https://other.example/@amy/123\npinned: false\n---\nAn outside quote.",
        },
    )
    first, second = posts["b"], posts["b#2"]
    assert (first.quote, first.quote_policy, first.pinned) == ("a", "followers", True)
    assert (second.quote, second.quote_policy, second.pinned) == (None, "followers", None)
    assert (posts["c"].quote, posts["c"].pinned) == ("https://other.example/@amy/123", False)
    assert (posts["a"].quote, posts["a"].quote_policy, posts["a"].pinned) == (None, None, None)


@pytest.mark.parametrize(
    "front, field, message",
    [
        ('quote: "javascript:alert(1)"', "quote", "a post id (e.g. 2026/hello-world) or a status URL"),
        ("quote: ../a b", "quote", "a post id (e.g. 2026/hello-world) or a status URL"),
        ("quote_policy: anyone", "quote_policy", "public, followers"),
        ("quote: nobody-here", "quote", "unknown post id 'nobody-here' (drafts cannot be quoted)"),
        ("quote: b", "quote", "a post cannot quote itself"),
        ("quote: a\nmedia: [{path: cat.png, alt: A cat}]", "quote", "does not take media together with"),
        ("quote: a\npoll: {options: [Yes, No]}", "quote", "does not take a poll together with a quote"),
        ("visibility: private\nquote_policy: followers", "quote_policy", "can be quoted by its author only"),
        ("visibility: direct\npinned: true", "pinned", "Mastodon cannot pin a direct post"),
    ],
)
def test_what_mastodon_would_refuse_is_an_error_with_its_line(tmp_path, front, field, message):
    files = {"posts/cat.png": PNG_1PX}
    found = problems_of(tmp_path, {"a.md": "A.", "b.md": f"---\n{front}\n---\nB."}, files=files)
    line = 2 + next(n for n, text in enumerate(front.split("\n")) if text.startswith(field))
    assert [(path, at, name) for path, at, name, _ in found] == [("posts/b.md", line, field)]
    assert message in found[0][3]


def test_a_quote_that_no_order_can_publish_is_an_error(tmp_path):
    posts = {
        "a.md": "---\nquote: b\n---\nA quotes B.",
        "b.md": "---\nreply_to: a\n---\nB answers A.",
        "c.md": "---\nquote: d\n---\nC quotes D, which comes later.",
        "d.md": "---\npublish_at: 2027-01-01T00:00:00Z\n---\nD.",
    }
    messages = {path: message for path, _, _, message in problems_of(tmp_path, posts)}
    assert "'b' quotes or answers this post, so neither could be published first" in messages["posts/a.md"]
    assert "quotes 'd', which is published later (2027-01-01T00:00:00+00:00)" in messages["posts/c.md"]


def test_the_new_keys_leave_every_content_hash_as_it_was():
    """A state file's hashes stay valid: the literal is what publish computed before these keys existed."""
    cat = MediaSpec(
        path="a.png", sha256="ab" * 32, size=3, mime_type="image/png", alt="A", focus=(0.5, -0.25)
    )
    fields = {"spoiler_text": "cw", "visibility": "unlisted", "sensitive": True, "language": "en"}
    plain = DesiredStatus(
        post_id="p", source="posts/p.md", account="main", text="Hello", media=(cat,), reply_to="q", **fields
    )
    before = "sha256:9f8ab5149c554a91ecb65ee329fdf361f4f3257937e3205503b3ebae2fe1d768"
    assert plain.content_hash == before
    settings = {"quote": "x", "quote_policy": "nobody", "pinned": True}
    assert plain.model_copy(update=settings).content_hash == before


# -- the plan ----------------------------------------------------------------------------------------------


def post(post_id: str = "p", **fields) -> DesiredStatus:
    return DesiredStatus(
        post_id=post_id, source=f"posts/{post_id}.md", account="main", text=f"Text {post_id}", **fields
    )


def recorded(desired: DesiredStatus, status_id: str = "101", **fields):
    values = {"content_hash": desired.content_hash, "status_id": status_id}
    return status_record(desired.post_id, desired.text, **{**values, **fields})


def plan_of(posts, records=(), **options):
    state = State(
        posts={record.source.removeprefix("posts/").removesuffix(".md"): record for record in records}
    )
    return compute_plan(posts, state, NOW, **options)


@pytest.mark.parametrize(
    "wanted, recorded_pin, kind, reason",
    [
        (True, None, ChangeKind.ADJUST, "pin it on the profile"),
        (True, True, ChangeKind.UNCHANGED, ""),
        (None, True, ChangeKind.ADJUST, "unpin it"),  # publish pinned it; the key is gone
        (None, None, ChangeKind.UNCHANGED, ""),  # a pin made by hand is left alone
        (None, False, ChangeKind.UNCHANGED, ""),
        (False, None, ChangeKind.ADJUST, "unpin it"),  # whoever pinned it
        (False, False, ChangeKind.UNCHANGED, ""),
    ],
)
def test_a_pin_alone_is_an_adjust(wanted, recorded_pin, kind, reason):
    desired = post(pinned=wanted)
    (change,) = plan_of([desired], [recorded(desired, pinned=recorded_pin)]).changes
    assert (change.kind, change.reason) == (kind, reason)


@pytest.mark.parametrize(
    "wanted, recorded_policy, reason",
    [
        ("followers", None, "quote policy (the account default) -> followers"),
        ("nobody", "public", "quote policy public -> nobody"),
        (None, "public", ""),  # without the key, the status keeps its policy
        ("public", "public", ""),
    ],
)
def test_a_new_quote_policy_alone_is_an_adjust(wanted, recorded_policy, reason):
    desired = post(quote_policy=wanted)
    (change,) = plan_of([desired], [recorded(desired, quote_policy=recorded_policy)]).changes
    assert change.kind == (ChangeKind.ADJUST if reason else ChangeKind.UNCHANGED)
    assert change.reason == reason


def test_an_edit_says_what_it_adjusts_as_well():
    desired = post(pinned=True, quote_policy="nobody")
    record = recorded(desired, content_hash="sha256:older")
    (change,) = plan_of([desired], [record]).changes
    assert change.kind == ChangeKind.UPDATE
    assert (
        change.reason
        == "content changed; quote policy (the account default) -> nobody; pin it on the profile"
    )


@pytest.mark.parametrize(
    "was, now, reason",
    [
        ("a", "b", "quote a -> b cannot be edited"),
        (None, "a", "quote (none) -> a cannot be edited"),
        ("https://x.example/@a/1", None, "quote https://x.example/@a/1 -> (none) cannot be edited"),
    ],
)
def test_a_changed_quote_is_a_replace(was, now, reason):
    targets = [post("a"), post("b")]
    desired = post("q", quote=now)
    records = [recorded(target, str(200 + n)) for n, target in enumerate(targets)]
    plan = plan_of([*targets, desired], [*records, recorded(desired, quote=was)])
    assert [(c.kind, c.reason) for c in plan.changes if c.post_id == "q"] == [(ChangeKind.REPLACE, reason)]


def test_a_quote_is_created_after_the_post_it_quotes_and_waits_for_a_scheduled_one():
    later = NOW + timedelta(days=2)
    posts = [
        post("a-quotes-z", quote="z-quoted"),
        post("z-quoted"),
        post("b", quote="c"),
        post("c", publish_at=later),
    ]
    plan = plan_of(posts)
    # Undated first, then by id; a quoted post goes first (a dated one too: validation refuses that in files).
    assert [c.post_id for c in plan.changes] == ["z-quoted", "a-quotes-z", "c", "b"]
    kinds = {c.post_id: (c.kind, c.reason) for c in plan.changes}
    assert kinds["a-quotes-z"][0] == ChangeKind.CREATE
    assert kinds["b"] == (ChangeKind.DEFERRED, "waits until 'c' is published")


def test_a_quote_of_a_re_created_post_is_re_created_to_quote_the_new_status():
    quoted, quoting = post("a", visibility="unlisted"), post("b", quote="a")
    records = [
        recorded(quoted, "201", visibility="public"),
        recorded(quoting, "202", quote="a", quoted_status_id="201"),
    ]
    kinds = {c.post_id: (c.kind, c.reason) for c in plan_of([quoted, quoting], records).changes}
    assert kinds["b"] == (
        ChangeKind.REPLACE,
        "quotes a, which is re-created: re-create it to point at the new status",
    )


def test_a_quote_of_an_old_status_of_its_post_is_re_created():
    quoted, quoting = post("a"), post("b", quote="a")
    records = [recorded(quoted, "201"), recorded(quoting, "202", quote="a", quoted_status_id="199")]
    kinds = {c.post_id: (c.kind, c.reason) for c in plan_of([quoted, quoting], records).changes}
    assert kinds["b"] == (
        ChangeKind.REPLACE,
        "points at an old status of a: re-create it to point at the current one",
    )


def test_a_renamed_post_with_a_new_pin_moves_its_record_then_pins():
    desired = post("new-name", pinned=True)
    old = recorded(desired, source="posts/old-name.md")
    state = State(posts={"old-name": old})
    (change,) = compute_plan([desired], state, NOW).changes
    assert (change.kind, change.previous_id) == (ChangeKind.ADJUST, "old-name")
    assert change.reason == "renamed from old-name; pin it on the profile"


@pytest.mark.parametrize(
    ("field", "sent_as"), [("quote", "quoted_status_id"), ("reply_to", "in_reply_to_id")]
)
def test_renaming_a_quoted_or_answered_post_leaves_the_quote_or_reply_as_it_is(field, sent_as):
    """The record follows the renamed file, and so does what points at it: nothing is re-created."""
    target, pointing = post("new-a"), post("b", **{field: "new-a"})
    old_target = recorded(target, "201", source="posts/old-a.md")
    old_pointing = recorded(pointing, "202", **{field: "old-a", sent_as: "201"})
    plan = compute_plan([target, pointing], State(posts={"old-a": old_target, "b": old_pointing}), NOW)
    assert {change.post_id: change.kind for change in plan.changes} == {
        "new-a": ChangeKind.MOVE,
        "b": ChangeKind.UNCHANGED,
    }


# -- what the plan refuses as a whole ----------------------------------------------------------------------


def test_more_pins_than_the_server_allows_are_refused_with_the_pins_before():
    posts = [post(f"p{n}", pinned=True) for n in range(1, 7)]
    plan = plan_of(posts)
    (problem,) = pin_problems(plan, {"main": Limits()})
    assert (problem.path, problem.field) == ("posts/p6.md", "pinned")
    assert problem.message == (
        "the 6th post pinned on account main; its server pins at most 5 "
        "(p1, p2, p3, p4, p5 are pinned before it)"
    )
    assert pin_problems(plan, {"main": Limits(max_pinned_statuses=6)}) == []


def test_an_orphan_keeps_its_pin_a_deleted_post_does_not():
    orphan = recorded(post("gone"), pinned=True)
    posts = [post(f"p{n}", pinned=True) for n in range(1, 5)]
    one = {"main": Limits(max_pinned_statuses=4)}
    assert [p.path for p in pin_problems(plan_of(posts, [orphan]), one)] == ["posts/p4.md"]
    assert pin_problems(plan_of(posts, [orphan], prune=True), one) == []


def by_default(visibility: str) -> str:
    """A publish.toml whose [defaults] give every post `visibility`."""
    return CONFIG.format(instance="https://mastodon.example", schedule="native").replace(
        'visibility = "public"', f'visibility = "{visibility}"'
    )


def test_a_pinned_post_made_direct_by_the_defaults_is_refused(tmp_path):
    found = problems_of(tmp_path, {"p.md": "---\npinned: true\n---\nP."}, config=by_default("direct"))
    [(path, line, field, message)] = found
    assert (field, message) == ("pinned", "Mastodon cannot pin a direct post")
    assert (path, line) == ("posts/p.md", 2)


def test_a_quote_policy_on_a_post_made_private_by_the_defaults_is_refused(tmp_path):
    post_file = "---\nquote_policy: followers\n---\nP."
    [(path, line, field, message)] = problems_of(tmp_path, {"p.md": post_file}, config=by_default("private"))
    assert (path, field) == ("posts/p.md", "quote_policy")
    assert "can be quoted by its author only" in message
    assert line == 2


def test_quotes_on_a_server_before_mastodon_4_5_are_refused(tmp_path):
    posts = {"a.md": "A.", "b.md": "---\nquote: a\nquote_policy: nobody\npinned: true\n---\nB."}
    config = make_repo(tmp_path, posts)
    config.write_text(config.read_text() + "\n[limits]\nmastodon_api_version = 6\n")
    with pytest.raises(InvalidInput) as raised:
        load_project(config)
    found = [(p.line, p.field) for p in raised.value.problems]
    assert found == [(2, "quote"), (3, "quote_policy")]  # a pin needs no new Mastodon
    assert "the server announces Mastodon API version 6" in raised.value.problems[0].message


# -- what the server kept ----------------------------------------------------------------------------------

ACCEPTED = {"state": "accepted", "quoted_status": {"id": "7", "quote": None}}
PUBLIC = {"automatic": ["public"], "manual": [], "current_user": "automatic"}
NOBODY = {"automatic": [], "manual": [], "current_user": "automatic"}


@pytest.mark.parametrize(
    "sent, answer, expected",
    [
        ({"quoted_status_id": "7"}, {"quote": ACCEPTED}, []),
        ({"quoted_status_id": "7"}, {"quote": {"state": "pending", "quoted_status": None}}, []),
        ({"quoted_status_id": "7"}, {"quote": None}, ['quote: sent status "7", the server stored nothing']),
        ({"quoted_status_id": "7"}, {}, ['quote: sent status "7", the server stored nothing']),
        (
            {"quoted_status_id": "8"},
            {"quote": ACCEPTED},
            ['quote: sent status "8", the server stored status "7"'],
        ),
        ({"quoted_status_id": "7"}, {"params": {"quoted_status_id": "7"}}, []),  # a scheduled status
        ({"quote_approval_policy": "public"}, {"quote_approval": PUBLIC}, []),
        ({"quote_approval_policy": "nobody"}, {"quote_approval": NOBODY}, []),
        (
            {"quote_approval_policy": "followers"},
            {"quote_approval": PUBLIC},
            ['quote policy: sent "followers", the server stored "public"'],
        ),
        ({"quote_approval_policy": "nobody"}, {}, ['quote policy: sent "nobody", the server stored nothing']),
        ({"quote_approval_policy": "nobody"}, {"params": {"quote_approval_policy": "nobody"}}, []),
        ({"pinned": True}, {"pinned": True}, []),
        ({"pinned": True}, {"pinned": False}, ["pinned: sent true, the server stored false"]),
        ({"pinned": True}, {}, []),  # a server that does not say is not doubted
        ({}, {"quote": None, "pinned": False}, []),
    ],
)
def test_the_server_is_asked_whether_it_kept_the_quote_the_policy_and_the_pin(sent, answer, expected):
    assert [m.describe() for m in stored_differences(sent, answer)] == expected


def test_a_shallow_quote_and_an_odd_policy_are_read_as_they_are():
    assert stored_quote_id({"quote": {"state": "accepted", "quoted_status_id": "9"}}) == "9"
    assert stored_quote_policy({"quote_approval": {"automatic": ["followers", "public"]}}) == "public"
    odd = {"quote_approval": {"automatic": ["unsupported_policy"], "manual": []}}
    assert stored_quote_policy(odd) == "unsupported_policy"


# -- what an instance announces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document, pins, version",
    [
        ({"configuration": {"accounts": {"max_pinned_statuses": 9}}, "api_versions": {"mastodon": 7}}, 9, 7),
        ({"api_versions": {"mastodon": 6}}, 5, 6),
        ({"version": "4.2.0"}, 5, 0),  # no api_versions: before 4.3, or another server
        ({"api_versions": {"mastodon": "seven"}}, 5, 0),
    ],
)
def test_pins_and_the_api_version_come_from_the_instance(document, pins, version):
    limits = Limits.model_validate(announced_limits(document))
    assert (limits.max_pinned_statuses, limits.mastodon_api_version) == (pins, version)
