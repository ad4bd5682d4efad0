"""HTTP plumbing of the sandbox: parsed requests, responses and errors, free of any Mastodon logic."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from urllib.parse import parse_qsl

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


class ApiError(Exception):
    """An answer other than success, raised anywhere below the router and rendered as JSON."""

    def __init__(self, status: int, error: str, **extra: str):
        super().__init__(f"{status} {error}")
        self.status = status
        self.body = {"error": error, **extra}


def not_found() -> ApiError:
    return ApiError(404, "Record not found")


def unprocessable(message: str) -> ApiError:
    return ApiError(422, message)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it, kept in `FakeMastodon.requests`."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]
    files: dict[str, tuple[str, str, bytes]]
    json: object | None
    # Form fields in arrival order, because Rails groups `a[][x]` keys by position, not by name.
    form_pairs: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)
    body: bytes = field(default=b"", repr=False, compare=False)

    def first(self, name: str, default: str | None = None) -> str | None:
        """The first value of a text field, from the form or the query string."""
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else default

    def bearer_token(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # How a hostile or broken server sends it (see Fault): the body `repeat` times, without Content-Length
    # (`chunked`), or one byte every `drip` seconds, from the status line on or (`drip_body`) the body only.
    repeat: int = 1
    chunked: bool = False
    drip: float = 0.0
    drip_body: bool = False

    def with_headers(self, extra: dict[str, str]) -> Response:
        return replace(self, headers={**self.headers, **extra})


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    body = jsonlib.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, JSON_TYPE, dict(headers or {}))


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body)


def html_response(status: int, html: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, html.encode("utf-8"), HTML_TYPE, dict(headers or {}))


def proxy_error_page(status: int) -> str:
    """The kind of page nginx serves for 413/502/504: not JSON, and clients must cope."""
    title = f"{status} {_phrase(status)}".strip()
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def parse_request(
    method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[RecordedRequest, ApiError | None]:
    """Build the recorded request; a malformed body is reported, not raised, so it is still recorded."""
    path, _, query_string = target.partition("?")
    query = _group(parse_qsl(query_string, keep_blank_values=True))
    pairs: list[tuple[str, str]] = []
    files: dict[str, tuple[str, str, bytes]] = {}
    payload: object | None = None
    problem = None
    try:
        payload = _parse_body(headers.get("content-type", ""), body, pairs, files)
    except ApiError as error:
        problem = error
    request = RecordedRequest(method, path, query, headers, _group(pairs), files, payload, tuple(pairs), body)
    return request, problem


def _parse_body(
    content_type: str, body: bytes, pairs: list[tuple[str, str]], files: dict[str, tuple[str, str, bytes]]
) -> object | None:
    media_type, params = _split_content_type(content_type)
    if not body:
        return None
    if media_type == "application/json":
        return _parse_json(body)
    if media_type == "multipart/form-data":
        _parse_multipart(body, params.get("boundary", ""), pairs, files)
    elif media_type in ("application/x-www-form-urlencoded", ""):
        pairs.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return None


def _parse_json(body: bytes) -> object:
    try:
        return jsonlib.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ApiError(400, f"Error occurred while parsing request parameters: {error}") from None


def _split_content_type(value: str) -> tuple[str, dict[str, str]]:
    media_type, *rest = value.split(";")
    params = {}
    for item in rest:
        name, _, val = item.strip().partition("=")
        params[name.lower()] = val.strip().strip('"')
    return media_type.strip().lower(), params


def _parse_multipart(
    body: bytes, boundary: str, pairs: list[tuple[str, str]], files: dict[str, tuple[str, str, bytes]]
) -> None:
    if not boundary:
        raise ApiError(400, "Error occurred while parsing request parameters: missing multipart boundary")
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        _add_part(_part_headers(head), data.removesuffix(b"\r\n"), pairs, files)


def _part_headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _add_part(
    headers: dict[str, str],
    data: bytes,
    pairs: list[tuple[str, str]],
    files: dict[str, tuple[str, str, bytes]],
) -> None:
    _, disposition = _split_content_type(headers.get("content-disposition", ""))
    name = disposition.get("name", "")
    if "filename" in disposition:
        content_type = headers.get("content-type", "application/octet-stream")
        files[name] = (disposition["filename"], content_type, data)
    else:
        pairs.append((name, data.decode("utf-8", "replace")))


def _group(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def raw_head(response: Response) -> bytes:
    """The status line and headers, as bytes: for answers sent other than by BaseHTTPRequestHandler."""
    lines = [f"HTTP/1.1 {response.status} {_phrase(response.status)}"]
    if response.content_type:
        lines.append(f"Content-Type: {response.content_type}")
    if response.chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {len(response.body) * response.repeat}")
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def body_pieces(response: Response) -> Iterator[bytes]:
    """The body, `repeat` times over, in chunked encoding when asked; never all of it in memory."""
    for _ in range(response.repeat):
        if not response.body:
            continue
        if response.chunked:
            yield f"{len(response.body):x}\r\n".encode() + response.body + b"\r\n"
        else:
            yield response.body
    if response.chunked:
        yield b"0\r\n\r\n"
