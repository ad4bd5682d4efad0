"""Plan: what the state file records (and, with --refresh, what the server shows) against what the posts
want, as a Plan of creates, edits, moves and deletes. Pure functions; the state file is its only I/O.

Exports: `changes.compute_plan` -> `changes.Plan`; `state.State` and `state.StateStore` (the state file);
`safety.check_safety` and `plan_checks.plan_problems` (plans refused before anything is sent).
"""
