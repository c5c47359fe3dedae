"""Identity: who a client is above its address, and what it may take in a person's units.

Owns the visitor token (a signed cookie issued with pages, `token`), the header fingerprint
(`fingerprint`), the identity and originals-budget detector with its signals (`detector`,
`identity/*`, `budget/*`), the store operations it queues (`ops`) and its settings
(`[identity]`). See docs/identity.md.

May import the pipeline core (`detector`, `facts`, `signals`, `bans`, `settings_base`, `store`)
and `challenge.tokens` (the signer and the client binding it shares with the pass); never
`shield`, `middleware` or another defence's detectors. Kept light: importing the package
imports nothing.
"""
