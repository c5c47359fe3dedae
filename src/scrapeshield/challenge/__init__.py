"""The challenge action: a proof-of-work page, a no-JS fallback and a signed pass cookie.

This package's `__init__` stays import-free because `scrapeshield.settings` imports the
section model from `challenge.settings`; the wiring lives in `challenge.core`.
"""
