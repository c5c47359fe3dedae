"""Structural rules of rounds eleven to seventeen (docs/log/detection.md, "Round 11" to
"Round 17"), each on the agents of the development pools it was decided on, with the near
miss it must leave as it was."""

from __future__ import annotations

from scrapeshield.fingerprint import uarules
from scrapeshield.fingerprint.catalogue import Catalogue, load_catalogue
from scrapeshield.fingerprint.uaclass import UAClassifier
from tests.ua_labelled import Given

CLASSIFIER = UAClassifier(load_catalogue())
BARE = UAClassifier(Catalogue((), "none"))  # the heuristics alone: what an unnamed agent meets


def _bot_reason(agent: str, family: str) -> str:
    lowered = agent.lower()
    return uarules._bot_reason(lowered, Given(family))


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


# Round twelve (docs/log/detection.md, "Twelfth round").


def test_geckos_bare_token_after_the_platform_comment_is_an_engine() -> None:
    """2000s distributions' builds wrote "Gecko" without its date (dev-new browsers); the word
    glued to a name, or inside the comment, is not the engine's token."""
    for agent in (
        "Mozilla/5 (Solaris 10) Gecko",
        "Mozilla/5.0 (X11; U; Gentoo Linux x86_64; pl-PL) Gecko Firefox",
        "Mozilla/5.0 (X11; U; Linux; i686; en-US; rv:1.6) Gecko Debian/1.6-7",
    ):
        assert not _bot_reason(agent, "Other"), agent
        assert not CLASSIFIER.classify(agent).is_bot, agent
    for tool in ("Mozilla/5.0 (X11; Linux) GeckoFetch", "Mozilla/5.0 (X11; Gecko; Linux)"):
        assert "no browser" in _bot_reason(tool, "Other"), tool


def test_japans_carriers_are_phone_markers() -> None:
    """SoftBank's, J-PHONE's and DDI Pocket's handsets name the carrier first (dev-new browsers,
    a dev-A app); a carrier's crawler is still caught by its bot word and URL."""
    for agent, family in (
        ("SoftBank/1.0/821SC/SCJ001/SN000000000000000 Flash/Flash-Lite/2.0", "Other"),
        ("J-PHONE/2.0/J-P03", "Other"),
        ("Mozilla/3.0(DDIPOCKET;JRC/AH-J3001V,AH-J3002V/1.0/0100/c50)CNF/2.0", "Other"),
    ):
        assert not _bot_reason(agent, family), agent
    crawler = (
        "KDDI-CA34 UP.Browser/6.2.0.10.2.2(GUI)MMP/2.0 (compatible; KDDI-Googlebot-Mobile/2.1;"
        " http://www.google.com/bot.html)"
    )
    assert _bot_reason(crawler, "Other")
    assert "product token" in _bot_reason("SoftBankFetch/1.0", "Other")


def test_operas_netscape_era_form_is_a_browser() -> None:
    """Opera under its own name, or as Mozilla/5.0 with the [language] after the comment, with
    the encryption field of that era (dev-new browsers); the bare comment is still flagged."""
    for agent in (
        "Opera/6.x (Linux 2.4.8-26mdk i686; U) [en]",
        "Opera/8.xx (Windows NT 5.1; U; en)",
        "Mozilla/5.0 (NetBSD 1.6.2; U) [en]",
    ):
        assert not _bot_reason(agent, "Other"), agent
    for tool in ("Opera/6.x (Linux 2.4.8-26mdk i686)", "Mozilla/5.0 (NetBSD 1.6.2; U)"):
        assert "no browser" in _bot_reason(tool, "Other"), tool


def test_an_ie_agent_copied_into_ies_comment_is_not_a_contact() -> None:
    """An embedding component's default agent, URL and all, left in IE's registry entry
    (dev-new browsers); a URL outside the copy is still the client's contact."""
    copy = "User-agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; http://bsalsa.com)"
    ie = f"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; {copy} (none); SLCC2)"
    assert not _bot_reason(ie, "IE")
    assert not CLASSIFIER.classify(ie).is_bot
    tool = f"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; {copy}; +http://example.org/bot)"
    assert "URL" in _bot_reason(tool, "IE")
    alone = "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; http://example.org)"
    assert "URL" in _bot_reason(alone, "IE")


