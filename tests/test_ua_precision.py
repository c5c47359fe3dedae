"""Issue 16's named cases: real devices are not bots, AI agents are blocked, tools are named."""

from __future__ import annotations

import pytest

from scrapeshield.fingerprint import alternation, uacues, uarules
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.catalogue_match import NAME_LISTS, AgentMatcher, words
from scrapeshield.fingerprint.uaclass import UAClassifier
from tests.ua_labelled import Given, Judge

CLASSIFIER = UAClassifier(load_catalogue())


JUDGE = Judge(CLASSIFIER)

BROWSERS = [
    # .NET CLR is not a .net domain
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; .NET CLR 2.0.50727;"
    " .NET CLR 3.5.30729)",
    # carrier names and dotted app ids are not addresses
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0;FBBV/1;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;"
    "FBSV/17.4;FBSS/3;FBCR/Telekom.de;FBID/phone;FBLC/de_DE;FBOP/5]",
    "Mozilla/5.0 (Linux; Android 16; SM-S938B Build/BP2A.250605.031; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/138.0.7204.63 Mobile Safari/537.36"
    " YJApp-ANDROID jp.co.yahoo.android.ybrowser/3.81.0",
    # device models that contain bot words or catalogue words
    "Mozilla/5.0 (Linux; Android 14; CUBOT KINGKONG 9) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; Spider 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; DART Tab) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.0.3; fr-ca; HTC_Ruby Build/IML74K) AppleWebKit/534.30"
    " (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
    "Mozilla/5.0 (Linux; U; Android 4.1.1; en-us; Nexus S - 4.1.1 - API 16 - 480x800"
    " Build/JRO03S) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
    # Instagram's appended device comment names the phone (a CUBOT here)
    "Mozilla/5.0 (Linux; Android 14; KINGKONG 9 Build/UP1A.231005.007; wv) AppleWebKit/537.36"
    " (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 Instagram"
    " 360.0.0.52.192 Android (34/14; 480dpi; 1080x2400; Cubot; KINGKONG 9; KINGKONG_9; mt6789;"
    " en_US; 672535977)",
    # Android 2.x tablet firmware sent a truncated agent; an e-reader's browser
    "Mozilla/5.0 (Linux; U; Android; en-us; LC0808B Build/FRF91) AppleWebKit/533.1",
    "nook browser/1.0",
    # J2ME and feature phones
    "K-Touch W98/java_c_5609c Linux/3.4.5+ Android/4.2.2 Release/JDQ39"
    " Browser/AppleWebKit534.30 Profile/ Configuration/ Mobile Safari/534.30",
    "Mozilla/5.0 (LG-C199 AppleWebkit/531 Browser/Phantom/V2.0 Widget/LGMW/3.0"
    " MMS/LG-MMS-V1.0/1.2 Java/ASVM/1.1 Profile/MIDP-2.1 Configuration/CLDC-1.1)",
    # Google's front end appends ",gzip(gfe)" to agents it proxies; a download manager's add-on
    # token in IE's comment; Netscape's form with the [language] inside the platform comment
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/68.0.3440.106"
    " Safari/537.36,gzip(gfe)",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0; .NET CLR 1.1.4322; FDM) Sleipnir/2.8.4",
    "Mozilla/3.0 (x86 [en] Windows NT 5.1; Sun)",
    # a classic browser with its home page in its agent; Opera's HTML5 parser build
    "Mozilla/5.0 (Windows; U; Windows NT 5.2; en-US) AppleWebKit/534.34 (KHTML, like Gecko)"
    " QtWeb Internet Browser/3.8.5 http://www.QtWeb.net",
    "Opera/9.80 (Windows NT 6.1; U; Edition Labs HTML5 Parser; xx) Presto/2.9.181 Version/12.00",
]

AI_AGENTS = [
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Anthropic-Claude/1.0;"
    " +https://www.anthropic.com)",
    "Mozilla/5.0 (compatible; xAI-Bot/1.0; +https://x.ai/)",
    "Mozilla/5.0 (compatible; HuggingFace-Bot/1.0; +https://huggingface.co/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; KimiBot/1.0;"
    " +https://www.kimi.com/policies/kimi-crawlers",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; MistralAI-Index/1.0;"
    " +https://docs.mistral.ai/robots)",
    "PerplexityUser",
    "SentiBot www.sentibot.eu (compatible with Googlebot)",
]

