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
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAX_NODES = 10_000  # keys, list items and values after aliases are expanded; a post has a few dozen
# C0 controls but tab, LF and CR; DEL; C1 controls. YAML's reader refuses most of them, but escapes
# in double-quoted strings ("\x1b", "\0") produce them in values.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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
    refuse_control_characters(text)
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        return ParsedFile({}, text.strip("\n"))
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in (FENCE, "..."):
            data, positions = load_yaml_mapping("\n".join(lines[1:index]), first_line=2)
            body = "\n".join(lines[index + 1 :]).strip("\n")
            return ParsedFile(data, body, positions, body_line=index + 2)
    raise FrontMatterError("front-matter starts with '---' but has no closing '---' line", 1)


def refuse_control_characters(text: str, first_line: int = 1) -> None:
    """NUL, ESC and the like are invisible in an editor, garble terminals and are refused by servers."""
    if bad := CONTROL_CHARACTER.search(text):
        line = text.count("\n", 0, bad.start()) + first_line
        message = f"control character U+{ord(bad.group()):04X} is not allowed (hint: delete it)"
        raise FrontMatterError(message, line)


def parse_yaml_file(text: str) -> ParsedFile:
    data, positions = load_yaml_mapping(text.removeprefix("\ufeff"), first_line=1)
    body = data.get("body", "")
    return ParsedFile(data, body if isinstance(body, str) else "", positions, positions.get("body", 1))


def load_yaml_mapping(text: str, *, first_line: int) -> tuple[dict, dict[str, int]]:
    """The mapping and the line of every key. Refused before anything is built from it: duplicate keys
    (YAML keeps the last silently), aliases expanding past MAX_NODES, control characters, impossible dates."""
    import yaml

    loader = post_loader()(text)
    try:
        node = loader.get_single_node()
        positions = NodeWalk(loader, first_line).positions(node) if node is not None else {}
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        raise FrontMatterError(f"not valid YAML: {exc.problem or exc}", line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + first_line
        raise FrontMatterError(_reader_problem(exc), line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise FrontMatterError(f"not valid YAML: {exc}", first_line) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise FrontMatterError("front-matter must be a mapping of `key: value` lines", first_line)
    return data, positions


def _reader_problem(exc: Any) -> str:
    character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return f"control character U+{character:04X} is not allowed (hint: delete it)"


class NodeWalk:
    """Walks the composed YAML tree once, as the constructor would expand it (aliases included)."""

    def __init__(self, loader: Any, first_line: int):
        self.loader = loader
        self.first_line = first_line
        self.left = MAX_NODES

    def positions(self, node: yaml.Node, prefix: str = "") -> dict[str, int]:
        import yaml

        self.left -= 1
        if self.left < 0:
            raise FrontMatterError(f"expands to more than {MAX_NODES:,} values (aliases?)", self.line(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, prefix)
        if isinstance(node, yaml.SequenceNode):
            return self._sequence(node, prefix)
        self._check_scalar(node)
        return {}

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + self.first_line

    def _mapping(self, node: yaml.MappingNode, prefix: str) -> dict[str, int]:
        positions: dict[str, int] = {}
        for key_node, value_node in node.value:
            self._check_scalar(key_node)
            name = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            if name in positions:
                first = positions[name]
                raise FrontMatterError(f"duplicate key {name!r} (also on line {first})", self.line(key_node))
            positions[name] = self.line(key_node)
            positions.update(self.positions(value_node, name))
        return positions

    def _sequence(self, node: yaml.SequenceNode, prefix: str) -> dict[str, int]:
        positions: dict[str, int] = {}
        for index, item in enumerate(node.value):
            name = f"{prefix}[{index}]"
            positions[name] = self.line(item)
            positions.update(self.positions(item, name))
        return positions

    def _check_scalar(self, node: yaml.Node) -> None:
        value = node.value
        if not isinstance(value, str):
            return
        refuse_control_characters(value, self.line(node))
        if node.tag == TIMESTAMP_TAG:
            try:
                self.loader.construct_yaml_timestamp(node)
            except ValueError as exc:
                raise FrontMatterError(f"impossible date {value!r}: {exc}", self.line(node)) from None
