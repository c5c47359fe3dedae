"""The operators' dashboard: a mountable Starlette app (`app.dashboard_app`) over the store's
events, bans and trap flags, behind a token or the operator's own check. See docs/dashboard.md.

Owns its settings section (`settings`), authentication (`auth`), the data it reads
(`data`: the one module that touches the store), the chart's geometry (`charts`), templates
and static files. May import `shield`, `support` and the pipeline core; nothing imports it
but `settings` (the section model) and the demo. This `__init__` stays import-free because
`scrapeshield.settings` imports the section model from `dashboard.settings`.
"""
