"""Mastodon: everything that talks to a server, through one HTTP choke point (`http`) that sends the token,
censors it, bounds every exchange, paces to the rate limits and retries only what is safe to retry.

Exports: `client.MastodonClient` (typed endpoints), `clients.make_clients` (one per account, tokens from the
environment), `uploads.MediaUploader`, `instance` (limits read from the server), `reconcile` and `copies`
(finding a status the state file does not know), `login` (OAuth and whoami).
"""