TOOLS = {
    "Xenu Link Sleuth/1.3.8": "other-bot",
    "WhatWeb/0.5.5": "scraper-tool",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)": "scraper-tool",
    "htdig/3.1.6 (root@localhost)": "other-bot",
    "PostmanRuntime/7.36.0": "scraper-tool",
    "ureq/2.9.1": "scraper-tool",
    "akka-http/10.2.10": "scraper-tool",
    "Mozilla/4.0 (compatible; Win32; WinHttp.WinHttpRequest.5)": "scraper-tool",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/41.0.2272.96 Mobile Safari/537.36 (compatible; Google-AMPHTML)": "monitor",
    "Mozilla/5.0 AppleWebKit/537.36 Chrome/139.0.7258.127 Safari/537.36"
    " Google-Ads-Conversions": "monitor",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
    " Safari/537.36 DareBoost": "monitor",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/109.0.0.0 Safari/537.36 CloudflareObservatory/1.0": "monitor",
    "Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0; Catchpoint) like Gecko": "monitor",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120"
    " Safari/537.36 DebugBear": "monitor",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/534.34 (KHTML, like Gecko)"
    " wkhtmltopdf Safari/534.34": "headless-browser",
}


@pytest.mark.parametrize("ua", BROWSERS)
def test_real_devices_are_not_flagged(ua: str) -> None:
    info = CLASSIFIER.classify(ua)
    assert not info.is_bot, (info.agent, info.bot_reason)


@pytest.mark.parametrize("ua", AI_AGENTS)
def test_ai_agents_in_wild_spellings_are_blocked_by_the_ai_rule(ua: str) -> None:
    assert JUDGE.rule(ua) == "ai-crawler"


@pytest.mark.parametrize(("ua", "category"), TOOLS.items())
def test_self_named_tools_are_caught(ua: str, category: str) -> None:
    assert JUDGE.category(ua) == category


def test_qualified_tokens_still_match_the_tools() -> None:
    assert JUDGE.category("Java/17.0.9") == "scraper-tool"
    assert JUDGE.category("Ruby") == "scraper-tool"
    assert JUDGE.category("Dart/3.2 (dart:io)") == "scraper-tool"
    assert JUDGE.category("Mozilla/5.0 (compatible; Spider; +https://www.spider.com/)") == (
        "ai-training"
    )


def test_contact_heuristic_needs_a_real_address() -> None:
    assert CLASSIFIER.classify("FooFetch/1.0 (+https://foo.example)").is_bot
    assert CLASSIFIER.classify("FooFetch/1.0 (ops@foo.example)").is_bot
    assert CLASSIFIER.classify(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
    ).is_bot


def test_a_browsers_home_page_is_branding_not_a_contact() -> None:
    """A URL right after a product named "... Browser", or "www." glued into a version, is a
    browser's branding (real agents of the corpus' dev-A quarter); a URL after any other
    product, or a "+http", is still a bot's contact."""
    for browser in (
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; i-NavFourF; TuneUp HTML Client"
        " Embedded Web Browser from: http://bsalsa.com/; .NET CLR 1.1.4322; .NET CLR 2.0.50727)",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 5.1; SV1; Multi-Browser 10.1"
        " (www.multibrowser.de); .NET CLR 1.1.4322)",
        "Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.14912Mod.By.www.9jamusic.cz.cc/22.387; U; en)"
        " Presto/2.5.25 Version/10.54",
    ):
        assert not CLASSIFIER.classify(browser).is_bot, browser
    for bot in (
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; TencentTraveler ; EmbeddedWB 14.52"
        " from: http://www.bsalsa.com/ EmbeddedWB 14.52; .NET CLR 2.0.50727)",
        "Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0; FeedFinder-2.0;"
        " http://bloggz.se/crawler)",
        # the home page is spared, not the other URL
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; Embedded Web Browser from:"
        " http://bsalsa.com/; FooGrab/2.0 http://foo.example)",
    ):
        assert CLASSIFIER.classify(bot).bot_reason, bot


