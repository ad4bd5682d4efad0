"""Instance limits: read from the server, cached beside the state with an age limit, overridden by publish.toml."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from publisher import app as library
from publisher.cli import app as cli
from publisher.errors import InvalidInput
from publisher.mastodon.instance import announced_limits, refresh_announcements
from publisher.output.limits_report import limits_note
from publisher.sandbox import FakeMastodon, Fault
from publisher.sandbox.render import Site, instance_v1_json, instance_v2_json
from publisher.source.config import Limits, load_config
from publisher.source.limits import CACHE_DIR, Announcement, InstanceCache, effective_limits
from tests.helpers import PNG_1PX, CliRunner, make_repo
from tests.sync_support import ENV, TOKEN, run_sync

LONG_URL = "https://example.com/articles/" + "a" * 71  # 100 characters, 23 by Mastodon's count


@pytest.fixture
def big_server(clock):
    """As GoToSocial and Pleroma default: 5000 characters; and 6 attachments like GoToSocial."""
    with FakeMastodon(token=TOKEN, clock=clock, max_characters=5000, max_media_attachments=6) as fake:
        yield fake


def instance_reads(server) -> list[str]:
    return [r.path for r in server.requests if r.path in ("/api/v2/instance", "/api/v1/instance")]


def publishing_requests(server) -> list[str]:
    return [r.path for r in server.requests if r.path in ("/api/v2/media", "/api/v1/statuses")]


# -- what an instance document announces ----------------------------------------------------------------


def test_v2_document_maps_onto_every_limit():
    site = Site(
        "https://big.example",
        "me",
        max_characters=5000,
        max_media_attachments=6,
        characters_reserved_per_url=25,
    )
    found = announced_limits(instance_v2_json(site))
    assert Limits.model_validate(found) == Limits(
        max_characters=5000, max_media_attachments=6, characters_reserved_per_url=25,
        supported_mime_types=tuple(instance_v2_json(site)["configuration"]["media_attachments"]["supported_mime_types"]),
    )  # fmt: skip
    assert set(found) == set(Limits.model_fields)


def test_v1_document_of_a_current_mastodon_has_the_same_configuration():
    site = Site("https://m.example", "me", max_characters=700)
    v1, v2 = announced_limits(instance_v1_json(site)), announced_limits(instance_v2_json(site))
    # api_versions is in v2 only, and a server that answers v1 alone is older than Mastodon 4.0
    assert v1 == {**v2, "mastodon_api_version": 0}


def test_flat_keys_of_pleroma_and_old_v1_documents():
    document = {
        "max_toot_chars": 5000,
        "upload_limit": 16_000_000,
        "description_limit": 5000,
        "poll_limits": {
            "max_options": 20,
            "max_option_chars": 200,
            "min_expiration": 0,
            "max_expiration": 31536000,
        },
    }
    assert announced_limits(document) == {
        "max_characters": 5000, "image_size_limit": 16_000_000, "video_size_limit": 16_000_000,
        "description_limit": 5000, "poll_max_options": 20, "poll_max_characters_per_option": 200,
        "poll_min_expiration": 0, "poll_max_expiration": 31536000, "mastodon_api_version": 0,
    }  # fmt: skip


def test_configuration_wins_over_flat_keys():
    document = {"max_toot_chars": 9999, "configuration": {"statuses": {"max_characters": 1000}}}
    assert announced_limits(document) == {"max_characters": 1000, "mastodon_api_version": 0}


@pytest.mark.parametrize("value", [0, -5, "many", None, [500], 12.5])
def test_nonsense_values_are_left_out(value):
    document = {"configuration": {"statuses": {"max_characters": value, "max_media_attachments": 6}}}
    assert announced_limits(document) == {"max_media_attachments": 6, "mastodon_api_version": 0}


def test_description_limit_absent_means_1500():
    document = {"configuration": {"statuses": {"max_characters": 500}, "media_attachments": {}}}
    assert Limits.model_validate(announced_limits(document)).description_limit == 1500


# -- the cache ---------------------------------------------------------------------------------------------


def test_cache_round_trip_beside_the_state_file(tmp_path, clock):
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}))
    cache = InstanceCache.for_config(config)
    announcement = Announcement(
        "https://mastodon.example",
        clock.now(),
        {"max_characters": 5000, "supported_mime_types": ("image/png",)},
    )
    cache.save(announcement)
    assert cache.path("https://mastodon.example") == tmp_path / CACHE_DIR / "instance-mastodon.example.json"
    assert cache.load("https://mastodon.example") == announcement
    assert [p.name for p in (tmp_path / CACHE_DIR).iterdir()] == ["instance-mastodon.example.json"]


def test_host_with_a_port_gets_a_file_name_of_its_own(tmp_path):
    cache = InstanceCache(tmp_path)
    assert cache.path("http://127.0.0.1:8080").name == "instance-127.0.0.1_8080.json"
    assert cache.path("http://127.0.0.1:8081") != cache.path("http://127.0.0.1:8080")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"version": 99, "instance": "https://mastodon.example", "fetched_at": "2026-11-23T12:00:00+00:00", "limits": {}}',
        '{"version": 1, "instance": "https://other.example", "fetched_at": "2026-11-23T12:00:00+00:00", "limits": {}}',
        '{"version": 1, "instance": "https://mastodon.example", "fetched_at": "yesterday", "limits": {}}',
        '{"version": 1, "instance": "https://mastodon.example", "fetched_at": "2026-11-23T12:00:00", "limits": {}}',
        '{"version": 1, "instance": "https://mastodon.example", "limits": {}}',
        "[]",
    ],
    ids=["not-json", "other-version", "other-instance", "bad-time", "naive-time", "no-time", "not-a-mapping"],
)
def test_unusable_cache_file_is_ignored(tmp_path, content):
    cache = InstanceCache(tmp_path)
    cache.path("https://mastodon.example").write_text(content)
    assert cache.load("https://mastodon.example") is None


def test_cached_values_are_checked_again(tmp_path, clock):
    cache = InstanceCache(tmp_path)
    document = {
        "version": 1,
        "instance": "https://m.example",
        "fetched_at": clock.now().isoformat(),
        "limits": {"max_characters": -1, "max_media_attachments": 6, "unknown_key": 3},
    }
    cache.path("https://m.example").write_text(json.dumps(document))
    assert cache.load("https://m.example").limits == {"max_media_attachments": 6}


class CountingFetch:
    def __init__(self, document: dict):
        self.document = document
        self.calls: list[str] = []

    def __call__(self, name, account):
        self.calls.append(name)
        return self.document


def test_refresh_only_when_missing_or_older_than_a_day(tmp_path, clock):
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}))
    cache = InstanceCache.for_config(config)
    fetch = CountingFetch({"configuration": {"statuses": {"max_characters": 5000}}})

    def refresh(**options):
        return refresh_announcements(config, cache, fetch, clock.now(), accounts=["main"], **options)

    assert refresh() == ["https://mastodon.example"]
    clock.advance(23 * 3600)
    assert refresh() == []
    clock.advance(2 * 3600)
    assert refresh() == ["https://mastodon.example"]
    assert refresh(force=True) == ["https://mastodon.example"]
    assert len(fetch.calls) == 3
    assert cache.load("https://mastodon.example").fetched_at == clock.now()


def test_one_request_per_instance_shared_by_accounts(tmp_path, clock):
    config_text = (
        '[accounts.main]\ninstance = "https://m.example"\n[accounts.bot]\ninstance = "https://m.example"\n'
        '[accounts.other]\ninstance = "https://o.example"\n'
    )
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}, config=config_text))
    fetch = CountingFetch({})
    refresh_announcements(
        config, InstanceCache.for_config(config), fetch, clock.now(), accounts=list(config.accounts)
    )
    assert fetch.calls == ["main", "other"]


# -- precedence and what offline commands say ---------------------------------------------------------------


def test_publish_toml_beats_the_cache_which_beats_the_defaults(tmp_path, clock):
    config_text = '[limits]\nmax_characters = 300\n[accounts.main]\ninstance = "https://m.example"\n'
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}, config=config_text))
    cache = InstanceCache.for_config(config)
    cache.save(
        Announcement("https://m.example", clock.now(), {"max_characters": 5000, "max_media_attachments": 6})
    )
    clock.advance(2 * 3600)
    (entry,) = effective_limits(config, cache).accounts
    assert (
        entry.limits.max_characters,
        entry.limits.max_media_attachments,
        entry.limits.description_limit,
    ) == (300, 6, 1500)
    note = limits_note(effective_limits(config, cache), clock.now())
    assert note == "limits: m.example (cached 2 h ago); publish.toml [limits] sets max_characters"


def test_note_without_a_cache_names_the_defaults_and_the_fix(tmp_path, clock):
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}, instance="https://mastodon.social"))
    note = limits_note(effective_limits(config, InstanceCache.for_config(config)), clock.now())
    assert note == (
        "limits: Mastodon defaults (no instance data cached for mastodon.social; "
        "`publish plan` or `publish limits --refresh` reads them)"
    )


def test_note_for_a_placeholder_instance_says_to_set_it(tmp_path, clock):
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}))  # https://mastodon.example, as scaffolded
    note = limits_note(effective_limits(config, InstanceCache.for_config(config)), clock.now())
    assert note == (
        "limits: Mastodon defaults (mastodon.example is a placeholder: set the account's `instance` in "
        "publish.toml)"
    )


def test_stale_cache_is_still_used_offline_and_says_so(tmp_path, clock):
    config = load_config(make_repo(tmp_path, {"a.md": "hi"}))
    cache = InstanceCache.for_config(config)
    cache.save(Announcement("https://mastodon.example", clock.now(), {"max_characters": 5000}))
    clock.advance(3 * 86400)
    effective = effective_limits(config, cache)
    assert effective.accounts[0].limits.max_characters == 5000
    assert limits_note(effective, clock.now()) == (
        "limits: mastodon.example (cached 3 days ago; stale, run `publish limits --refresh`)"
    )


def test_check_and_plan_print_the_source_on_stderr_and_keep_stdout_clean(tmp_path):
    config = make_repo(tmp_path, {"a.md": "hi"})
    for command in ("check", "plan"):
        result = CliRunner().invoke(cli, [command, "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("limits: Mastodon defaults (mastodon.example is a placeholder")
        assert "limits:" not in result.stdout


# -- reading the server ------------------------------------------------------------------------------------


def test_limits_refresh_reads_the_instance_without_a_token(tmp_path, big_server):
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=big_server.url)
    result = CliRunner(env={"PUBLISH_TEST_TOKEN": ""}).invoke(
        cli, ["limits", "--refresh", "--json", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    (account,) = json.loads(result.stdout)["accounts"]
    assert (account["source"], account["stale"], account["overrides"]) == ("instance", False, [])
    assert (account["limits"]["max_characters"], account["limits"]["max_media_attachments"]) == (5000, 6)
    assert [r.path for r in big_server.requests] == ["/api/v2/instance"]
    assert "authorization" not in big_server.requests[0].headers
    check = CliRunner().invoke(cli, ["check", "--config", str(config)])
    host = big_server.url.removeprefix("http://")
    assert check.stderr == f"limits: {host} (cached just now)\n"


def test_limits_without_refresh_sends_nothing_and_lists_every_limit(tmp_path, server):
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)
    result = CliRunner().invoke(cli, ["limits", "--config", str(config)])
    assert result.exit_code == 0
    assert server.requests == []
    assert result.stdout.startswith("account main: Mastodon defaults (no instance data cached")
    for name in Limits.model_fields:
        assert f"  {name} " in result.stdout


def test_falls_back_to_v1_instance(tmp_path, clock, big_server):
    big_server.add_fault(Fault("GET", "/api/v2/instance", "status", status=404, message="Record not found"))
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=big_server.url)
    effective = library.refresh_limits(config, clock=clock)
    assert effective.accounts[0].limits.max_characters == 5000
    assert instance_reads(big_server) == ["/api/v2/instance", "/api/v1/instance"]


def test_limits_refresh_failure_is_exit_1(tmp_path, server):
    server.add_fault(Fault("GET", "/api/v2/instance", "status", status=403, message="Forbidden"))
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)
    result = CliRunner().invoke(cli, ["limits", "--refresh", "--config", str(config)])
    assert result.exit_code == 1
    assert "403" in result.stderr


def test_unknown_account_is_exit_2(tmp_path):
    config = make_repo(tmp_path, {"a.md": "hi"})
    result = CliRunner().invoke(cli, ["limits", "--account", "nope", "--config", str(config)])
    assert result.exit_code == 2 and "unknown account 'nope'" in result.stderr


# -- sync: refresh when stale, then validate, before anything is uploaded -------------------------------------


def test_bigger_instance_accepts_what_mastodon_defaults_reject(tmp_path, clock, big_server):
    images = {f"posts/{n}.png": PNG_1PX for n in range(6)}
    media = "".join(f"  - {{path: {n}.png, alt: picture {n}}}\n" for n in range(6))
    posts = {"long.md": "word " * 180, "six.md": f"---\nmedia:\n{media}---\nsix pictures"}
    config = make_repo(tmp_path, posts, files=images, instance=big_server.url)

    offline = CliRunner().invoke(cli, ["plan", "--offline", "--config", str(config)])
    assert offline.exit_code == 2
    assert "posts/long.md:1: text: 899/500 characters by Mastodon's count" in offline.stderr
    assert "posts/six.md:2: media: 6 attachments; the server allows 4" in offline.stderr
    check = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert check.exit_code == 0, check.output  # only Mastodon's defaults forbid them: warnings
    assert "warning: posts/long.md:1: text: 899/500 characters by Mastodon's count" in check.stderr
    assert "that is Mastodon's default limit" in check.stderr

    result = run_sync(config, clock)
    assert result.applied
    assert sorted(len(s["media_attachments"]) for s in big_server.statuses.values()) == [0, 6]
    assert [s["text"] for s in big_server.statuses.values() if not s["media_attachments"]] == [
        "word " * 179 + "word"
    ]
    assert CliRunner().invoke(cli, ["check", "--config", str(config)]).exit_code == 0  # the cache now knows


def test_long_urls_count_23_so_a_560_character_post_is_accepted(tmp_path):
    body = (
        " ".join([LONG_URL] * 5) + " " + "x" * 55
    )  # 560 characters; 5 * 23 + 5 + 55 = 175 by Mastodon's count
    assert len(body) == 560
    config = make_repo(tmp_path, {"urls.md": body})
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    plan = CliRunner().invoke(cli, ["plan", "--config", str(config)])
    assert "characters: 175/500" in plan.stdout


def test_a_501_count_post_is_refused_before_any_upload_or_status(tmp_path, clock, server):
    body = LONG_URL + " " + "y" * 477  # 23 + 1 + 477 = 501 by Mastodon's count
    post = f"---\nmedia:\n  - {{path: a.png, alt: a picture}}\n---\n{body}"
    config = make_repo(
        tmp_path, {"over.md": post, "fine.md": "fine"}, files={"posts/a.png": PNG_1PX}, instance=server.url
    )
    with pytest.raises(InvalidInput) as error:
        run_sync(config, clock)
    assert [str(p) for p in error.value.problems] == [
        "posts/over.md:5: text: 501/500 characters by Mastodon's count "
        "(hint: shorten it, or add `split: true` to the front-matter to post it as a numbered thread)"
    ]
    assert publishing_requests(server) == [] and server.writes() == []
    assert not (tmp_path / "publish.state.json").exists()


def test_sync_reads_the_instance_only_when_the_cache_is_stale(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "first"}, instance=server.url)
    run_sync(config, clock)
    assert instance_reads(server) == ["/api/v2/instance"]
    (tmp_path / "posts" / "b.md").write_text("second")
    clock.advance(23 * 3600)
    run_sync(config, clock)
    assert instance_reads(server) == ["/api/v2/instance"]
    clock.advance(2 * 3600)
    run_sync(config, clock)
    assert instance_reads(server) == ["/api/v2/instance"] * 2
    assert len(server.statuses) == 2


def test_sync_without_a_token_does_not_even_read_the_instance(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)
    result = CliRunner(env={"PUBLISH_TEST_TOKEN": ""}).invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 2 and "PUBLISH_TEST_TOKEN" in result.stderr
    assert server.requests == []


def test_a_post_broken_whatever_the_limits_sends_no_request_at_all(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "---\nvisibility: loud\n---\n" + "z" * 600}, instance=server.url)
    with pytest.raises(InvalidInput) as error:
        run_sync(config, clock)
    assert {p.field for p in error.value.problems} == {"visibility"}
    assert server.requests == []


def test_a_post_broken_only_by_limits_is_judged_by_the_servers_limits(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "z" * 600}, instance=server.url)
    result = CliRunner(env=ENV).invoke(cli, ["sync", "--config", str(config)])
    assert result.exit_code == 2
    assert "posts/a.md:1: text: 600/500 characters" in result.stderr
    assert [r.path for r in server.requests] == ["/api/v2/instance"]


def test_sync_goes_on_with_the_defaults_when_the_instance_cannot_say(tmp_path, clock, server, caplog):
    for path in ("/api/v2/instance", "/api/v1/instance"):
        server.add_fault(Fault("GET", path, "status", status=404, message="Record not found"))
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)
    result = run_sync(config, clock)
    assert result.applied and len(server.statuses) == 1
    assert "could not read the limits" in caplog.text
    assert not list((tmp_path / CACHE_DIR).glob("instance-*"))  # the folder also holds the render cache


def test_dry_run_reads_nothing(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)
    run_sync(config, clock, dry_run=True)
    assert server.requests == []


def test_cache_is_not_stale_for_a_day_after_sync(tmp_path, clock, server):
    config = make_repo(tmp_path, {"a.md": "hi"}, instance=server.url)
    run_sync(config, clock)
    cached = InstanceCache.for_config(load_config(config)).load(server.url)
    assert cached is not None and cached.fetched_at == clock.now()
    assert cached.is_fresh(clock.now() + timedelta(hours=24)) and not cached.is_fresh(
        clock.now() + timedelta(hours=25)
    )


def long_post_repo(tmp_path, instance: str):
    """A fresh clone: a 1,000-character post, no `.publish-cache/`, no [limits], no token."""
    return make_repo(tmp_path, {"long.md": "word " * 199 + "last."}, instance=instance)


def test_a_fresh_clone_plans_a_long_post_against_the_servers_own_limit(tmp_path, big_server):
    config = long_post_repo(tmp_path, big_server.url)
    result = CliRunner().invoke(cli, ["plan", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "characters: 1000/5000" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("Plan: 1 to create")
    assert instance_reads(big_server) == ["/api/v2/instance"]
    assert all("Authorization" not in r.headers for r in big_server.requests)  # no token needed
    assert f"limits: {big_server.url.split('//')[1]} (cached just now)" in result.stderr
    again = CliRunner().invoke(cli, ["sync", "--dry-run", "--config", str(config)])
    assert again.exit_code == 0 and instance_reads(big_server) == ["/api/v2/instance"]  # the cache is fresh


def test_plan_offline_asks_no_server_and_checks_against_the_defaults(tmp_path, big_server):
    config = long_post_repo(tmp_path, big_server.url)
    result = CliRunner().invoke(cli, ["plan", "--offline", "--config", str(config)])
    assert result.exit_code == 2
    assert "text: 1000/500 characters by Mastodon's count" in result.stderr
    assert big_server.requests == []


def test_a_server_that_cannot_be_reached_is_a_warning_and_the_defaults_apply(tmp_path):
    with FakeMastodon(token=TOKEN) as gone:
        url = gone.url  # a port on 127.0.0.1 with nothing listening once the server has stopped
    config = make_repo(tmp_path, {"short.md": "A short post."}, instance=url)
    result = CliRunner().invoke(cli, ["plan", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"warning: could not read the limits of {url} (" in result.stderr
    assert "checking against the cached or default ones" in result.stderr
    assert "limits: Mastodon defaults" in result.stderr


def test_check_stays_offline_and_only_warns_about_mastodons_defaults(tmp_path, big_server):
    config = long_post_repo(tmp_path, big_server.url)
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert big_server.requests == []
    assert "warning: posts/long.md:1: text: 1000/500 characters by Mastodon's count" in result.stderr
    assert "nothing is cached of 127.0.0.1" in result.stderr


def test_check_is_strict_once_the_servers_limits_are_known(tmp_path, clock):
    with FakeMastodon(token=TOKEN, clock=clock, max_characters=800) as server:
        config = long_post_repo(tmp_path, server.url)
        assert CliRunner().invoke(cli, ["limits", "--refresh", "--config", str(config)]).exit_code == 0
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert "text: 1000/800 characters by Mastodon's count" in result.stderr
    assert "default limit" not in result.stderr


def test_placeholder_instances_are_never_asked(tmp_path):
    """`https://mastodon.example` (a scaffold's placeholder) can never resolve: plans use the defaults."""
    config = make_repo(tmp_path, {"short.md": "A short post."})  # instance = https://mastodon.example
    result = CliRunner().invoke(cli, ["plan", "--config", str(config)])  # the runner fails a non-local fetch
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("announced", "overrides", "version", "kept"),
    [
        (False, (), 7, False),  # Mastodon's defaults only: the server may order attachments by id
        (True, (), 0, False),  # it announces no Mastodon API version (before 4.3, or another server)
        (True, (), 2, True),
        (False, ("mastodon_api_version",), 7, True),  # publish.toml says which Mastodon it is
        (False, ("max_characters",), 7, False),
    ],
)
def test_a_server_keeps_media_order_when_it_is_known_to_be_a_recent_mastodon(
    announced, overrides, version, kept
):
    from datetime import UTC, datetime

    from publisher.source.config import Limits
    from publisher.source.limits import AccountLimits

    when = datetime(2026, 11, 29, tzinfo=UTC) if announced else None
    entry = AccountLimits(
        "main", "https://mastodon.example", Limits(mastodon_api_version=version), when, overrides
    )
    assert entry.keeps_media_order is kept
