"""How long a person looks at a page, scaled down so a 60-artwork visit fits the wall budget.

People spend seconds to tens of seconds per artwork. Scaling every pause down by the same
factor keeps the *order* and *mix* of requests a person makes but packs them into less time, so
every per-window count (rate limits, behaviour windows) sees a denser visitor than a real one:
if the compressed person is never refused, the real one is not either. The pause never drops
below 0.3 s, about the fastest a person clicks through pages.
"""

from __future__ import annotations

import random

ARTWORKS = 60
MIN_PAUSE = 0.3


def scaled_pause(rng: random.Random, seconds_budget: float) -> float:
    """A pause whose mean lets ARTWORKS page views fit in ~70% of the budget, within 0.3-2 s."""
    mean = min(2.0, max(MIN_PAUSE, 0.7 * seconds_budget / ARTWORKS - 0.15))
    return max(MIN_PAUSE, rng.uniform(0.5 * mean, 1.5 * mean))