def test_contact_heuristic_does_not_read_device_model_text() -> None:
    """A custom ROM's forum in the model field is a device name; `+http` still names a bot."""
    rom = (
        "Mozilla/5.0 (Linux; U; Android 2.3.7; de-de; GT-S5830 - Forum: http://forum.example.pl"
        " Build/GRWK74) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1"
    )
    assert not CLASSIFIER.classify(rom).is_bot
    assert CLASSIFIER.classify(rom.replace("Forum: http", "Forum: +http")).is_bot
    assert CLASSIFIER.classify(
        "Mozilla/5.0 (Android 3.0; YRSpider; +http://www.yunrang.com/yrspider.html)"
    ).is_bot


# Agents no catalogue entry names, caught by structure alone (uaclass: a product token with no
# browser form, words in the engine's comment, a program in a Mozilla/5.0 `compatible;` comment,
# a template's placeholder version).
UNNAMED_BOTS = [
    "FooClient/1.2.3",
    "foo-sync",
    "FooFetch/2.0 (linux-gnu)",
    # platform words do not spare a product ua-parser does not know: anyone can write them
    "FooApp/1.0 (iOS)",
    "FooGrab/2.0 (Windows NT 10.0; Win64; x64)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko;"
    " compatible; FooAgent/1.0) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; FooPreview/3.1)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/W.X.Y.Z"
    " Safari/537.36",
    "Mozilla/5.0 (platform; rv:geckoversion) Gecko/geckotrail Firefox/firefoxversion",
    # Chrome and Firefox send Mozilla/5.0: a version above 5 beside theirs is made up
    "Mozilla/9.9 (Windows NT 10.0; Win64; x64 99.9; rv:99.9) Gecko/20100101 Firefox/99.9 foo/",
    # an app's HTTP client listing its compression; a feed reader named ...RSS
    "Snapchat/10.12.0.2 (iPhone8,1; iOS 10.3.2; gzip)",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:77.0) Gecko/20100101 Firefox/77.0"
    " Time/1710630666672",
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/602.1 (KHTML, like Gecko) QuiteRSS/0.18.12"
    " Safari/602.1",
    # a Java runtime's version; a product calling itself a browser but writing "+http"
    "FooTorrent 5.7.4.0;Windows 10;Java 1.8.0_77",
    "Mozilla/5.0 (compatible; Foo Agents Browser/1.0; +https://foo.example)",
    # Internet Explorer claimed without its version (LookSmart's crawler, whose name ua-parser
    # knows, so no other structure judges it): IE always writes one
    "Mozilla/4.0 (compatible; MSIE; ZyBorg; Win32)",
]
# Not in browser form, or with those structures, yet a person's device or browser.
DEVICE_AGENTS = [
    "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)",
    "Podcasts/1650.20 CFNetwork/1410.0.3 Darwin/22.6.0",
    "Roku/DVP-9.10 (519.10E04111A)",
    "LG-GB230/V100",
    "SAMSUNG-GT-E2152/E2152XXJK2 NetFront/3.5 Profile/MIDP-2.0 Configuration/CLDC-1.1",
    "Lynx/2.8.9rel.1 libwww-FM/2.14 SSL-MM/1.4.1 OpenSSL/1.1.1d",
    "ELinks/0.12~pre6-1ubuntu1 (textmode; Ubuntu; Linux 3.11.0-13-generic i686; 100x25-2)",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM;"
    " Touch; NOKIA; Lumia 920)",
    "Mozilla/5.0 (compatible; Teleca Q7; Brew 3.1.5; U; en) 240X400 LGE AX840",
    "Mozilla/5.0 (Linux U; En-US) AppleWebKit/528.5 (KHTML, Like Gecko, Safari/528.5 )"
    " Version/4.0 Kindle/3.0 (screen 600x800; Rotate)",
    # a product named as a browser (its home page is not a bot's "+http"); Opera's own old form
    "Foo_SETTOPBOX_browser/1.x (Japanese)",
    "Foo Browser/1.2.789rel1 (http://www.foobrowser.example)",
    "Opera 7.11",
    # an unknown browser on a classic or hobbyist platform no crawler runs on
    "FooView/1.0 (RISC OS 4.02)",
    "Mozilla/3.0 (compatible; FooView/2.1; BeOS)",
    # Mozilla versions other than 5.0 without Chrome's or Firefox's token, or below 6
    "Mozilla/6.0 (compatible; Konqueror/4.2; i686 FreeBSD 6.4; 20060308)",
    "Mozilla/5 (X11; Linux x86_64) AppleWebKit/537.4 (KHTML like Gecko) Arch Linux Firefox/23.0",
    # an iOS app's own name after "Safari/" is not a template's placeholder
    "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/16D57/Safari/fooapp",
]


