"""A local Mastodon-compatible server on 127.0.0.1: the test suite's fake and `publish sync --sandbox`'s
target. It imports nothing else of publish, so it behaves like a server of its own.

Exports: FakeMastodon (`with FakeMastodon(...) as server`), Fault (injected failures), Quirks (another
server's habits) and RecordedRequest (what it received). `python -m publisher.sandbox.server` runs it alone.
"""

from typing import TYPE_CHECKING

from .faults import Fault
from .quirks import Quirks
from .wire import RecordedRequest

if TYPE_CHECKING:
    from .server import FakeMastodon

__all__ = ["FakeMastodon", "Fault", "Quirks", "RecordedRequest"]


def __getattr__(name: str) -> object:
    # Imported lazily so `python -m publisher.sandbox.server` does not find its own module already loaded.
    if name == "FakeMastodon":
        from .server import FakeMastodon

        return FakeMastodon
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
