"""Deterrents: the `decoy` and `tarpit` actions, for clients the policy has caught.

Owns the decoy (a degraded image, answered 200, so a scraper collects nothing of value and
does not learn it was caught), the tarpit (a bounded delay before the refusal, with a cap on
concurrently delayed requests per process), their settings sections and the placeholder images
(`data/`, made once by scripts/make_decoy_placeholders.py). May import the pipeline core
(`facts`, `signals`, `actions`, `settings_base`); never `shield` (which installs both as action
handlers) or `middleware`. This package's `__init__` stays import-free because
`scrapeshield.settings` imports the section models from `deterrents.settings`.
"""
