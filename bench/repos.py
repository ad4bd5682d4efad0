"""Generated repositories for the benchmark: config, posts, media files and a matching state file."""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TOKEN_ENV = "PUBLISH_BENCH_TOKEN"
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f8b0b40000000049454e44ae426082"
)
TEMPLATE = '{{ body }}\n{%- if tags %}\n\n{{ tags | map("hashtag") | join(" ") }}\n{%- endif %}\n'
WORDS = (
    "batch publishing keeps every toot in git so a review happens before anything reaches the server "
    "and the state file remembers what is already there"
).split()


@dataclass(frozen=True)
class MediaFile:
    path: str  # relative to the post file's folder (posts/)
    alt: str


def write_repo(root: Path, instance: str, *, limits: str = "") -> Path:
    """publish.toml with one account, an empty posts/ and the default template; returns the config path."""
    return write_accounts_repo(root, {"main": (instance, TOKEN_ENV)}, limits=limits)


def write_accounts_repo(root: Path, accounts: Mapping[str, tuple[str, str]], *, limits: str = "") -> Path:
    """Like write_repo, with one [accounts.NAME] table per entry of `accounts`: NAME -> (instance, token_env).
    The first is the default account; a post names another with `account:` in its front-matter."""
    (root / "posts").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "default.txt.j2").write_text(TEMPLATE, encoding="utf-8")
    tables = "".join(
        f'\n[accounts.{name}]\ninstance = "{instance}"\ntoken_env = "{token_env}"\n'
        for name, (instance, token_env) in accounts.items()
    )
    config = root / "publish.toml"
    config.write_text(
        f'[publish]\nrequire_alt_text = true\n\n[defaults]\nvisibility = "public"\nlanguage = "en"\n\n'
        f"{limits}{tables}",
        encoding="utf-8",
    )
    return config


def distinct_png(root: Path, name: str, seed: int, size: int = 2048) -> MediaFile:
    """A PNG signature followed by seeded bytes: sniffs as image/png, and every seed hashes differently."""
    filler = random.Random(seed).randbytes(max(size - len(PNG_1PX), 0))
    path = root / "posts" / "media" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG_1PX + filler)
    return MediaFile(f"media/{name}", f"Generated picture number {seed}.")


def sparse_mp4(root: Path, name: str, size: int) -> MediaFile:
    """`size` bytes that sniff as video/mp4: an ftyp box, some random bytes, then a sparse hole."""
    path = root / "posts" / "media" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(4096)
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return MediaFile(f"media/{name}", "A generated video of nothing in particular.")


def body_text(index: int) -> str:
    """Two paragraphs and a link; every third post also has Markdown emphasis and a list."""
    rng = random.Random(index)
    words = [rng.choice(WORDS) for _ in range(40)]
    if index % 3 == 0:
        words[3] = f"*{words[3]}*"
        words[20] = f"\n\n- {words[20]}\n- **{words[21]}**\n\n"
    return (
        f"Post number {index}: "
        + " ".join(words[:20])
        + ".\n\n"
        + " ".join(words[20:])
        + f" — see https://example.org/notes/{index} for more.\n"
    )


def write_post(root: Path, index: int, media: Sequence[MediaFile] = (), *, account: str = "") -> None:
    lines = ["---", f"id: bench-{index:05d}", "tags: [bench, generated]"]
    if account:
        lines.append(f"account: {account}")
    if media:
        lines.append("media:")
        for item in media:
            lines += [f"  - path: {item.path}", f'    alt: "{item.alt}"']
    lines.append("---")
    path = root / "posts" / f"{index:05d}.md"
    path.write_text("\n".join(lines) + "\n" + body_text(index), encoding="utf-8")


def image_posts(
    root: Path, posts: int, images_per_post: int, *, first_index: int = 0, account: str = ""
) -> None:
    """`posts` posts numbered from `first_index`, `images_per_post` distinct small PNGs each, for `account`
    when given (named in their front-matter): the same files, ids and bytes whichever repository they are
    written to."""
    for index in range(first_index, first_index + posts):
        media = [
            distinct_png(root, f"p{index}-{n}.png", index * images_per_post + n)
            for n in range(images_per_post)
        ]
        write_post(root, index, media, account=account)


def plan_posts(root: Path, posts: int, *, image_every: int = 10, image_pool: int = 100) -> None:
    """Mostly text-only posts; every `image_every`-th has one small image from a shared pool."""
    pool = [distinct_png(root, f"pool-{n}.png", 10_000 + n) for n in range(min(image_pool, posts))]
    for index in range(posts):
        media = [pool[(index // image_every) % len(pool)]] if index % image_every == 0 else []
        write_post(root, index, media)


def write_matching_state(config: Path) -> int:
    """A state file that records every post as published exactly as it is now, so `plan` is a no-op.

    Uses the library to render and hash the posts, as a previous `publish sync` would have."""
    from datetime import UTC, datetime

    from publisher.plan.changes import idempotency_key
    from publisher.plan.state import MediaRecord, State, StatusRecord, serialize
    from publisher.plan.state import StateStore
    from publisher.source.project import load_project

    project = load_project(config)
    now = datetime.now(UTC)
    records = {}
    for number, post in enumerate(project.posts, start=1):
        media = tuple(
            MediaRecord(
                path=m.path, sha256=m.sha256, media_id=str(900_000 + number), alt=m.alt, focus=m.focus
            )
            for m in post.media
        )
        records[post.post_id] = StatusRecord(
            source=post.source, account=post.account, status_id=str(100_000 + number),
            url=f"https://mastodon.example/@bench/{100_000 + number}", content_hash=post.content_hash,
            idempotency_key=idempotency_key(post), text=post.text, visibility=post.visibility,
            media=media, published_at=now, recorded_at=now,
        )  # fmt: skip
    state_path = StateStore.for_config(project.config).path
    state_path.write_text(serialize(State(posts=records)), encoding="utf-8")
    return len(records)


def manifest(config: Path) -> list[dict]:
    """What the naive baseline sends: per post the status text and its media files, in order."""
    from publisher.source.project import load_project

    project = load_project(config)
    root = project.config.root
    return [
        {
            "status": post.text,
            "media": [[str(root / m.path), m.mime_type, m.alt] for m in post.media],
            "key": hashlib.sha256(post.post_id.encode()).hexdigest()[:32],
        }
        for post in project.posts
    ]


def write_manifest(config: Path, destination: Path) -> Path:
    destination.write_text(json.dumps(manifest(config)), encoding="utf-8")
    return destination
