"""Media, alt text and polls are checked against the server's limits before anything is uploaded."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from publisher import app as library
from publisher.errors import InvalidInput
from publisher.source.imagesize import image_dimensions
from publisher.source.project import load_project
from tests.helpers import CONFIG, PNG_1PX, REPO, make_repo
from tests.sync_support import read_state, run_sync

MP4_HEAD = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 32
MP3_HEAD = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 32


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def jpeg(width: int, height: int) -> bytes:
    """SOI, a JFIF APP0, an EXIF APP1 that must be skipped, fill bytes, then the baseline start-of-frame."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    exif = b"Exif\x00\x00" + b"\xc0" * 300  # bytes that look like markers must not be read as one
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + b"\xff\xff" + sof + b"\xff\xd9"


def webp(chunk: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


WEBP_LOSSY = webp(b"VP8 ", b"\x30\x01\x00\x9d\x01\x2a" + struct.pack("<HH", 640, 480) + b"\x00" * 8)
WEBP_LOSSLESS = webp(b"VP8L", b"\x2f" + ((300 - 1) | (200 - 1) << 14).to_bytes(4, "little") + b"\x00" * 8)
WEBP_EXTENDED = webp(
    b"VP8X", b"\x00" * 4 + (5000 - 1).to_bytes(3, "little") + (7000 - 1).to_bytes(3, "little")
)
GIF = b"GIF89a" + struct.pack("<HH", 320, 240) + b"\x00" * 20


@pytest.mark.parametrize(
    ("data", "mime", "size"),
    [
        (PNG_1PX, "image/png", (1, 1)),
        (png(10000, 4000), "image/png", (10000, 4000)),
        ((REPO / "posts/media/sunrise.png").read_bytes(), "image/png", (480, 320)),
        ((REPO / "posts/media/cat.jpg").read_bytes(), "image/jpeg", (480, 320)),
        (jpeg(6000, 4000), "image/jpeg", (6000, 4000)),
        (GIF, "image/gif", (320, 240)),
        (WEBP_LOSSY, "image/webp", (640, 480)),
        (WEBP_LOSSLESS, "image/webp", (300, 200)),
        (WEBP_EXTENDED, "image/webp", (5000, 7000)),
        (png(10, 10)[:20], "image/png", None),
        (jpeg(10, 10)[:40], "image/jpeg", None),
        (b"\xff\xd8\xff\xd9", "image/jpeg", None),
        (MP4_HEAD, "video/mp4", None),
    ],
    ids=[
        "png-1px",
        "png-big",
        "png-example",
        "jpeg-example",
        "jpeg-exif-first",
        "gif",
        "webp-lossy",
        "webp-lossless",
        "webp-extended",
        "png-truncated",
        "jpeg-truncated",
        "jpeg-no-frame",
        "video",
    ],
)
def test_dimensions_from_headers(tmp_path, data, mime, size):
    path = tmp_path / "file"
    path.write_bytes(data)
    assert image_dimensions(path, mime) == size


# -- nothing uploaded when a file breaks a limit ---------------------------------------------------------------


def repo(tmp_path: Path, server_url: str, post: str, files: dict[str, bytes], limits: str = "") -> Path:
    config = CONFIG.format(instance=server_url, schedule="native") + (
        f"\n[limits]\n{limits}\n" if limits else ""
    )
    return make_repo(tmp_path, {"p.md": post, "fine.md": "a fine post"}, files=files, config=config)


def image_post(path: str, alt: str = "a picture", extra: str = "") -> str:
    return f"---\nmedia:\n  - path: {path}\n    alt: {alt}\n{extra}---\nwith a picture"


REJECTED = [
    (
        "text-renamed-png",
        image_post("notes.png"),
        {"posts/notes.png": b"hello, I am text"},
        "",
        "posts/p.md:3: media[0].path: notes.png: not an image, video or audio file (checked by content)",
    ),
    (
        "over-byte-limit",
        image_post("big.png"),
        {"posts/big.png": PNG_1PX},
        "image_size_limit = 50",
        f"posts/p.md:3: media[0].path: big.png: {len(PNG_1PX)} bytes is over the server's limit of 50 bytes",
    ),
    (
        "over-pixel-limit",
        image_post("huge.png"),
        {"posts/huge.png": png(10000, 10000)},
        "",
        "posts/p.md:3: media[0].path: huge.png: 10000x10000 is 100,000,000 pixels, over the server's limit of 33,177,600",
    ),
    (
        "alt-one-over",
        image_post("a.png", alt="a" * 1501),
        {"posts/a.png": PNG_1PX},
        "",
        "posts/p.md:4: media[0].alt: alt text is 1501 characters; the limit is 1500",
    ),
    (
        "type-not-listed",
        image_post("a.png"),
        {"posts/a.png": PNG_1PX},
        'supported_mime_types = ["image/jpeg"]',
        "posts/p.md:3: media[0].path: a.png: the server does not accept image/png files (checked by content)",
    ),
    (
        "thumbnail-on-image",
        image_post("a.png", extra="    thumbnail: t.png\n"),
        {"posts/a.png": PNG_1PX, "posts/t.png": PNG_1PX},
        "",
        "posts/p.md:5: media[0].thumbnail: only audio and video take a thumbnail, not image/png",
    ),
    (
        "thumbnail-not-an-image",
        image_post("a.mp4", extra="    thumbnail: t.txt\n"),
        {"posts/a.mp4": MP4_HEAD, "posts/t.txt": b"text"},
        "",
        "posts/p.md:5: media[0].thumbnail: t.txt: files that are not images cannot be thumbnails",
    ),
    (
        "thumbnail-missing",
        image_post("a.mp3", extra="    thumbnail: nope.png\n"),
        {"posts/a.mp3": MP3_HEAD},
        "",
        "posts/p.md:5: media[0].thumbnail: file not found: nope.png",
    ),
    (
        "five-images",
        "---\nmedia:\n" + "  - {path: a.png, alt: x}\n" * 5 + "---\nx",
        {"posts/a.png": PNG_1PX},
        "",
        "posts/p.md:2: media: 5 attachments; the server allows 4",
    ),
]


@pytest.mark.parametrize(
    ("post", "files", "limits", "expected"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_rejected_with_the_reason_and_nothing_uploaded(
    tmp_path, clock, server, post, files, limits, expected
):
    config = repo(tmp_path, server.url, post, files, limits)
    with pytest.raises(InvalidInput) as error:
        run_sync(config, clock)
    assert any(str(problem).startswith(expected) for problem in error.value.problems), error.value
    assert server.writes() == [] and server.media == {}
    assert [r.path for r in server.requests if r.path != "/api/v2/instance"] == []
    assert read_state(config) == {}


def test_png_renamed_jpg_is_accepted_and_sent_as_png(tmp_path, clock, server):
    config = repo(tmp_path, server.url, image_post("photo.jpg"), {"posts/photo.jpg": PNG_1PX})
    result = run_sync(config, clock)
    assert result.applied
    (upload,) = [r for r in server.requests if r.path == "/api/v2/media"]
    assert upload.files["file"][1] == "image/png"  # the type by content, not by the name
    (media,) = server.media.values()
    assert media["_content_type"] == "image/png" and media["type"] == "image"


@pytest.mark.parametrize(
    ("post", "files", "limits"),
    [
        (image_post("a.png", alt="a" * 1500), {"posts/a.png": PNG_1PX}, ""),
        (image_post("a.png", alt="a" * 1501), {"posts/a.png": PNG_1PX}, "description_limit = 10000"),
        (image_post("ok.png"), {"posts/ok.png": png(5760, 5760)}, ""),
        (image_post("big.png"), {"posts/big.png": png(10000, 10000)}, "image_matrix_limit = 100000000"),
        (
            image_post("a.mp4", extra="    thumbnail: t.png\n"),
            {"posts/a.mp4": MP4_HEAD, "posts/t.png": PNG_1PX},
            "",
        ),
        (
            image_post("a.mp3", extra="    thumbnail: t.png\n"),
            {"posts/a.mp3": MP3_HEAD, "posts/t.png": PNG_1PX},
            "",
        ),
    ],
    ids=[
        "alt-at-limit",
        "alt-within-raised-limit",
        "pixels-at-limit",
        "pixels-within-raised-limit",
        "thumbnail-video",
        "thumbnail-audio",
    ],
)
def test_accepted_at_and_within_the_limits(tmp_path, post, files, limits):
    config = repo(tmp_path, "https://mastodon.example", post, files, limits)
    assert len(library.check(config).posts) == 2


# -- polls ------------------------------------------------------------------------------------------------------


def poll_post(options: list[str], expires_in: int = 86400) -> str:
    quoted = ", ".join(f'"{option}"' for option in options)
    return f"---\npoll: {{options: [{quoted}], expires_in: {expires_in}}}\n---\nWhich one?"


def problems_of(tmp_path: Path, post: str, limits: str = "") -> list[str]:
    config = repo(tmp_path, "https://mastodon.example", post, {}, limits)
    try:
        load_project(config)  # as plan and sync validate; check only warns about Mastodon's defaults
    except InvalidInput as error:
        return [str(problem) for problem in error.problems]
    return []


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        (poll_post(["a", "b", "c", "d", "e"]), "posts/p.md:2: poll.options: 5 options; the server allows 4"),
        (
            poll_post(["a", "o" * 51]),
            "posts/p.md:2: poll.options[1]: option is 51 characters; it must be 1 to 50",
        ),
        (poll_post(["a", "  "]), "posts/p.md:2: poll.options[1]: option is 0 characters; it must be 1 to 50"),
        (poll_post(["same", "same "]), "posts/p.md:2: poll.options: options repeat; each must be different"),
        (
            poll_post(["a", "b"], 299),
            "posts/p.md:2: poll.expires_in: 299 s is outside the server's 300..2629746 s",
        ),
        (
            poll_post(["a", "b"], 2629747),
            "posts/p.md:2: poll.expires_in: 2629747 s is outside the server's 300..2629746 s",
        ),
    ],
    ids=["five-options", "option-too-long", "blank-option", "duplicates", "too-short", "too-long"],
)
def test_poll_beyond_the_limits(tmp_path, post, expected):
    assert any(problem.startswith(expected) for problem in problems_of(tmp_path, post)), problems_of(
        tmp_path, post
    )


@pytest.mark.parametrize(
    ("post", "limits"),
    [
        (poll_post(["a", "b", "c", "d"], 300), ""),
        (poll_post(["a", "o" * 50], 2629746), ""),
        (poll_post(["👩\u200d👩\u200d👧" * 50, "b"]), ""),  # 50 grapheme clusters, as Mastodon counts options
        (poll_post(["a", "b", "c", "d", "e"]), "poll_max_options = 5"),
    ],
    ids=["four-options-shortest", "fifty-characters-longest", "fifty-emoji", "raised-option-count"],
)
def test_poll_within_the_limits(tmp_path, post, limits):
    assert problems_of(tmp_path, post, limits) == []


def test_every_reason_of_a_post_is_reported_at_once(tmp_path):
    post = (
        "---\nmedia:\n  - {path: a.png, alt: "
        + "a" * 1501
        + "}\n  - {path: b.txt, alt: x}\n---\n"
        + "w " * 300
    )
    config = repo(
        tmp_path, "https://mastodon.example", post, {"posts/a.png": png(9000, 9000), "posts/b.txt": b"x"}
    )
    with pytest.raises(InvalidInput) as error:
        load_project(config)
    assert [(problem.field, problem.message.split(":")[0]) for problem in error.value.problems] == [
        ("media[0].alt", "alt text is 1501 characters; the limit is 1500"),
        ("media[0].path", "a.png"),
        ("media[1].path", "b.txt"),
        ("text", "599/500 characters by Mastodon's count"),
    ]
