"""One Mastodon client per account: its token read from the environment, its requests bounded by the run.

Exports ClientFactory (name, account, token -> MastodonClient), make_clients, token_for and the factories."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from publisher.clock import Clock
from publisher.errors import MissingToken
from publisher.source.config import Account, Config
from publisher.source.untrusted import token_from

if TYPE_CHECKING:  # the network stack (requests, tenacity) is imported only when a client is made
    from publisher.mastodon.client import MastodonClient

ClientFactory = Callable[[str, Account, str], "MastodonClient"]


def make_clients(
    config: Config, accounts: Iterable[str], environ: Mapping[str, str], factory: ClientFactory
) -> dict[str, MastodonClient]:
    """One client per account; every token is checked before anything is sent."""
    needed = sorted(set(accounts))
    tokens = {name: token_for(name, config.accounts[name], environ) for name in needed}
    return {name: factory(name, config.accounts[name], tokens[name]) for name in needed}


def token_for(name: str, account: Account, environ: Mapping[str, str]) -> str:
    """The account's token; MissingToken when unset, InvalidToken when it could not go in a header."""
    token = token_from(environ, account.token_env, name)
    if token is None:
        raise MissingToken(account.token_env, name)
    return token


def finishing_by(factory: ClientFactory, started: datetime, max_duration: float | None) -> ClientFactory:
    """`factory`, its clients told the run's end, so no request of theirs outlasts --max-duration."""
    if max_duration is None:
        return factory
    ends_at = started + timedelta(seconds=max_duration)

    def make(name: str, account: Account, token: str) -> MastodonClient:
        client = factory(name, account, token)
        client.finish_by(ends_at)
        return client

    return make


def one_client_per_account(factory: ClientFactory) -> ClientFactory:
    """`factory`, making each account's client once: the run reads the limits, checks the token and publishes
    over one connection per account, and its pacing knows the rate-limit budget from the first answer on."""
    made: dict[tuple[str, str], MastodonClient] = {}

    def make(name: str, account: Account, token: str) -> MastodonClient:
        if (name, token) not in made:
            made[name, token] = factory(name, account, token)
        return made[name, token]

    return make


def default_client_factory(clock: Clock) -> ClientFactory:
    def factory(name: str, account: Account, token: str) -> MastodonClient:
        from publisher.mastodon.client import MastodonClient
        from publisher.mastodon.http import HttpClient
        from publisher.mastodon.network_errors import TokenSource

        source = TokenSource(name, account.token_env)  # so that a 401 names the variable to fix
        return MastodonClient(HttpClient(account.instance, token, clock=clock, token_source=source), clock)

    return factory
