"""`/license.xml`: an RSL 1.0 licence (Really Simple Licensing) from the same preferences.

RSL 1.0 (RSL Technical Steering Committee, Recommendation of 2025-11-06, namespace
`https://rslstandard.org/rsl`, media type `application/rsl+xml`) states, per `<content url>`
pattern (robots.txt matching rules), what a `<license>` `permits` and `prohibits` (usage tokens
`all`, `ai-all`, `ai-train`, `ai-input`, `ai-index`, `search`) and at what `payment`. We write
one `<content>` per path preference (longest first) and one for the whole site (`/`):
training is prohibited where `train_ai = false`, `search` too where `search = false`. With a
payment configured, training there is instead permitted for that payment (a licence offered, not
given away). It is announced by robots.txt (`License: <url>`) and `<link rel="license">` in HTML.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.served import StaticDocument
from scrapeshield.directives.settings import DirectivesSettings, Preferences

RSL_NAMESPACE = "https://rslstandard.org/rsl"
RSL_MEDIA_TYPE = "application/rsl+xml"


def license_url(settings: DirectivesSettings) -> str | None:
    """Where the licence is announced: `rsl_base_url` + `rsl_path` (else the path alone)."""
    if not settings.rsl:
        return None
    return (settings.rsl_base_url or "").rstrip("/") + settings.rsl_path


def _payment(settings: DirectivesSettings) -> list[str]:
    if settings.rsl_payment_type is None:
        return []
    lines = [f"      <payment type={quoteattr(settings.rsl_payment_type)}>"]
    if settings.rsl_payment_url:
        lines.append(f"        <custom>{escape(settings.rsl_payment_url)}</custom>")
    if settings.rsl_payment_amount is not None:
        amount = f"{settings.rsl_payment_amount:f}".rstrip("0").rstrip(".")
        currency = quoteattr(settings.rsl_payment_currency)
        lines.append(f"        <amount currency={currency}>{amount}</amount>")
    lines.append("      </payment>")
    return lines


def _content(
    url: str, prefs: Preferences, settings: DirectivesSettings, terms: str | None
) -> list[str]:
    """One `<content>`: usage permitted and prohibited; training licensed where paid."""
    licensed = not prefs.train_ai and settings.rsl_payment_type is not None
    uses = (("ai-train", prefs.train_ai or licensed), ("search", prefs.search))
    permitted = [use for use, allowed in uses if allowed]
    prohibited = [use for use, allowed in uses if not allowed]
    lines = [f"  <content url={quoteattr(url)}>", "    <license>"]
    if permitted:
        lines.append(f'      <permits type="usage">{",".join(permitted)}</permits>')
    if prohibited:
        lines.append(f'      <prohibits type="usage">{",".join(prohibited)}</prohibits>')
    if licensed:
        lines += _payment(settings)
    lines.append("    </license>")
    if terms:
        lines.append(f"    <terms>{escape(terms)}</terms>")
    lines.append("  </content>")
    return lines


def render_rsl(
    settings: DirectivesSettings, preferences: PreferenceResolver, terms_url: str | None = None
) -> str:
    base = (settings.rsl_base_url or "").rstrip("/")
    terms = terms_url if terms_url and terms_url.startswith(("https://", "http://")) else None
    if terms_url and terms is None and base:
        terms = base + terms_url
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<rsl xmlns="{RSL_NAMESPACE}">']
    for rule in preferences.path_rules:
        lines += _content(base + rule.prefix, rule, settings, terms)
    lines += _content(base + "/", preferences.defaults, settings, terms)
    lines.append("</rsl>")
    return "\n".join(lines) + "\n"


def rsl_endpoint(
    settings: DirectivesSettings, preferences: PreferenceResolver, terms_url: str | None = None
) -> StaticDocument:
    body = render_rsl(settings, preferences, terms_url)
    return StaticDocument(settings.rsl_path, body, RSL_MEDIA_TYPE, max_age=86_400)
