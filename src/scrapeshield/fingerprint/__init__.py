"""Bot fingerprinting: who is calling, judged from what the request says about its sender.

Owns the crawler catalogue and its data (`data/`: agents, published crawler IP ranges, cloud
providers' published ranges, each with its source and date; `update-data` refreshes them), the
user-agent classifier, and the detectors for user agents, header consistency, verified bots
(published ranges, forward-confirmed reverse DNS), Web Bot Auth signatures and datacenter
networks, with their settings (`[fingerprint]`).

May import the pipeline core (`detector`, `facts`, `signals`, `errors`, `settings_base`,
`client`, `store`) and `ratelimit.settings` (a verified bot's group); never `shield`,
`middleware` or another defence's detectors. Kept light: importing the package imports nothing.
"""
