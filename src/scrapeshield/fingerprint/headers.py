"""Header consistency: what a real browser with this user agent would send, and this one did not.

Runs only for user agents that parse as a browser and are not catalogue bots (a declared bot is
judged by its name, not its headers). Each rule names the browser behaviour it relies on:

  headers/no-accept-language   Chrome, Firefox, Safari and Edge send Accept-Language on every
                               navigation and subresource request (from the UI language).
  headers/no-accept-encoding   every current browser advertises gzip/deflate/br on every request;
                               HTTP libraries (curl, urllib) send none by default.
  headers/accept-any-navigation  a browser navigating to a page sends Accept: text/html,...;
                               `*/*` (or no Accept) is what HTTP libraries send. Skipped when
                               Sec-Fetch-Mode says the request is not a navigation (fetch/XHR).
  headers/http10               no current browser speaks HTTP/1.0.
  headers/chromium-no-sec-fetch  Chromium >= 80 sends Sec-Fetch-Site/Mode/Dest, but only to
                               secure contexts (HTTPS or localhost); never judged on plain HTTP.
  headers/chromium-no-client-hints  Chromium >= 90 (desktop and Android, not iOS/WebView) sends
                               Sec-CH-UA on secure contexts by default; never judged on plain HTTP.
  headers/firefox-client-hints  Firefox implements no User-Agent Client Hints, so a Firefox UA
                               that sends Sec-CH-UA is a Chromium-based tool in disguise.
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.uaclass import UAClassifier, UAInfo
from scrapeshield.signals import Signal

CHROMIUM = frozenset(
    {"Chrome", "Chrome Mobile", "Edge", "Opera", "Brave", "Vivaldi", "Yandex Browser"}
)
FIREFOX = frozenset({"Firefox", "Firefox Mobile", "Firefox Beta", "Firefox Nightly"})
_PAGE_GROUPS = frozenset({"default", "pages", "page"})


def _major(info: UAInfo) -> int:
    return int(info.major) if info.major.isdigit() else 0


def check(facts: Facts, info: UAInfo) -> list[Signal]:
    """The header-consistency signals for one request from a browser-looking user agent."""
    h = facts.headers
    out: list[Signal] = []
    if "accept-language" not in h:
        out.append(Signal("headers/no-accept-language", 20.0, f"{info.family} always sends it"))
    if "accept-encoding" not in h:
        out.append(Signal("headers/no-accept-encoding", 20.0, f"{info.family} always sends it"))
    mode = h.get("sec-fetch-mode", "")
    accept = h.get("accept", "").strip()
    if (
        facts.method == "GET"
        and facts.route_group in _PAGE_GROUPS
        and mode in ("", "navigate")
        and accept in ("", "*/*")
    ):
        shown = accept or "none"
        out.append(Signal("headers/accept-any-navigation", 15.0, f"Accept: {shown} on a page"))
    if facts.http_version == "1.0":
        out.append(Signal("headers/http10", 20.0, "no current browser speaks HTTP/1.0"))
    chromium = info.family in CHROMIUM and info.os != "iOS"
    if chromium and facts.secure_context:
        if _major(info) >= 80 and "sec-fetch-mode" not in h and "sec-fetch-site" not in h:
            detail = f"{info.family} {info.major} sends Sec-Fetch-* to secure contexts"
            out.append(Signal("headers/chromium-no-sec-fetch", 25.0, detail))
        if _major(info) >= 90 and "sec-ch-ua" not in h:
            detail = f"{info.family} {info.major} sends Sec-CH-UA to secure contexts"
            out.append(Signal("headers/chromium-no-client-hints", 15.0, detail))
    if info.family in FIREFOX and "sec-ch-ua" in h:
        detail = "Firefox sends no client hints; Sec-CH-UA means a Chromium-based client"
        out.append(Signal("headers/firefox-client-hints", 40.0, detail))
    return out


class HeaderConsistencyDetector(Immediate):
    name = "headers"
    uses_store = False

    def __init__(self, classifier: UAClassifier) -> None:
        self.classifier = classifier

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        if not facts.user_agent.strip():
            return ()
        info = self.classifier.classify_noted(facts.user_agent, ctx.notes)
        if not info.is_browser:
            return ()
        return check(facts, info)
