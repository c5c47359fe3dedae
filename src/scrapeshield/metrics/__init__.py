"""Prometheus metrics (the `prometheus` extra): decisions, challenges, budgets, the store and
the middleware's own added latency, with bounded label values (never a client address or a
raw path). See docs/dashboard.md#metrics.

Owns the metrics section (`settings`), the label vocabulary (`labels`) and the collectors
(`core`, the only module that imports prometheus_client). May import the pipeline core; never
`shield` or `middleware` (they wire it). This `__init__` stays import-free because
`scrapeshield.settings` imports the section model from `metrics.settings`.
"""
