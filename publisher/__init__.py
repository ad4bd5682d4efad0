"""publish: a declarative batch publishing pipeline for Mastodon."""

__version__ = "0.1.0"
# PyPI's `publish` is an unrelated project: ours is installed by this name, and the command stays `publish`.
DISTRIBUTION = "mastodon-publish"
# Where the GitHub Action (action.yml at the repository root) lives: `uses: <this>@v<version>`.
ACTION_REPOSITORY = "mastodon-publish/publish"
