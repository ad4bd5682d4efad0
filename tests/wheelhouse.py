"""An offline wheelhouse: this project's wheel and sdist, plus wheels of everything they need.

Users install `mastodon-publish` from an index; the tests have none (no network at all), so they hand pip a
folder that holds the same files an index would serve: the project built from the working tree, and each
dependency repacked from the distribution already installed in the test environment. pip then resolves the
distribution name exactly as a user's `pip install mastodon-publish` does, just with `--no-index`.
"""

from __future__ import annotations

import base64
import csv
import email
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# Not part of a build: version control, local environments, caches and earlier build output.
SOURCE_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".publish-*"
)
# What pip needs besides the project's own requirements: pip itself, and the build backend for pre-commit's
# `pip install .` of a repository (PEP 517 build isolation installs it from the wheelhouse too).
INSTALL_TOOLS = ("pip", "setuptools")
# Written at install time, not part of a wheel; RECORD is written anew with the files actually packed.
INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
# Deflate level: the wheels are read once, on this machine; speed matters more than size.
FAST = 1


@dataclass(frozen=True)
class Wheelhouse:
    folder: Path
    wheel: Path  # this project's wheel, built from its sdist
    sdist: Path

    def pip_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """See offline_pip_env."""
        return offline_pip_env(self.folder, base)


def offline_pip_env(folder: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment in which every pip (a venv's, pre-commit's, build isolation's) sees only folder.

    This machine's pip configuration adds find-links, extra indexes and a constraints file: the config file
    and the constraint are blanked so pip consults nothing but the wheelhouse.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("PIP_")}
    env.pop("PYTHONPATH", None)  # the child must import what it installed, never this checkout
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(folder),
        PIP_CONSTRAINT="",
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        VIRTUALENV_NO_PERIODIC_UPDATE="1",  # virtualenv would otherwise ask PyPI for newer seed wheels
        VIRTUALENV_NO_DOWNLOAD="1",
    )
    return env


def build_wheelhouse(source: Path, folder: Path, scratch: Path) -> Wheelhouse:
    """The project's sdist and wheel, and wheels of its requirements and INSTALL_TOOLS, in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel, sdist = build_project(source, folder, scratch)
    for dist in requirement_closure([*wheel_requirements(wheel), *INSTALL_TOOLS]):
        repack(dist, folder)
    return Wheelhouse(folder, wheel, sdist)


def build_project(source: Path, outdir: Path, scratch: Path) -> tuple[Path, Path]:
    """`python -m build --no-isolation` on a copy of the working tree, so the build's egg-info and build/
    never land in a checkout that other people (and other tests) are using."""
    copy = scratch / "source"
    shutil.copytree(source, copy, ignore=SOURCE_IGNORE, symlinks=True)
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(copy)]
    done = subprocess.run(command, capture_output=True, text=True, env=offline_pip_env(outdir))
    if done.returncode:
        raise RuntimeError(f"python -m build failed:\n{done.stdout}\n{done.stderr}")
    (wheel,) = outdir.glob("*.whl")
    (sdist,) = outdir.glob("*.tar.gz")
    return wheel, sdist


def wheel_requirements(wheel: Path) -> list[str]:
    """Requires-Dist of the built wheel: what the project declares now, not what an editable install knew."""
    message = email.message_from_string(read_member(wheel, ".dist-info/METADATA"))
    return message.get_all("Requires-Dist") or []


def read_member(archive: Path, suffix: str) -> str:
    """The one member of a wheel whose name ends with suffix, as text."""
    with zipfile.ZipFile(archive) as opened:
        (name,) = [name for name in opened.namelist() if name.endswith(suffix)]
        return opened.read(name).decode()


def installed() -> dict[str, metadata.Distribution]:
    """The test environment's distributions by canonical name, the first on sys.path winning as in import.

    Only those with a RECORD count: an egg-info folder in the checkout (on sys.path through pytest's
    pythonpath) describes no installed files.
    """
    found: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():
        if dist.read_text("RECORD") is not None:
            found.setdefault(canonicalize_name(dist.metadata["Name"]), dist)
    return found


def requirement_closure(requirements: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions that satisfy requirements, and theirs in turn, by markers and extras."""
    available = installed()
    wanted: dict[str, set[str]] = {}
    queue = [requirement for requirement in map(Requirement, requirements) if applies(requirement, set())]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        seen = name in wanted
        extras = wanted.setdefault(name, set())
        if seen and set(requirement.extras) <= extras:
            continue
        extras |= set(requirement.extras)
        queue.extend(dependencies(find(available, requirement), extras))
    return [available[name] for name in sorted(wanted)]


