"""Split a post file into YAML front-matter and body, keeping the line of every key."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

FENCE = "---"
BOOL_TAG = "tag:yaml.org,2002:bool"


@functools.cache  # made on first use: a run whose posts all come from the render cache never imports PyYAML
def post_loader() -> type[Any]:
    """A safe loader with YAML 1.2 booleans: only true/false. `language: no` is Norwegian and `[Yes, No]` are
    poll options. libyaml's C loader is ~10x faster; the pure Python one where PyYAML was built without it."""
    import yaml

    safe_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != BOOL_TAG]
        for first, resolvers in safe_loader.yaml_implicit_resolvers.items()
    }
    loader: type[Any] = type("PostLoader", (safe_loader,), {"yaml_implicit_resolvers": resolvers})
    booleans = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    loader.add_implicit_resolver(BOOL_TAG, booleans, list("tTfF"))
    return loader


class FrontMatterError(Exception):
    def __init__(self, message: str, line: int | None):
        self.line = line
        super().__init__(message)


@dataclass(frozen=True)
class ParsedFile:
    data: dict
    body: str
    lines: dict[str, int] = field(default_factory=dict)  # "media[0].alt" -> 1-based line in the file
    body_line: int = 1

    def line_of(self, *keys: str) -> int | None:
        for key in keys:
            if key in self.lines:
                return self.lines[key]
        return None


def parse_markdown_file(text: str) -> ParsedFile:
    """`---\\n<yaml>\\n---\\n<markdown>`; a file without a fence is all body."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        return ParsedFile({}, text.strip("\n"))
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in (FENCE, "..."):
            data, positions = load_yaml_mapping("\n".join(lines[1:index]), first_line=2)
            body = "\n".join(lines[index + 1 :]).strip("\n")
            return ParsedFile(data, body, positions, body_line=index + 2)
    raise FrontMatterError("front-matter starts with '---' but has no closing '---' line", 1)


def parse_yaml_file(text: str) -> ParsedFile:
    data, positions = load_yaml_mapping(text.removeprefix("\ufeff"), first_line=1)
    body = data.get("body", "")
    return ParsedFile(data, body if isinstance(body, str) else "", positions, positions.get("body", 1))


def load_yaml_mapping(text: str, *, first_line: int) -> tuple[dict, dict[str, int]]:
    import yaml

    loader = post_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        raise FrontMatterError(f"not valid YAML: {exc.problem or exc}", line) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise FrontMatterError("front-matter must be a mapping of `key: value` lines", first_line)
    return data, _key_lines(node, first_line) if node is not None else {}


def _key_lines(node: yaml.Node, first_line: int, prefix: str = "") -> dict[str, int]:
    import yaml

    positions: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            positions[name] = key_node.start_mark.line + first_line
            positions.update(_key_lines(value_node, first_line, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            name = f"{prefix}[{index}]"
            positions[name] = item.start_mark.line + first_line
            positions.update(_key_lines(item, first_line, name))
    return positions
