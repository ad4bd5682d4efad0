"""publish: a declarative batch publishing pipeline for Mastodon."""

__version__ = "0.1.0"