@pytest.mark.parametrize("ua", UNNAMED_BOTS)
def test_unnamed_bots_are_caught_by_structure(ua: str) -> None:
    info = CLASSIFIER.classify(ua)
    assert info.agent is None
    assert info.bot_reason


@pytest.mark.parametrize("ua", DEVICE_AGENTS)
def test_device_agents_without_browser_form_are_not_flagged(ua: str) -> None:
    info = CLASSIFIER.classify(ua)
    assert not info.is_bot, (info.agent, info.bot_reason)


def test_every_bot_word_alternative_has_a_substring_hint() -> None:
    """The bot-word regex runs only when a hint occurs: a word it can match without one would be
    silently skipped."""
    parts = (uarules._EXACT, uarules._SUFFIX, uarules._PREFIX, uarules._STEM)
    alternatives = "|".join(parts).split("|")
    for alternative in alternatives:
        stem = alternative.replace("s?", "").strip()
        assert any(hint in stem for hint in uacues.BOT_WORD_HINTS), stem


def test_ascii_words_match_the_catalogue_matchers_words() -> None:
    for ua in [*BROWSERS, *AI_AGENTS, *TOOLS, *UNNAMED_BOTS, *DEVICE_AGENTS, "Ünïcode/1.0 (x)"]:
        lowered = ua.strip().lower()
        assert uacues.agent_words(lowered) == words(ua.strip())


def test_maker_and_platform_names_start_a_word() -> None:
    """Hardware and classic-platform names spare an agent only where they start a word, as their
    makers write them: "RestSharp" is no Sharp phone, "macOS/2" no OS/2 (real agents of the
    corpus' dev-A quarter; the catalogue names these two, the heuristics alone catch them now)."""
    for tool in ("RestSharp/106.5.4.0", "SiteSucker for macOS/2.10.5"):
        lowered = tool.lower()
        assert uarules._bot_reason(lowered, Given("Other")), tool
    for device in (
        "SHARP-TQ-GX10i/1.0 Profile/MIDP-1.0 Configuration/CLDC-1.0 UP.Browser/6.1.0.6.1.d.1"
        " (GUI) MMP/1.0",
        "Dalvik/2.1.0 (Linux; U; Android 5.1; Lenovo A2010-a Build/LMY47D)",
        "Links (0.98; Darwin 6.0 Power Macintosh)",
    ):
        assert uarules._HARDWARE.search(device.lower()), device
        assert not CLASSIFIER.classify(device).is_bot, device
    assert uarules._LEGACY_OS.search("mozilla/2.02e (os/2; i)")  # Netscape 2 on OS/2


def test_an_os_written_as_a_product_version_is_a_librarys() -> None:
    """requests' old default names the kernel as a product (real dev-A agents): not a platform
    word that spares an agent ua-parser names; a platform in a comment still is."""
    for tool, family in (
        ("python-requests/2.1.0 CPython/2.7.3 Linux/3.2.0-4-amd64", "Python Requests"),
        ("python-requests/2.19.0 CPython/2.7.13 Windows/8.1", "Python Requests"),
    ):
        lowered = tool.lower()
        assert uarules._bot_reason(lowered, Given(family)), tool
    app = "windows-rss-platform/2.0 (ie 11.0; windows nt 6.1)"  # IE's feed engine, a browser's
    assert not uarules._bot_reason(app, Given("IE"))


def _bot_reason(agent: str, family: str) -> str:
    """The bot heuristics' reason for an agent ('' for none), as the classifier asks them."""
    lowered = agent.lower()
    return uarules._bot_reason(lowered, Given(family))


def test_preview_and_synthetics_glued_to_a_name_are_bot_words() -> None:
    """Real dev-A agents the catalogue names, caught by the heuristics alone too; the bare word
    "preview" (in-app browsers' and TV boxes', round 1) is still not a bot word."""
    for tool in (
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0) BingPreview/1.0b",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/138.0.7204.168 Safari/537.36 DatadogSynthetics",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/100.0.4896.60 Safari/537.36 NewRelicSynthetics/1.0",
    ):
        assert "bot-like word" in _bot_reason(tool, "Chrome")
    browser = (  # a dev-A Chrome agent with the bare word added
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/120.0.0.0 Safari/537.36 Preview"
    )
    assert not _bot_reason(browser, "Chrome")


