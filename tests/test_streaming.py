"""Uploads stream the file from disk: memory does not grow with its size, and a retry sends it all again."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tracemalloc

import pytest
import requests

from publisher.clock import FakeClock
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.http import HttpClient
from publisher.mastodon.multipart import MultipartBody
from publisher.sandbox import FakeMastodon, Fault

TOKEN = "stream-token-0123456789"
MIB = 1024 * 1024
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


@pytest.fixture
def server_process():
    """The fake server in a process of its own, so what it buffers is not counted against the client."""
    command = [sys.executable, "-m", "publisher.sandbox.server", "--token", TOKEN]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()


def video_file(tmp_path, size: int):
    path = tmp_path / "clip.mp4"
    with path.open("wb") as handle:
        handle.write(MP4_HEAD + os.urandom(64 * 1024))
        handle.truncate(size)
    return path


def test_upload_memory_stays_flat_whatever_the_file_size(server_process, tmp_path):
    path = video_file(tmp_path, 20 * MIB)
    with HttpClient(server_process, TOKEN, clock=FakeClock()) as http:
        client = MastodonClient(http, FakeClock())
        tracemalloc.start()
        try:
            media = client.upload_media(path, mime_type="video/mp4", description="A clip", focus=None)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        stored = requests.get(media.url, timeout=10).content

    assert peak < 2 * MIB  # requests' own files= peaks above twice the file size
    assert hashlib.sha256(stored).digest() == hashlib.sha256(path.read_bytes()).digest()


def test_retried_upload_streams_the_whole_file_again(tmp_path):
    path = video_file(tmp_path, 3 * MIB)
    with FakeMastodon(token=TOKEN) as server, HttpClient(server.url, TOKEN, clock=FakeClock()) as http:
        server.add_fault(Fault("POST", "/api/v2/media", "drop_before"))

        media = MastodonClient(http, FakeClock()).upload_media(
            path, mime_type="video/mp4", description="A clip", focus="0.5,0"
        )

        uploads = [request for request in server.requests if request.path == "/api/v2/media"]
        assert [request.files["file"] for request in uploads] == [
            ("clip.mp4", "video/mp4", path.read_bytes())
        ] * 2
        assert [request.form["description"] for request in uploads] == [["A clip"]] * 2
        assert list(server.media) == [media.id]


@pytest.mark.parametrize("chunk", [1, 7, 4096, -1])
def test_multipart_body_length_matches_what_is_read(tmp_path, chunk):
    path = tmp_path / "a.bin"
    path.write_bytes(os.urandom(10_000))
    with path.open("rb") as handle:
        handle.seek(100)
        body = MultipartBody(
            {"description": 'Quote " and café'}, {"file": ("a.bin", handle, "image/png")}, "b0"
        )
        data = b"".join(iter(lambda: body.read(chunk), b""))

    assert len(data) == len(body)
    assert data.startswith(
        b'--b0\r\nContent-Disposition: form-data; name="description"\r\n\r\nQuote " and caf'
    )
    assert (
        b'name="file"; filename="a.bin"\r\nContent-Type: image/png\r\n\r\n' + path.read_bytes()[100:] in data
    )
    assert data.endswith(b"\r\n--b0--\r\n")


def test_multipart_parameters_are_escaped_like_browsers_do():
    body = MultipartBody({'a"b\r\nc': "v"}, {}, "b1")

    assert b'name="a%22b%0D%0Ac"' in body.read()
