"""Scaffold: `publish init` and `publish new` write a repository's starting files from the ones in this
folder, never over the user's own.

Exports: `starter.init_repository`, `starter.init_report` and `starter.new_post`.
"""
