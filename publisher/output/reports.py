"""The short reports of `publish check` and `publish whoami`, for people and as JSON documents."""

from __future__ import annotations

from publisher.output.common import plural
from publisher.output.document import JSON_VERSION, json_document
from publisher.output.failure import problem_dict


def check_counts(project) -> dict[str, int]:
    """Post files, the statuses they make (a thread is one file, several statuses) and drafts skipped."""
    return {
        "files": len({post.source for post in project.posts}),
        "statuses": len(project.posts),
        "drafts": len(project.drafts),
    }


def check_text(project) -> str:
    """'ok: 5 files valid (8 statuses), 1 draft skipped'."""
    counts = check_counts(project)
    valid = f"{plural(counts['files'], 'file')} valid ({plural_status(counts['statuses'])})"
    return f"ok: {valid}, {plural(counts['drafts'], 'draft')} skipped\n"


def plural_status(count: int) -> str:
    return f"{count} status" if count == 1 else f"{count} statuses"


def check_json(project) -> str:
    warnings = [problem_dict(problem) for problem in project.warnings]
    document = {"version": JSON_VERSION, "valid": True, **check_counts(project), "warnings": warnings}
    return json_document(document)


def whoami_text(who) -> str:
    return f"{who.identity.handle} (account {who.account})\n"


def whoami_json(who) -> str:
    identity = who.identity
    document = {
        "version": JSON_VERSION,
        "account": who.account,
        "handle": identity.handle,
        "instance": identity.instance,
        "username": identity.username,
    }
    return json_document(document)
