"""What the user agent says the client is: catalogue category, parsed browser, bot heuristics.

Signals (weights are defaults; the policy's `[weights]` and settings override them):
  ua/empty                    no User-Agent at all (every browser sends one)
  ua/oversized                longer than settings.user_agent_max_length (truncated before parsing)
  ua/category/<category>      a catalogue agent; weight by category (CATEGORY_WEIGHTS)
  bot/<name>                  which agent (weight 0: a name for the block log and `explain`)
  bot/allowed/<name>          the operator allows this agent or its category
  bot/blocked/<name>          the operator blocks its category (fingerprint.block_categories)
  ua/bot-like                 not in the catalogue, but ua-parser or the bot heuristics say bot
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.catalogue import Agent
from scrapeshield.fingerprint.settings import FingerprintSettings
from scrapeshield.fingerprint.uaclass import UA_NOTE, UAClassifier
from scrapeshield.lease.protocol import Steady
from scrapeshield.signals import Signal

EMPTY_UA = Signal("ua/empty", 50.0, "no User-Agent header: every browser sends one")
OVERSIZED_UA = Signal("ua/oversized", 30.0, "User-Agent longer than the configured cap")
BOT_LIKE_WEIGHT = 45.0
CATEGORY_WEIGHTS = {
    "ai-training": 100.0,
    "ai-search": 100.0,
    "ai-assistant": 100.0,
    "ai-dataset": 100.0,
    "scraper-tool": 100.0,
    "headless-browser": 50.0,
    "other-bot": 45.0,
    "search-engine": 0.0,
    "social-preview": 0.0,
    "feed-reader": 0.0,
    "archiver": 0.0,
    "monitor": 0.0,
}


def is_allowed(agent: Agent, settings: FingerprintSettings) -> bool:
    if agent.category in settings.block_categories:
        return False
    allowed_names = {n.lower() for n in settings.allow_agents}
    return agent.category in settings.allow_categories or agent.name.lower() in allowed_names


class UserAgentDetector(Steady, Immediate):
    """Classifies the user agent once per distinct string (bounded LRU in `UAClassifier`)."""

    name = "useragent"
    uses_store = False

    def __init__(self, classifier: UAClassifier, settings: FingerprintSettings) -> None:
        self.classifier = classifier
        self.settings = settings

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        if not facts.user_agent.strip():
            return (EMPTY_UA,)
        signals: list[Signal] = [OVERSIZED_UA] if facts.user_agent_truncated else []
        info = self.classifier.classify(facts.user_agent)
        ctx.notes[UA_NOTE] = info
        agent = info.agent
        if agent is None:
            if info.bot_reason:
                signals.append(Signal("ua/bot-like", BOT_LIKE_WEIGHT, info.bot_reason))
            return signals
        weight = CATEGORY_WEIGHTS.get(agent.category, 45.0)
        detail = f"{agent.name} ({agent.operator or 'unknown operator'}): {agent.description}"
        signals.append(Signal(f"ua/category/{agent.category}", weight, detail))
        signals.append(Signal(f"bot/{agent.name}", 0.0, f"catalogue source: {agent.source}"))
        if agent.category in self.settings.block_categories:
            detail = f"category {agent.category} in fingerprint.block_categories"
            signals.append(Signal(f"bot/blocked/{agent.name}", 0.0, detail))
        elif is_allowed(agent, self.settings) and agent.verification == "none":
            # Verifiable agents are admitted by the verified detector, after verification.
            signals.append(Signal(f"bot/allowed/{agent.name}", 0.0, "allowed by the operator"))
        return signals
