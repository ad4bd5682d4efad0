"""What `publish import` did, for people and as JSON."""

from __future__ import annotations

from publisher.output.document import JSON_VERSION, json_document


def import_text(result) -> str:
    verb = "would record" if result.dry_run else "recorded"
    lines = [f"{verb} {imported.post_id} -> {imported.url or '(scheduled)'}" for imported in result.matched]
    for imported in result.matched:
        lines += [f"  differs from its file, the next sync edits it: {note}" for note in imported.differs]
    lines += [f"wrote {path}" for path in result.written]
    lines += [f"skipped {reason}" for reason in result.skipped]
    if result.unmatched and not result.written:
        lines.append(f"{len(result.unmatched)} statuses have no post file (--write-files DIR writes them)")
    summary = (
        f"Import: {len(result.matched)} {verb}, {len(result.written)} files written, "
        f"{len(result.unmatched)} statuses without a file; {result.requests} requests, nothing sent."
    )
    return "\n".join([*lines, summary]) + "\n"


def import_json(result) -> str:
    document = {
        "version": JSON_VERSION,
        "dry_run": result.dry_run,
        "matched": [
            {"post": item.post_id, "url": item.url, "differs": list(item.differs)} for item in result.matched
        ],
        "written": list(result.written),
        "unmatched": list(result.unmatched),
        "skipped": list(result.skipped),
        "requests": result.requests,
    }
    return json_document(document)
