"""The static HTML preview: escaping, self-containment, and how it renders in a real (headless) browser."""

from __future__ import annotations

import json
import re
import shutil
import socket
import struct
import subprocess
import threading
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from publisher.cli import app
from publisher.errors import InvalidInput
from publisher.output.preview.html import status_html
from publisher.output.preview.page import write_preview
from publisher.plan.state import State, serialize
from tests.helpers import REPO, CliRunner, copy_example_repo
from tests.plan_fixture import every_kind_plan, every_kind_repo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)"
)
# Chromium's own services, which it calls whatever page it shows; anything else would come from the page.
CHROMIUM_SERVICES = {"update.googleapis.com", "accounts.google.com", "clients2.google.com"}
WINDOW = (1000, 1400)


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


LONG = "example.com/a-long-path/that-goes-on"


def link(href: str, shown: str) -> str:
    return f'<a class="link" href="{href}" rel="nofollow noopener noreferrer">{shown}</a>'


@pytest.mark.parametrize(
    "text, html",
    [
        ("<b>hi</b> & 'you'", "&lt;b&gt;hi&lt;/b&gt; &amp; &#39;you&#39;"),
        ("see https://x.org/?b=1&c=2.", f"see {link('https://x.org/?b=1&amp;c=2', 'x.org/?b=1&amp;c=2')}."),
        ("(https://x.org/wiki/A_(b))", f"({link('https://x.org/wiki/A_(b)', 'x.org/wiki/A_(b)')})"),
        ('https://x.org/"><script>', link("https://x.org/", "x.org/") + "&#34;&gt;&lt;script&gt;"),
        ("#caturday and #1", '<span class="hashtag">#caturday</span> and #1'),
        ("@amy@ex.social, amy@ex.org", '<span class="mention">@amy@ex.social</span>, amy@ex.org'),
        ("https://www." + LONG, link("https://www." + LONG, LONG[:30] + "…")),
    ],
)  # fmt: skip
def test_status_text_is_escaped_then_linked(text, html):
    assert str(status_html(text)) == html