def test_a_bare_dotted_word_after_a_browsers_tokens_is_no_address() -> None:
    """Issue 16: a domain heuristic needs a real URL or address form, not a dotted word. A dotted
    name after the browser's tokens (a host, an app's package id, a shop's domain, a brand) is
    not judged on its own; the same name in an address form still is (round twelve's
    dotted-name rule, which read it as a host, was dropped on 2026-12-06)."""
    chrome = (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/48.0.2564.103 Safari/537.36"
    )
    for word in ("Yandex.Translate", "myapp.android", "shop.de", "Ask.com Mobile Browser"):
        browser = f"{chrome} {word}"
        assert not _bot_reason(browser, "Chrome"), browser
        assert not BARE.classify(browser).is_bot, browser
    for tool in (f"{chrome} +http://printfriendly.com", f"{chrome} bot@printfriendly.com"):
        assert BARE.classify(tool).is_bot, tool


def test_the_headers_own_name_before_its_value_is_a_pasted_line() -> None:
    """Round thirteen: "User-Agent: " leading the value (dev-new's HTTP::BrowserDetect robot): a
    header line pasted whole into a script's setting. The name inside a browser's own comment (an
    IE agent copied into IE's comment) is not at the start, and stays as it was."""
    pasted = (
        "User-Agent: Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.9.1) Gecko/20090624"
        " Firefox/3.5"
    )
    for agent in (pasted, pasted.replace("User-Agent: ", "user-agent:")):
        assert "header's own name" in _bot_reason(agent, "Firefox"), agent
        assert BARE.classify(agent).is_bot, agent
    assert not _bot_reason(pasted.removeprefix("User-Agent: "), "Firefox")
    copied = (
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; User-agent: Mozilla/4.0"
        " (compatible; MSIE 6.0; Windows NT 5.1; SV1; http://bsalsa.com) (none); .NET CLR"
        " 2.0.50727)"
    )
    assert not _bot_reason(copied, "IE")


def test_a_dotted_last_comment_after_the_browsers_tokens_is_not_read_as_a_host() -> None:
    """Round fourteen's host rule (a host alone as the last comment after a version and words:
    dev-new's research scanner) was dropped at merge: the issue asks domain heuristics for a
    URL or address form, and an in-app browser writes its package id or shop's site in that
    place. A dotted last comment alone is no bot's evidence."""
    chrome = (
        "Mozilla/5.0 (Linux; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/120.0.6099.43 Mobile Safari/537.36"
    )
    for browser in (
        f"{chrome} MyApp/1.2 (com.myapp.android)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML,"
        " like Gecko) Mobile/15E148 Shop 4.2 (shop.example.de)",
    ):
        assert not CLASSIFIER.classify(browser).is_bot, browser
        assert not BARE.classify(browser).is_bot, browser


def test_konquerors_name_and_psions_epoc_are_a_browsers_evidence() -> None:
    """Round fourteen: Konqueror's name with a version ua-parser does not read and EPOC, Psion's
    system, are positive evidence of a browser (dev-new's Parse::HTTP::UserAgent agents); a
    bot word still wins, and a word that only holds them is not read."""
    for browser in (
        "Mozilla/5.0 (compatible; Konqueror/3; Linux)",
        "Mozilla/5.0 (compatible; Konqueror/3; Darwin)",
        "Opera/v5.12 (EPOC; U) [en]",
    ):
        assert not BARE.classify(browser).is_bot, browser
    for bot in (
        "Mozilla/5.0 (compatible; Konqueror/3.5; Linux) KHTML/3.5.5 (like Gecko)"
        " (Exabot-Thumbnails)",
        "Mozilla/5.0 (compatible; XKonqueror/3; Linux)",
        "Opera/v5.12 (EPOCH; U) [en]",
    ):
        assert BARE.classify(bot).is_bot, bot


