"""Apply: a Plan carried out through Mastodon clients, one lane per account, the state file saved after
every change on the server; what is uncertain is adopted from the server, never posted twice.

Exports: `sync.SyncRun` (apply a plan), `events.SyncEvent` (what it reports), `adopt.Adopter`,
`scheduled` (scheduled posts the server has published) and `importer.import_statuses` (`publish import`).
"""