def test_a_page_converters_name_is_a_bot_word() -> None:
    """Real dev-A agents (khtml2png; wkhtmltoimage, which the catalogue names too); a browser
    whose words merely contain "png" is not one."""
    for tool in (
        "Mozilla/5.0 (X11; Linux i686) AppleWebKit/534.34 (KHTML, like Gecko) khtml2png"
        " Safari/534.34",
        "Mozilla/5.0 (X11; BSD Four) AppleWebKit/534.34 (KHTML, like Gecko) wkhtmltoimage"
        " Safari/534.34",
    ):
        assert "bot-like word" in _bot_reason(tool, "Safari")
    browser = (  # a dev-A browser; its words contain "png" but none ends in a converter's name
        "Mozilla/5.0 (Linux; U; Android 4.0.3; fr-fr; SPNG708 Build/IML74K) AppleWebKit/534.30"
        " (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"
    )
    assert not uarules._BOT_WORDS.search(" " + " ".join(uacues.agent_words(browser.lower())) + " ")
    assert not CLASSIFIER.classify(browser).is_bot


def test_a_screen_size_is_a_devices_evidence() -> None:
    """Phone and in-app browsers report their display (real dev-A agents); the bots that the
    product-token and no-browser rules catch (real dev-A agents) report none and stay caught."""
    for device in (
        "JUC (Linux; U; 2.3.4; zh-cn; GT-S5570; 240*320) UCWEB7.9.0.94/139/352",
        "LAVA Spark284/MIDP-2.0 Configuration/CLDC-1.1/Screen-240x320",
        "dv(iPh10,3);pr(UCBrowser/11.3.5.1203);ov(15_4_1);ss(375x812);bt(GJ);pm(0);bv(0);nm(0);",
    ):
        assert uarules._screen(device.lower()), device
        assert not CLASSIFIER.classify(device).is_bot, device
    for bot in (
        "Mozilla/4.0 (compatible; Netcraft Web Server Survey)",
        "Mozilla/5.0 (Windows NT 5.1) BrokenLinkCheck.com/1.1",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:66.0) WhatCMS/1.0",
    ):
        assert not uarules._screen(bot.lower()), bot
        assert CLASSIFIER.classify(bot).bot_reason, bot
    # an unknown product whose only evidence is its display (the rule alone spares it)
    assert not CLASSIFIER.classify("FooPhone/1.0 (240x320)").is_bot


def test_an_address_written_out_is_a_contact() -> None:
    """An e-mail address written out to dodge harvesters ("name at domain.tld", "at domain
    dot tld": dev-new bots, round six); an "at" before an ordinary word is not."""
    for bot in (
        "Mozilla/5.0/Firefox/42.0 (foocrawl at example.com)",
        "Mozilla/5.0 (Windows NT 6.1; rv:47.0) Gecko/20100101 Firefox/47.0 (ops dot foo at"
        " example dot org)",
    ):
        assert "URL or e-mail" in _bot_reason(bot, "Firefox"), bot
    browser = "Mozilla/5.0 (Linux; Android 9; Look at me Build/PPR1) AppleWebKit/537.36"
    assert not _bot_reason(browser + " (KHTML, like Gecko) Chrome/90.0 Mobile Safari/537.36", "")


def test_netscape_with_an_isps_label_is_a_browser() -> None:
    """A customisation kit's or an ISP's label between Netscape's version and its comment keeps
    Netscape's form (dev-new browsers, round six); a bot word still names a bot."""
    for browser in (
        "Mozilla/4.5 [en]C-CCK-MCD {RuralNet} (Win98; I)",
        "Mozilla/4.72C-CCK-MCD Caldera Systems OpenLinux [en] (X11; U; Linux 2.2.14 i686)",
    ):
        assert uarules._NETSCAPE.search(browser.lower()), browser
        assert not CLASSIFIER.classify(browser).is_bot, browser
    assert CLASSIFIER.classify("Mozilla/4.0 FooCrawler (X11; I)").bot_reason


