"""The challenge action: a proof-of-work page, a no-JS fallback and a signed pass cookie.

Owns the challenge (`core.Challenge`: signing keys, difficulty, the page), its endpoint, the
pass detector, the page's JavaScript (`static/`; the page itself is a template of `pages/`), and
the settings section. May import the pipeline core (`detector`, `facts`, `signals`, `actions`,
`store`) and `pages`; never `shield` (the shield
wires the challenge's parts) or `middleware`. This package's `__init__` stays import-free
because `scrapeshield.settings` imports the section model from `challenge.settings`.
"""
