"""Policy: declarative rules and score thresholds turn signals into one verdict.

Owns the packaged default policy (`default.toml`: weights and rules, as data) and its engine.
May import `signals`, `patterns`, `errors` and the settings models; never a detector, the store
or the shield.
"""

from scrapeshield.policy.engine import Policy, Verdict, load_default_policy

__all__ = ["Policy", "Verdict", "load_default_policy"]
