"""Round eleven's structural rules (docs/detection.md, "Eleventh round"), each on the agents of
the development pools it was decided on, with the near miss it must leave as it was."""

from __future__ import annotations

from scrapeshield.fingerprint import uarules
from scrapeshield.fingerprint.catalogue import Catalogue, load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from tests.ua_labelled import Given

CLASSIFIER = UAClassifier(load_catalogue())
BARE = UAClassifier(Catalogue((), "none"))  # the heuristics alone: what an unnamed agent meets


def _bot_reason(agent: str, family: str) -> str:
    lowered = agent.lower()
    return uarules._bot_reason(lowered, uarules._words(lowered), Given(family))


def test_a_label_before_a_whole_desktop_browser_agent_is_not_a_program_naming_itself() -> None:
    """An organisation's label in the compatible; field of its desktops' browsers (dev-new's
    "StaffsStudentImage"): the whole platform and engine follow, and ua-parser names the browser."""
    for agent, family in (
        (
            "Mozilla/5.0 (compatible; StaffsStudentImage; Windows NT 6.3; WOW64; rv:26.0)"
            " Gecko/20100101 Firefox/26.0",
            "Firefox",
        ),
        (
            "Mozilla/5.0 (compatible; StaffsStudentImage; Windows NT 6.3; WOW64) AppleWebKit/537.36"
            " (KHTML, like Gecko) Chrome/35.0.1916.114 Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (compatible; StaffsStudentImage; Windows NT 6.3; WOW64; Trident/7.0;"
            " rv:11.0) like Gecko",
            "IE",
        ),
    ):
        assert not _bot_reason(agent, family), agent
        assert not CLASSIFIER.classify(agent).is_bot, agent
    # A program's name with no browser after it, or one ua-parser does not name, still counts.
    assert "compatible" in _bot_reason("Mozilla/5.0 (compatible; FooFetch/1.0; Linux x86_64)", "")
    labelled = "Mozilla/5.0 (compatible; FooFetch; Windows NT 6.3; WOW64; rv:26.0) Gecko/20100101"
    assert "compatible" in _bot_reason(labelled, "Other")


def test_windows_written_short_is_a_desktop_apps_platform() -> None:
    """GOG Galaxy's client ("(win10 x64)"; dev-A browsers); a product token with no platform,
    or with one anyone writes, is still a program's own."""
    build = "83b6745cff679691b69876bc7ee33e05e5d90bda"
    gog = f"GOGGalaxyClient/2.0.60.2 (GOG Galaxy) {build} (win10 x64)"
    assert not _bot_reason(gog, "Other")
    assert not CLASSIFIER.classify(gog).is_bot
    for tool in ("FooClient/2.0 (GOG Galaxy)", "FooClient/2.0 (win32)", "FooClient/2.0 (win10)"):
        assert "product token" in _bot_reason(tool, "Other"), tool


def test_the_kernel_as_the_product_is_a_librarys_request() -> None:
    """Matomo's tracker SDK on watchOS (dev-A and dev-B bots, named in the catalogue) is caught
    by structure too, though a watch's marker spares agents not in browser form; an app that
    names itself before CFNetwork and Darwin is spared as before."""
    sdk = "Darwin/25.6.0 (Watch7,18; watchOS 26.6) MatomoTrackerSDK/7.8.0"
    assert "kernel" in _bot_reason(sdk, "Other")
    assert BARE.classify(sdk).is_bot
    app = "Foo/1.2 CFNetwork/1240.0.4 Darwin/20.6.0"
    assert not _bot_reason(app, "CFNetwork")