def test_extractors_analyzers_resolvers_and_testers_are_bot_words() -> None:
    """Names ending so are tools' (dev-new bots, round six); "tester" only glued to a name."""
    for tool in (
        "Email%20Extractor/29 CFNetwork/897.15 Darwin/17.5.0 (x86_64)",
        "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; Foo_Site_Analyzer)",
        "Foo Links Resolver",
        "URLTester/1 CFNetwork/974.1 Darwin/18.0.0 (x86_64)",
    ):
        assert "bot-like word" in _bot_reason(tool, "Other"), tool
    assert "bot-like word" not in _bot_reason("Foo/1.0 (tester build)", "Other")


def test_a_bot_ua_parser_names_is_a_bot() -> None:
    """uap-core's regexes name many bots; a bot word in that family is a bot's (WebPageTest's
    "PTST/276" is "WebPageTest.org bot"), unless the family is copied device-model text."""
    assert "ua-parser names it" in _bot_reason("Foo/1.0", "Foo Link Checker")
    assert uarules._family_bot_word("ptst/276", "WebPageTest.org bot") == "bot"
    phone = (
        "Mozilla/5.0 (Linux; Android 7.0; M bot 60 Build/NRD90M) AppleWebKit/537.36 (KHTML,"
        " like Gecko) Chrome/68.0.3440.91 Mobile Safari/537.36"
    )
    assert uarules._family_bot_word(phone.lower(), "M bot") is None
    assert not CLASSIFIER.classify(phone).is_bot


def test_a_name_crawler_detect_lists_is_a_bot_where_a_program_leads_with_it() -> None:
    """Round seven: Crawler-Detect's names (a list that says only "not a browser") count where a
    program leads with its own name; in a browser's agent an app's webview or an add-on carries
    the same names (Slack, Reeder, StumbleUpon on dev-A), so there they do not."""
    tool = "GoSpotCheck 1.0.6 (iPhone; iPhone OS 5.1.1; en_US)"
    info = CLASSIFIER.classify(tool)
    assert info.agent is not None
    assert info.agent.name in NAME_LISTS
    assert JUDGE.flagged(tool)
    webview = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Asana/2.1.0 Chrome/120.0.0.0 Electron/28.0.0 Safari/537.36"
    )
    assert CLASSIFIER.classify(webview).agent is None
    assert not JUDGE.flagged(webview)


def test_a_named_agent_wins_over_a_list_of_names() -> None:
    """The list ranks below every agent the catalogue names for what it is, also where its name
    is the longer one at a position ("LWP::Simple" against libwww-perl's "LWP")."""
    matcher = AgentMatcher(load_catalogue())
    for ua, name in (("LWP::Simple/5.800", "libwww-perl"), ("php-requests/1.7", "GuzzleHttp")):
        found = matcher.match(ua)
        assert found is not None, ua
        assert found.agent.name == name, ua
    listed = matcher.match("httpssites_power/1 CFNetwork/758.3.15 Darwin/15.4.0")
    assert listed is not None
    assert listed.agent.name in NAME_LISTS


def test_a_devices_marker_spares_a_browser_form_agent_without_a_browser() -> None:
    """Round ten: a hardware marker counts in the no-browser rule of Mozilla-form agents as it
    does for the others (KaiOS's browser, a dev-new agent), and so does a teaching system's
    name (Minix); a "compatible" field, where tools name themselves, still loses the spare."""
    for browser in (
        "Mozilla/5.0 (Mobile; rv:68.0) KAIOS/3.0",
        "Mozilla/5.0 (X11; Original ; Minix 3.3 ; rv:3.0)",
    ):
        assert not _bot_reason(browser, "Other"), browser
    assert "no browser" in _bot_reason("Mozilla/5.0 (Mobile; rv:68.0) FOOOS/3.0", "Other")
    tool = "Mozilla/5.0 (watchOS 6.2; Watch; compatible; sv-watchagent; FooClient 4.5)"
    assert "no browser" in _bot_reason(tool, "Other")