@pytest.fixture(scope="module")
def preview(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("preview")
    return write_preview(every_kind_plan(root / "repo"), root / "out")


def test_preview_has_a_card_per_post_with_its_action(preview):
    cards = Elements(preview.read_text()).all("article")
    actions = {card["id"].removeprefix("post-"): card["data-action"] for card in cards}
    assert actions == {
        "new": "create", "tricky": "create", "edited": "update", "moved": "replace", "later": "schedule",
        "soon": "deferred", "same": "unchanged", "gone": "orphan",
    }  # fmt: skip


def test_preview_escapes_user_text(preview):
    html = preview.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; | pipes &amp; `ticks`" in html


def test_preview_is_self_contained(preview):
    html = preview.read_text()
    elements = Elements(html)
    for tag, attrs in elements.tags:
        for name in ("src", "href", "poster", "srcset"):
            if re.match(r"(?i)\s*(https?:)?//", attrs.get(name, "")):
                assert (tag, name) == ("a", "href"), (
                    f"<{tag} {name}={attrs[name]!r}> would load from elsewhere"
                )
    assert "url(" not in html and "@import" not in html
    policy = next(
        meta for meta in elements.all("meta") if meta.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in policy["content"]
    for image in elements.all("img"):
        assert (preview.parent / image["src"]).is_file()


def test_preview_images_carry_their_alt_text_and_cw_starts_closed(preview):
    elements = Elements(preview.read_text())
    assert [image["alt"] for image in elements.all("img")] == ["A cat, now described properly"]
    cws = [attrs for tag, attrs in elements.tags if tag == "details" and "cw" in attrs.get("class", "")]
    assert len(cws) == 2 and all("open" not in attrs for attrs in cws)


def test_preview_into_an_unusable_folder_is_invalid_input(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InvalidInput, match="cannot write the preview"):
        write_preview(every_kind_plan(tmp_path / "repo"), tmp_path / "file" / "out")


def test_cli_preview_writes_the_page(tmp_path):
    config = every_kind_repo(tmp_path / "repo")
    result = CliRunner().invoke(app, ["preview", "--html", str(tmp_path / "out"), "-c", str(config)])
    assert result.exit_code == 0, result.output
    index = tmp_path / "out" / "index.html"
    assert result.stdout == f"Preview written: {index}\n"
    assert "The second line is new." in index.read_text()


# -- in a real browser --------------------------------------------------------------------------------

# The probe image is a control: it must reach the recording proxy, or the recorder proves nothing.
CHECK_SCRIPT = """<img id="probe" alt="" src="http://probe.invalid/control.png">
<script>
window.addEventListener("load", () => {
  const cw = document.querySelector("details.cw");
  const text = cw.querySelector(".status-text");
  const result = {openBefore: cw.open, shownBefore: text.checkVisibility()};
  cw.querySelector("summary").click();
  Object.assign(result, {openAfter: cw.open, shownAfter: text.checkVisibility()});
  result.images = [...document.images].filter(image => image.id !== "probe").map(image => ({
    alt: image.alt, loaded: image.complete && image.naturalWidth > 0,
    caption: image.closest("figure").querySelector("figcaption").textContent.trim()}));
  const out = document.createElement("pre");
  out.id = "check";
  out.textContent = JSON.stringify(result);
  document.body.append(out);
});
</script></body>"""


class RequestRecorder:
    """A proxy on 127.0.0.1 that answers nothing and remembers the first line of every request."""

    def __init__(self):
        self.requests: list[str] = []
        self.socket = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                self.requests.append(connection.recv(4096).split(b"\r\n")[0].decode("latin-1"))

    def hosts(self) -> set[str]:
        return {re.split(r"[ :/]+", line.split(" ")[1].removeprefix("http://"))[0] for line in self.requests}


def chromium(profile: Path, proxy: str, *arguments: str) -> subprocess.Popen:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>",
    ]  # fmt: skip
    return subprocess.Popen(
        [CHROMIUM, *flags, *arguments], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


@pytest.fixture(scope="module")
def browser(preview, tmp_path_factory):
    """Load the page twice at once: a screenshot of it, and a copy with a check script (and no CSP, so a
    stray request would really go out to the recording proxy instead of being blocked)."""
    root = tmp_path_factory.mktemp("chromium")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", preview.read_text())
    check_page = preview.with_name("check.html")
    check_page.write_text(html.replace("</body>", CHECK_SCRIPT), encoding="utf-8")
    recorder = RequestRecorder()
    shot = root / "shot.png"
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    runs = [
        chromium(root / "a", recorder.address, "--dump-dom", check_page.as_uri()),
        chromium(root / "b", recorder.address, f"--screenshot={shot}", size, preview.as_uri()),
    ]
    dom = runs[0].communicate(timeout=90)[0]
    runs[1].communicate(timeout=90)
    recorder.socket.close()
    found = re.search(r'<pre id="check">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return {"check": json.loads(found.group(1).replace("&quot;", '"')), "shot": shot, "recorder": recorder}


@needs_chromium
def test_browser_cw_hides_the_text_until_clicked(browser):
    check = browser["check"]
    assert (check["openBefore"], check["shownBefore"]) == (False, False)
    assert (check["openAfter"], check["shownAfter"]) == (True, True)


@needs_chromium
def test_browser_shows_every_image_with_its_alt_text(browser):
    alt = "A cat, now described properly"
    assert browser["check"]["images"] == [{"alt": alt, "loaded": True, "caption": f"ALT {alt}"}]


@needs_chromium
def test_browser_requests_nothing_from_the_network(browser):
    assert browser["recorder"].hosts() - CHROMIUM_SERVICES == {"probe.invalid"}, browser["recorder"].requests


@needs_chromium
def test_browser_screenshot_is_not_blank(browser):
    width, height, pixels = read_png(browser["shot"])
    assert (width, height) == WINDOW
    assert browser["shot"].stat().st_size > 20_000
    assert len(set(pixels)) > 50  # a blank or single-colour page compresses to a handful of byte values


def read_png(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanline bytes of a PNG, with the standard library only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, size = 8, b"", (0, 0)
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return size[0], size[1], zlib.decompress(idat)


# -- the sandbox ---------------------------------------------------------------------------------------


def test_sync_sandbox_previews_what_the_server_received_and_leaves_the_real_state_alone(tmp_path):
    config = copy_example_repo(tmp_path)
    real_state = tmp_path / "publish.state.json"
    real_state.write_text(serialize(State()), encoding="utf-8")
    before = real_state.read_bytes(), real_state.stat().st_mtime_ns
    result = CliRunner(env={"MASTODON_TOKEN": ""}).invoke(app, ["sync", "--sandbox", "-c", str(config)])
    assert result.exit_code == 0, result.output
    index = tmp_path / ".publish-sandbox" / "preview" / "index.html"
    assert result.stdout.splitlines()[-1] == f"Preview of what the sandbox received: {index}"
    assert (real_state.read_bytes(), real_state.stat().st_mtime_ns) == before
    html = index.read_text()
    actions = [card["data-action"] for card in Elements(html).all("article")]
    assert sorted(actions) == ["published"] * 4 + ["scheduled"]
    assert "Hello, fediverse!" in html and "Day 1 of the advent of toots" in html
    images = Elements(html).all("img")
    assert [image["alt"][:10] for image in images] == ["A grey cat", "An orange "]
    copied = {(index.parent / image["src"]).read_bytes() for image in images}
    assert copied == {
        (REPO / "posts/media/cat.jpg").read_bytes(),
        (REPO / "posts/media/sunrise.png").read_bytes(),
    }
