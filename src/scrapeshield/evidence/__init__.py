"""Evidence for artists and takedowns: which directives were in force for each response, a
bounded sample of what known crawlers were served, and signed reports of both.

The shield records through `recorder.Evidence` (`states.DirectiveStates`,
`served.ServedSampler`); `scrapeshield.operators`
reads the events back and `report` builds, signs and verifies a report (`scrapeshield
evidence`). May import `blocklog`, `directives`, `store` and `settings_base`; never `shield`.
"""

from __future__ import annotations

from scrapeshield.evidence.settings import EvidenceSettings

__all__ = ["EvidenceSettings"]
