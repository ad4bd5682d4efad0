"""Split a post file into YAML front-matter and body, keeping the line of every key."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

FENCE = "---"
TOML_FENCE = "+++"  # Hugo's TOML front-matter, on the very first line only: later it cuts a thread
TOML_HINT = "a first line of +++ starts TOML front-matter; to cut a thread, put text before the first +++"
TOML_ERROR_LINE = re.compile(r"\(at line (\d+), column \d+\)")
TOML_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(?:#.*)?$")
TOML_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]\s*(?:#.*)?$")
TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
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
    def __init__(self, message: str, line: int | None, hint: str = ""):
        self.line = line
        self.hint = hint
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
    if lines[0].rstrip() == TOML_FENCE:
        return parse_toml_front_matter(lines)
    if lines[0].rstrip() != FENCE:
        return ParsedFile({}, text.strip("\n"))
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in (FENCE, "..."):
            data, positions = load_yaml_mapping("\n".join(lines[1:index]), first_line=2)
            body = "\n".join(lines[index + 1 :]).strip("\n")
            return ParsedFile(data, body, positions, body_line=index + 2)
    raise FrontMatterError("front-matter starts with '---' but has no closing '---' line", 1)


def parse_toml_front_matter(lines: list[str]) -> ParsedFile:
    """`+++\\n<toml>\\n+++\\n<markdown>`, read with Python's tomllib."""
    import tomllib

    end = next((n for n, line in enumerate(lines[1:], start=1) if line.rstrip() == TOML_FENCE), None)
    if end is None:
        raise FrontMatterError("front-matter starts with '+++' but has no closing '+++' line", 1, TOML_HINT)
    try:
        data = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise _toml_problem(str(exc), lines[:end]) from None
    positions = toml_key_lines(lines[1:end], first_line=2)
    _refuse_control_values(data, positions)
    body = "\n".join(lines[end + 1 :]).strip("\n")
    return ParsedFile(data, body, positions, body_line=end + 2)


def _toml_problem(problem: str, front: list[str]) -> FrontMatterError:
    """tomllib's message with the file's line: where it says, or ("at end of document") the last line
    written, which is where an unclosed list or a key given twice ends."""
    message = TOML_ERROR_LINE.sub("", problem).replace("(at end of document)", "").strip()
    if where := TOML_ERROR_LINE.search(problem):
        return FrontMatterError(f"not valid TOML: {message}", int(where.group(1)) + 1, TOML_HINT)
    last = max((number for number, line in enumerate(front, start=1) if line.strip()), default=1)
    return FrontMatterError(f"not valid TOML: {message}", last, TOML_HINT)


def toml_key_lines(lines: list[str], *, first_line: int) -> dict[str, int]:
    """The line of each key, in the form of ParsedFile.lines: `media[1].alt` in the second `[[media]]`.
    Keys of inline tables and arrays get the line of the key that holds them."""
    positions: dict[str, int] = {}
    counts: dict[str, int] = {}
    prefix = ""
    for number, line in enumerate(lines, start=first_line):
        if table := TOML_ARRAY_TABLE.match(line):
            name = table.group(1)
            counts[name] = counts.get(name, -1) + 1
            prefix = f"{name}[{counts[name]}]"
            positions.setdefault(name, number)
        elif table := TOML_TABLE.match(line):
            prefix = table.group(1)
        elif key := TOML_KEY.match(line):
            name = f"{prefix}.{key.group(1)}" if prefix else key.group(1)
            positions.setdefault(name, number)
            continue
        else:
            continue
        positions.setdefault(prefix, number)
    return positions


def _refuse_control_values(value: object, positions: dict[str, int], key: str = "") -> None:
    """A TOML escape ("\\u001b") can put a control character in a value, as a YAML one can."""
    if isinstance(value, str):
        refuse_control_characters(value, positions.get(key.partition(".")[0].partition("[")[0], 1))
    elif isinstance(value, dict):
        for name, item in value.items():
            _refuse_control_values(item, positions, f"{key}.{name}" if key else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_control_values(item, positions, f"{key}[{index}]")


def refuse_control_characters(text: str, first_line: int = 1) -> None:
    """NUL, ESC and the like are invisible in an editor, garble terminals and are refused by servers."""
    if bad := CONTROL_CHARACTER.search(text):
        raise control_character(ord(bad.group()), text.count("\n", 0, bad.start()) + first_line)


def control_character(code_point: int, line: int) -> FrontMatterError:
    return FrontMatterError(f"control character U+{code_point:04X} is not allowed", line, "delete it")


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
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise control_character(character, text.count("\n", 0, exc.position) + first_line) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise FrontMatterError(f"not valid YAML: {exc}", first_line) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise FrontMatterError("front-matter must be a mapping of `key: value` lines", first_line)
    return data, positions


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
