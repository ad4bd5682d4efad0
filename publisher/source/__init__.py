"""Load: the repository's files (publish.toml, posts, templates, media) become the statuses it wants on the
server, checked against each server's limits, or InvalidInput with every problem at once. No network.

Exports: `project.load_project` -> `project.Project` (config, DesiredStatus per status, limits); the stages it
runs top to bottom live in `load`; `config`, `posts`, `render`, `desired`, `rules`, `split` are its parts.
"""