def test_name_patterns_lead_with_a_literal() -> None:
    """An assertion before an alternative ("\\bmmef", "\\Aopera") costs the whole pattern its
    literal scan (round ten: 57-69 µs per search of 512 random characters, 17-24 without), so
    a word start is checked by a lookbehind after the literal."""
    for pattern in (
        uarules._PHONE,
        uarules._CLASSIC,
        uarules._PLATFORM_WORDS,
        uarules._CONTACT,
        uarules._LEGACY_OS,
        uarules._HARDWARE,
    ):
        for alternative in alternation.alternatives(pattern.pattern):
            assert not alternative.startswith(("\\b", "\\A", "(?<", "(?=", "(?!")), alternative
    assert uarules._CLASSIC.search("opera 7.11 [en]")
    assert not uarules._CLASSIC.search("foo opera 7.11")
    assert uarules._PHONE.search("foo j2me/1")
    assert not uarules._PHONE.search("xj2me")


def test_random_printable_text_is_no_browser_whatever_it_spells() -> None:
    """Past 40 of the punctuation user agents hardly use, the verdict comes before the name and
    device searches: random text that happens to spell a maker's name ("htc", "wap") or a
    screen size is no browser. The corpus' spared agents with the most such characters stay
    spared (an HbbTV set's XML profile list: 28; a mis-encoded Android browser: 24)."""
    noise = '"<>{}|~^`\\@#$%&*=?!' * 3  # 57 such characters
    for text in (f"HTC-{noise} 240x320", f"Mozilla/5.0 ({noise} WAP KAIOS/3.0", noise):
        reason = CLASSIFIER.classify(text).bot_reason
        assert reason.startswith("punctuation no user agent is written in"), text
    reason = uarules._bot_reason(noise[:40].lower(), Given("Other"))
    assert not reason.startswith("punctuation")
    for device in (
        "HbbTV/1.1.1 (;TechnoTrend Goerler/Kathrein;S-855/S-955/UFS-925;3.2.0.25.08;;) "
        'CE-HTML/1.0 (<profilelist><ui_profile name="HYBRID_UIPROF_0.1"><ext><hscroll>true'
        '</hscroll></ext></ui_profile><audio_profile type="audio/mpeg" name="MP3"/>'
        '<audio_profile type="',
        "Mozilla/5.0 (Linux; U; Android 4.1.2; ru-ru; PMP7170B3G_DUO Build/JZO54K)"
        " AppleWebKit/534.30 (KHTML, \\xd0\\xba\\xd0\\xb0\\xd0\\xba Gecko) Version/4.0"
        " \\xd0\\x9c\\xd0\\xbe\\xd0\\xb1\\xd0\\xb8\\xd0\\xbb\\xd1\\x8c\\xd0\\xbd\\xd1\\x8b"
        "\\xd0\\xb9Safari/534.30",
    ):
        assert not CLASSIFIER.classify(device).is_bot, device


def test_grouping_alternatives_by_first_letter_keeps_what_matches() -> None:
    """`by_first_letter` regroups a pattern's alternatives; whether a text matches must not
    change, with lookbehinds, classes holding `|` or `)`, escapes and quantified first letters."""
    import random
    import re

    source = (
        r"j2me(?<!\wj2me)\b|jig|brew|b[()|]x|\.www\.|a?bc|ab\|c|up/(?<!\wup/)[0-9]|"
        r"up\.b|x{2}y|[0-9](?<![0-9][0-9])[0-9]x|opera [0-9](?<=\Aopera [0-9])"
    )
    plain, grouped = re.compile(source), alternation.by_first_letter(source)
    assert grouped.pattern != source
    rng = random.Random(1)
    alphabet = "j2mebrwixgu/p.0123456789abc ()|\\oa"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(30_000)]
    texts += ["opera 7", "x opera 7", "xj2me", "j2me", "ab|c", "b|x", "99x", "1x", "xxy"]
    for text in texts:
        assert bool(plain.search(text)) == bool(grouped.search(text)), text
    assert alternation.alternatives(r"a|b[|)]c|(d|e)|f\|g") == ["a", "b[|)]c", "(d|e)", r"f\|g"]


def test_screen_size_needs_a_whole_number_of_three_or_four_digits() -> None:
    for text in ("240x320", "foo 1080*1920;", "a1280x720", "(176x220)", "240*320"):
        assert uarules._screen(text), text
    for text in ("12345x720", "1280x72", "1280x72000", "12x720", "240*32", "*320"):
        assert not uarules._screen(text), text