def test_round_fifteens_catalogue_names_and_whatsapps_two_forms() -> None:
    """Round fifteen: Havij (CRS's scanner tests) and Apple's nscurl (Matomo's library fixtures)
    are named; WhatsApp's link-preview token is read in its fetcher's two forms only, so the
    desktop app's Electron agent (a 2022-on browser of Matomo's fixtures) is no longer taken
    for the fetcher."""
    named = {
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; SV1; .NET CLR 2.0.50727) Havij": (
            "Security scanners (Matomo, isbot)"
        ),
        "nscurl/3870.100.1 CFNetwork/3870.100.1 Darwin/26.0.0": "curl",
        "WhatsApp": "WhatsApp",
        "WhatsApp/2.19.81 A": "WhatsApp",
        "WhatsApp/2.12.15/i": "WhatsApp",
    }
    for agent, name in named.items():
        found = CLASSIFIER.classify(agent)
        assert found.is_bot, agent
        assert found.agent is not None, agent
        assert found.agent.name == name, agent
    electron = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " whatsapp-linux-app/1.0.0 Chrome/120.0.6099.216 Electron/28.1.4 Safari/537.36"
    )
    assert not CLASSIFIER.classify(electron).is_bot
    assert CLASSIFIER.classify("Mozilla/5.0 (compatible; WhatsApp Bot)").agent is None


def test_the_fields_after_an_android_models_build_field_are_read() -> None:
    """Round seventeen: in an Android comment the fields after the model's `Build/` field are not
    device-model text (a WebView's `wv`, a locale, a ROM's name), so the rules read them: Yahoo
    Japan's crawler names itself and its URL there (dev-new). The model field before it, a model
    written again with its own `Build/`, and a model with no `Build/` stay unread."""
    yahoo = (
        "Mozilla/5.0 (Linux; U; Android 2.3.3; ja-jp; sdk Build/GRI34; Y!J-BRZ/YATSHA crawler;"
        " http://help.yahoo.co.jp/help/jp/search/indexing/indexing-15.html) AppleWebKit/533.1"
        " (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1"
    )
    assert "URL" in _bot_reason(yahoo, "Android")
    assert BARE.classify(yahoo).is_bot
    no_url = yahoo.replace(" http://help.yahoo.co.jp/help/jp/search/indexing/indexing-15.html", "")
    assert "bot-like word 'crawl'" in _bot_reason(no_url, "Android")
    engine = ") AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile"
    for comment in (
        "Linux; Android 8.1.0; M bot 60 Build/O11019; wv",  # a phone named "M bot 60"
        "Linux; U; Android 4.0.4; en-us; M bot 60 Build/IMM76D; M bot 60 Build/IMM76D",
        "Linux; Android 8.1.0; M bot 60",
        "Linux; U; Android 4.2.2; en-us; GT-I9100 Build/JDQ39; CyanogenMod-10.1",
        "Linux; Android 14; CUBOT KINGKONG 9 Build/UP1A.231005.007; wv",
    ):
        browser = f"Mozilla/5.0 ({comment}{engine} Safari/537.36"
        assert not _bot_reason(browser, "Chrome Mobile WebView"), browser
        assert not BARE.classify(browser).is_bot, browser


def test_another_browsers_version_in_ies_comment_is_a_made_up_mix() -> None:
    """Round seventeen: Internet Explorer writes no other browser's or engine's version token
    in its comment (dev-new's `(compatible; MSIE 9.0; Firefox/50.1) Daum/4.1`). Chrome Frame's
    token and a browser writing its own after the comment are not such a token."""
    for bot in (
        "Mozilla/5.0 (compatible; MSIE 9.0; Firefox/50.1) Daum/4.1",
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Chrome/41.0.2272.101)",
    ):
        assert "another browser's version" in _bot_reason(bot, "IE"), bot
        assert BARE.classify(bot).is_bot, bot
    for browser in (
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; chromeframe/11.0.696.57)",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0) chromeframe/10.0.648.205",
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; en) Opera 8.50",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; Trident/5.0) Core/1.63.5514.400"
        " QQBrowser/10.1.1688.400",
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SlimChrome/1.0)",  # glued
    ):
        assert not _bot_reason(browser, "IE"), browser
        assert not BARE.classify(browser).is_bot, browser