def find(available: Mapping[str, metadata.Distribution], requirement: Requirement) -> metadata.Distribution:
    """The installed distribution for requirement; a missing or too old one is a setup error worth naming."""
    dist = available.get(canonicalize_name(requirement.name))
    if dist is None or not requirement.specifier.contains(dist.version, prereleases=True):
        have = dist.version if dist else "nothing"
        raise LookupError(f"{requirement} is needed but {have} is installed: pip install -e '.[test]'")
    return dist


def dependencies(dist: metadata.Distribution, extras: set[str]) -> Iterator[Requirement]:
    """dist's requirements that apply here."""
    for text in dist.requires or []:
        requirement = Requirement(text)
        if applies(requirement, extras):
            yield requirement


def applies(requirement: Requirement, extras: set[str]) -> bool:
    """Whether requirement's marker holds on this interpreter, with no extra or with one of extras."""
    marker = requirement.marker
    return marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *extras})


def repack(dist: metadata.Distribution, outdir: Path) -> Path:
    """A wheel of an installed distribution: the files its RECORD lists inside site-packages, a fresh RECORD.

    Files outside site-packages (`../` paths: console scripts, data) are left out, since pip makes the
    scripts again from entry_points.txt; so are byte-code caches and the files pip writes at install time.
    """
    target = outdir / wheel_filename(dist)
    info_dir = dist_info_dir(dist)
    rows = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=FAST) as wheel:
        for name in packed_files(dist, info_dir):
            source = Path(dist.locate_file(name))
            data = source.read_bytes()
            wheel.writestr(zip_info(name, source), data, compresslevel=FAST)
            rows.append((name, record_hash(data), str(len(data))))
        rows.append((f"{info_dir}/RECORD", "", ""))
        wheel.writestr(f"{info_dir}/RECORD", csv_text(rows))
    return target


def packed_files(dist: metadata.Distribution, info_dir: str) -> list[str]:
    """The RECORD entries that belong in a wheel, as posix paths relative to site-packages."""
    names = []
    for path in dist.files or []:
        parts = path.parts
        if parts[0] == ".." or "__pycache__" in parts or path.suffix == ".pyc":
            continue
        if parts[0] == info_dir and path.name in INSTALL_ONLY:
            continue
        names.append(path.as_posix())
    return sorted(names)


def dist_info_dir(dist: metadata.Distribution) -> str:
    """The .dist-info folder's name, as installed (pip accepts any that canonicalises to the project)."""
    (name,) = {path.parts[0] for path in dist.files or [] if path.parts[0].endswith(".dist-info")}
    return name


def wheel_filename(dist: metadata.Distribution) -> str:
    """`{name}-{version}-{tag}.whl` with the name and version escaped as the wheel spec says."""
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    version = str(Version(dist.version)).replace("-", "_")
    return f"{name}-{version}-{compressed_tag(wheel_tags(dist))}.whl"


def wheel_tags(dist: metadata.Distribution) -> list[str]:
    """The Tag: lines of the distribution's WHEEL file, in order."""
    text = dist.read_text("WHEEL")
    if text is None:
        raise LookupError(f"{dist.metadata['Name']} was not installed from a wheel: it has no WHEEL file")
    return email.message_from_string(text).get_all("Tag") or []


def compressed_tag(tags: list[str]) -> str:
    """py2-none-any + py3-none-any -> py2.py3-none-any: the compressed tag set, when the tags are exactly
    every combination of their parts; otherwise the first tag (enough for pip on this machine)."""
    split = [tag.split("-") for tag in tags]
    columns = [list(dict.fromkeys(part[i] for part in split)) for i in range(3)]
    if len(columns[0]) * len(columns[1]) * len(columns[2]) == len(set(tags)):
        return "-".join(".".join(column) for column in columns)
    return tags[0]


def zip_info(name: str, source: Path) -> zipfile.ZipInfo:
    """The member's header with the file's mode (executable bits survive) and a valid zip time."""
    info = zipfile.ZipInfo.from_file(source, name, strict_timestamps=False)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csv_text(rows: list[tuple[str, str, str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
