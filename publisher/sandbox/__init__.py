"""A local Mastodon-compatible server: the test suite's fake and `publish sync --sandbox`'s target."""

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
