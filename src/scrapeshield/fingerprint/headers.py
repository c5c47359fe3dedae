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
  headers/firefox-no-sec-fetch, headers/safari-no-sec-fetch  Firefox >= 90 and Safari >= 16.4
                               send Sec-Fetch-* to secure contexts too; never judged on plain HTTP.
  headers/client-hints-mismatch  Chromium's Sec-CH-UA names the "Chromium" brand with the same
                               major version as the User-Agent's Chrome/NNN.
  headers/document-on-image    a browser fetches an image route as `document` only when it is
                               opened directly (a direct download), never when a page shows it.
  headers/library-order/<lib>  the fields arrive in an HTTP library's order (header_order.py).
  headers/order/<family>       the fields this family sends arrive in an order it never uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from scrapeshield.detector import Immediate, RequestContext
from scrapeshield.facts import Facts
from scrapeshield.fingerprint.header_order import OrderJudge
from scrapeshield.fingerprint.memo import Memo
from scrapeshield.fingerprint.uaclass import UAClassifier, UAInfo
from scrapeshield.lease.protocol import Steady
from scrapeshield.signals import Signal

CHROMIUM = frozenset(
    {"Chrome", "Chrome Mobile", "Edge", "Opera", "Brave", "Vivaldi", "Yandex Browser"}
)
FIREFOX = frozenset({"Firefox", "Firefox Mobile", "Firefox Beta", "Firefox Nightly"})
SAFARI = frozenset({"Safari", "Mobile Safari"})
_PAGE_GROUPS = frozenset({"default", "pages", "page"})
_CHROME_VERSION = re.compile(r"Chrome/(\d+)")
_SAFARI_VERSION = re.compile(r"Version/(\d+)(?:\.(\d+))?")
_BRAND = re.compile(r'"([^"]{1,64})"\s*;\s*v\s*=\s*"(\d{1,6})')
_LONGEST_KEPT = 2048  # characters of Accept, Sec-Fetch-Mode/-Dest, Sec-CH-UA; a browser's: ~300


def _major(info: UAInfo) -> int:
    return int(info.major) if info.major.isdigit() else 0


def _chrome_version(user_agent: str) -> int:
    m = _CHROME_VERSION.search(user_agent)
    return int(m.group(1)) if m else 0


def _safari_version(user_agent: str) -> tuple[int, int]:
    m = _SAFARI_VERSION.search(user_agent)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)


def _chromium_brand(sec_ch_ua: str) -> int | None:
    """The version of the "Chromium" brand in Sec-CH-UA (None when it names none)."""
    found = _BRAND.findall(sec_ch_ua[:512])
    return next((int(v) for brand, v in found if brand == "Chromium"), None)


def check(facts: Facts, info: UAInfo, order: OrderJudge | None = None) -> list[Signal]:
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
    family = info.family
    sec_fetch = "sec-fetch-mode" in h or "sec-fetch-site" in h
    name = ""
    if family in CHROMIUM and info.os != "iOS":
        name = "chromium"
        if facts.secure_context:
            if _major(info) >= 80 and not sec_fetch:
                detail = f"{family} {info.major} sends Sec-Fetch-* to secure contexts"
                out.append(Signal("headers/chromium-no-sec-fetch", 25.0, detail))
            if _major(info) >= 90 and "sec-ch-ua" not in h:
                detail = f"{family} {info.major} sends Sec-CH-UA to secure contexts"
                out.append(Signal("headers/chromium-no-client-hints", 15.0, detail))
        hints = h.get("sec-ch-ua")
        if hints is not None:
            claimed, real = _chromium_brand(hints), _chrome_version(facts.user_agent)
            if real and claimed != real:
                detail = f"Sec-CH-UA says Chromium {claimed}, the User-Agent Chrome/{real}"
                out.append(Signal("headers/client-hints-mismatch", 40.0, detail))
    elif family in FIREFOX:
        name = "firefox"
        if "sec-ch-ua" in h:
            detail = "Firefox sends no client hints; Sec-CH-UA means a Chromium-based client"
            out.append(Signal("headers/firefox-client-hints", 40.0, detail))
        if facts.secure_context and _major(info) >= 90 and not sec_fetch:
            detail = f"Firefox {info.major} sends Sec-Fetch-* to secure contexts"
            out.append(Signal("headers/firefox-no-sec-fetch", 40.0, detail))
    elif family in SAFARI:
        name = "safari"
        if facts.secure_context and not sec_fetch:
            version = _safari_version(facts.user_agent)
            if version >= (16, 4):
                detail = f"Safari {version[0]}.{version[1]} sends Sec-Fetch-* to secure contexts"
                out.append(Signal("headers/safari-no-sec-fetch", 40.0, detail))
    if facts.route_group == "images" and h.get("sec-fetch-dest") == "document":
        detail = "an original opened as a document: a direct download, not shown by a page"
        out.append(Signal("headers/document-on-image", 15.0, detail))
    if order is not None:
        library, consistent = order.judge(name, h)
        if library:
            detail = f"fields in {library}'s order under a {family} User-Agent"
            out.append(Signal(f"headers/library-order/{library}", 40.0, detail))
        elif not consistent and not (name == "safari" and _subresource(h)):
            detail = f"fields in an order {family} does not send"
            out.append(Signal(f"headers/order/{name}", 20.0, detail))
    return out


