"""The HTML preview: each status as a Mastodon-like card on one self-contained page, from a plan or from
what the sandbox server stored.

Exports: `page.write_preview` and `page.write_sandbox_preview`; `cards`, `html` and `stored` build the cards.
"""
