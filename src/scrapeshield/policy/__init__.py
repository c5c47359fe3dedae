"""Policy: declarative rules and score thresholds turn signals into one `Decision`."""

from scrapeshield.policy.engine import Policy, Verdict, load_default_policy

__all__ = ["Policy", "Verdict", "load_default_policy"]