class HeaderConsistencyDetector(Steady, Immediate):
    """`check`, answered once per distinct input: a browser repeats its header set, so a repeat
    costs building the key (`inputs`) and one lookup. The user agent is in the key and this
    detector's classifier (the shield's one) answers the same for it every time, so the answer
    for a user agent that is no browser's (none) is kept too."""

    name = "headers"
    uses_store = False

    def __init__(self, classifier: UAClassifier, *, header_order: bool = True) -> None:
        self.classifier = classifier
        self._order = OrderJudge() if header_order else None
        self._answers: Memo[tuple[Signal, ...]] = Memo()

    def detect_now(self, facts: Facts, ctx: RequestContext) -> Sequence[Signal]:
        key = inputs(facts)
        if key is None:
            return self._judged(facts, ctx)
        found = self._answers.get(key)
        if found is None:
            found = self._judged(facts, ctx)
            self._answers.put(key, found, _chars(key))
        return found

    def _judged(self, facts: Facts, ctx: RequestContext) -> tuple[Signal, ...]:
        if not facts.user_agent.strip():
            return ()
        info = self.classifier.classify_noted(facts.user_agent, ctx.notes)
        if not info.is_browser:
            return ()
        return tuple(check(facts, info, self._order))


def inputs(facts: Facts) -> tuple[object, ...] | None:
    """Everything `check` reads, exactly (its `info` follows from the user agent): the field
    names in arrival order (which fields are present, and their order), the values of the four
    fields it reads, and the request's user agent, method, route group, HTTP version and context.
    tests/test_header_memo.py records what `check` reads and holds it to this list.

    None when the four values are longer than _LONGEST_KEPT in all: a request no browser sends,
    judged each time, as hashing such values for the memo costs more than `check` does."""
    h = facts.headers
    accept = h.get("accept", "")  # "" for an absent field too: the names tell which it is
    mode = h.get("sec-fetch-mode", "")
    dest = h.get("sec-fetch-dest", "")
    hints = h.get("sec-ch-ua", "")
    if len(accept) + len(mode) + len(dest) + len(hints) > _LONGEST_KEPT:
        return None
    return (
        facts.user_agent,
        facts.method,
        facts.route_group,
        facts.http_version,
        facts.secure_context,
        tuple(h),
        accept,
        mode,
        dest,
        hints,
    )


def _chars(key: tuple[object, ...]) -> int:
    """Characters of the client's strings a key holds (counted on a miss only)."""
    total = 0
    for part in key:
        if isinstance(part, str):
            total += len(part)
        elif isinstance(part, tuple):
            total += sum(map(len, part))
    return total


_SUBRESOURCES = frozenset({"image", "style", "script", "font", "audio", "video", "track"})


def _subresource(h: Mapping[str, str]) -> bool:
    """An image, stylesheet or script fetched by a page. Safari's published captures hold its
    navigations, fetch(), XHR and form posts only, so its order for these is unknown: not judged
    (a library's order is still recognised), lest every image a Safari user views score 20."""
    dest = h.get("sec-fetch-dest")
    if dest is not None:
        return dest in _SUBRESOURCES
    return h.get("accept", "").startswith(("image/", "text/css"))
