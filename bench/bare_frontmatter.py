"""Row (d)'s bare reference: read every post file and parse its YAML front-matter, nothing else.

Usage: python bench/bare_frontmatter.py POSTS_DIR   (prints how many front-matters it parsed)
The text between the opening `---` line and the next `---` line goes to PyYAML's C loader (yaml.CSafeLoader):
no validation, no rendering, no hashing, no state; the least a tool that reads these posts must do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

FENCE = "---"


def front_matter(text: str) -> str:
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        return ""
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index])
    return ""


def main(posts: str) -> int:
    parsed = 0
    for path in sorted(Path(posts).rglob("*.md")):
        data = yaml.load(front_matter(path.read_text(encoding="utf-8")), Loader=yaml.CSafeLoader)
        parsed += isinstance(data, dict)
    print(parsed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
