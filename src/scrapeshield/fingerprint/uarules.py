"""The bot heuristics: why a user agent the catalogue does not name looks automated.

Patterns and the rules that read them (`_bot_reason`), kept apart from the classifier
(`uaclass`) that matches the catalogue, caches answers and asks ua-parser, and from the cheap
hints and the cue search run before the patterns (`uacues`). Why each rule is
there, and its false-positive risk, is in the comments beside it and in docs/detection.md.
"""

from __future__ import annotations

import re

from scrapeshield.fingerprint.alternation import at_word_start, by_first_letter
from scrapeshield.fingerprint.uacues import (
    BOT_WORD_HINT,
    CONTACT_HINTS,
    DEVICE_FIELD_HINTS,
    ODD_LIMIT,
    after,
    cue_searches,
    odd_count,
    spaced,
)
from scrapeshield.fingerprint.uaparse import Parsed

# Words that only automated clients put in a user agent (browsers never do), matched on the
# user agent's lower-case alphanumeric words joined by single spaces: exact words, name
# suffixes ("FooBot", "foo-crawler"), prefixes, and stems anywhere in a word. Every alternative
# starts with a literal, so `re` scans in C; `\b`-led alternatives cost ~200 µs on 512 chars.
# The other patterns follow the same rule: a word start is a lookbehind after the literal
# ("j2me(?<!\wj2me)", the same test as "\bj2me"), never an assertion before it (round ten: a
# leading "\b" or "\A" in one alternative cost the whole pattern its literal scan, 57-69 µs
# per search of 512 random characters for the phone and classic-browser names, 17-24 after).
# Ordinary words (index, search, sdk, agent, api, ping, proxy...) are not here: feature phones,
# in-app browsers and TV boxes carry them. The scan never reads device-model text (below).
_EXACT = "checker|validator|synthetics?"
# "...Preview" and "...Synthetics" end a tool's name only when glued to it ("BingPreview/1.0b",
# "DatadogSynthetics", "NewRelicSynthetics/1.0"; the lookbehind keeps the literal first): the
# bare word "preview" is in in-app browsers' and TV boxes' agents. dev-A: 6 bots the heuristics
# alone missed, 0 browsers (dev-B: 3 bots, 0 browsers). Risk: a browser or app whose name ends so.
# A page converter's name ("khtml2png", "wkhtmltoimage", "wkhtmltopdf": a page rendered to a file
# is a capture, not a reader): dev-A 4 bots the heuristics alone missed, 0 browsers (dev-B: 3, 0).
# Round six, from dev-new's missed bots: "...extractor" ("Email%20Extractor/29"),
# "...analyzer" ("Akamai_Site_Analyzer"), "...resolver" ("IDG Twitter Links Resolver") and
# "...tester" glued to a name ("URLTester/1"): dev-new 8 bots, no browser of dev-A, dev-B or
# dev-new ends a word so. Risk: an app or browser whose name ends so (none seen).
_SUFFIX = (  # CUBOT is a handset maker, CamScanner a document-scanning app
    "(?<!cu)bots?|crawler|spider|scraper|fetcher|checker|monitor|validator|archiver|harvester|indexer|"
    "(?<!cam)scanner|inspector|downloader|preview(?<=[a-z0-9]preview)|"
    "synthetic(?<=[a-z0-9]synthetic)s?|2png|2pdf|2jpe?g|2image|topdf|topng|toimage|"
    "extractor|analy[sz]er|resolver|tester(?<=[a-z0-9]tester)"
)
_PREFIX = "crawl|spider|scrap|slurp|harvest|synthetic"
# Stems anywhere in a word, and a feed reader's name ending in RSS ("QuiteRSS", "FeeddlerRSS";
# not the bare word "RSS" of Windows' own feed engine, which browser fixtures list). A download
# manager's name is not a bot word: add-ons write theirs into the browser's own agent
# ("...; FDM)", "QQDownload 1.7", "FireDownload/2.0.1"), so only "...downloader" is.
_STEM = r"crawl|spider|scrape|downloader|[a-z0-9]rss "
_BOT_WORDS = re.compile(rf" (?:{_EXACT}) |(?:{_SUFFIX}) | (?:{_PREFIX})|{_STEM}")
# A URL or e-mail address in a user agent is the self-identification convention of bots: a
# scheme, `+http`/`+https`, `www.` or `name@domain.tld`, never a bare dotted word (`.NET CLR`,
# `Telekom.de`, `com.example.app`).
# An address written out to dodge harvesters ("contact at gmail.com", "crwlr at gmail dot com")
# is one too: round six, from dev-new's misses (2 bots; no browser of dev-A, dev-B or dev-new
# has the form). Risk: a browser writing " at " before a dotted name (none seen).
_CONTACT = re.compile(
    r"https?://|\+https?\b|www\.(?<!\wwww\.)[a-z0-9-]+\."
    r"|[a-z0-9._%+-]@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
    r"|\(at\)|\[at\]| at [a-z0-9-]+(?:\.| dot )(?:com|net|org|[a-z]{2})\b"
)
# A browser's own branding, not a contact (each read off the corpus' dev-A quarter): a home page
# written right after a product named "... Browser" ("Embedded Web Browser from:
# http://bsalsa.com/", "Multi-Browser 10.1 (www.multibrowser.de)"), as QtWeb's and Arachne's
# are spared by name below; a "www." glued by a dot into a version ("Opera
# Mini/4.2.14912Mod.By.www.9jamusic.cz.cc/22.387", a modder's signature). Risk: a bot named
# "... Browser" that writes a plain URL, or a dotted hostname with "www" inside it (dev-A: no
# bot in either form); a bot's "+http" is still read wherever it is.
_BRANDING = re.compile(r"browser[^;()/]{0,20}[ (]*(?:from:? )?(?:https?://|www\.)|\.www\.")
# Device-model text: in the platform comment of a browser-form agent, the fields after the
# Android version up to the model's `Build/` field ("Mozilla/5.0 (Linux; Android 14; CUBOT
# KINGKONG 9 Build/...)"), and the device fields in-app browsers append (FBDV/, Model/, Build/,
# [FB...], and Instagram's or Threads' "Android (33/13; 320dpi; 720x1440; brand; model; ...)").
# The comment runs to the first parenthesis, so it is read possessively (`*+`): a comment never
# closed is not read again backwards, a character at a time (`;` fields: 12.5 -> 4.4 µs).
_PLATFORM = re.compile(r"\A(?:mozilla|opera)/[0-9.]+ ?\(([^()]*+)\)")
_DEVICE_FIELDS = re.compile(
    r"\[fb[^\]]*\]|fbdv/[^;)]*|model/[^\s;)]*|build/[^\s;)]*|android \([0-9]+/[^)]*\)"
)
# A browser recognised by structure when ua-parser names no family: a browser-form prefix with
# a rendering-engine token, or the markers of a feature-phone browser (J2ME, BREW, MAUI...).
# Gecko's token right after the platform comment without its build date ("Mozilla/5 (Solaris 10)
# Gecko", "(X11; U; Gentoo Linux x86_64; pl-PL) Gecko Firefox", as 2000s distributions' builds
# wrote it): round twelve, 4 dev-new browsers, no bot or app of any dev pool lost. Risk: a tool
# writing ") Gecko " to pass, which "Gecko/20100101" does as well today.
_ENGINE = by_first_letter(
    r"\) gecko(?: |\Z)|gecko/|like gecko|applewebkit|trident/|presto/|khtml|msie \d|webkit|goanna/"
)
# "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36" and nothing after: a
# scraping-script default. Not judged on Android: cheap Android 2.x tablets' firmware sent
# exactly that truncated form ("... Build/FRF91) AppleWebKit/533.1").
_TRUNCATED = re.compile(r"applewebkit/[0-9.]+\Z")
# UC Browser's name is written out both ways ("ucbrowser|uc browser", not "uc ?browser"), so
# its literal reaches the "o" it is keyed on (alternation.from_key): "uc" alone kept "u".
_PHONE = by_first_letter(
    r"midp-|cldc-|j2me(?<!\wj2me)\b|brew(?<!\wbrew)\b|maui|ucweb|ucbrowser|uc browser|opera ?mini|"
    r"netfront|obigo|teleca|dolfin|openwave|up\.browser|up\.link|series ?[0-9]0|symbian|nokia|"
    r"mre/(?<!\wmre/)|spreadtrum|mocor|docomo|foma|softbank/|vodafone/|j-phone/|kddi-|ddipocket|willcom|"
    r"sonyericsson|mot-(?<!\wmot-)|samsung|bada/|"
    r"browser/wap|smart ?tv|chromium|"
    r"playstation|amigaos|ibrowse|mosaic|opera/9|hotjava"
)
# Japan's carriers before the handset ("SoftBank/1.0/821SC/...", "J-PHONE/2.0/J-P03",
# "Mozilla/3.0(DDIPOCKET;JRC/AH-J3001V,...)", as "DoCoMo/2.0" above): round twelve, 2 dev-new
# browsers, 1 dev-A and 3 dev-B apps; the carriers' names in bots' agents (KDDI-Googlebot-Mobile)
# come with a bot word or URL, read first. Risk: a tool writing a carrier's name to pass, as it
# can write "DoCoMo" or "Nokia" today.
# Browsers that name themselves without an engine token ua-parser knows: desktop browsers of
# the 1990s-2000s and of small platforms (RISC OS, Amiga, BeOS/Haiku, Palm, NeXT), phone and TV
# browsers (Microsoft Mobile Explorer, UP.Browser, NetFront, Polaris, jig, Espial, ACCESS'
# AVE-Front). Named, as ua-parser names the common ones; also any product whose name ends in
# "browser" ("Avant Browser/1.2", "Aplix_SEGASATURN_browser/1.x") and Opera's own "Opera 7.11".
# Bot words and a "+http" still win over these names (checked first). Round fourteen:
# Konqueror's name with a version ua-parser does not read ("(compatible; Konqueror/3; Linux)",
# KDE 3.0's form; "Konqueror/1.1.2" alone): 3 dev-new browsers and 3 apps, no bot of any dev
# pool (Exabot-Thumbnails' Konqueror agent keeps its bot word).
_CLASSIC = by_first_letter(
    r"oregano|jig browser|icab|omniweb|netsurf|arachne|abrowse|sleipnir|worldwideweb|"
    r"webexplorer|palmscape|webpro/|acorn|netbox/|dplus|vimprobable|maemo browser|machblue|"
    r"tazweb|sundance|ave-?front|dreampassport|enavigator|weblight|espial/|inettvbrowser|"
    r"mmef(?<!\wmmef)|mobileexplorer/|polaris/|up/(?<!\wup/)[0-9]|nf-browser/|wap browser|"
    r"onebrowser/|winwap|classilla|privacybrowser/|amaya/(?<!\wamaya/)|qtweb|aweb|dillo|"
    r"webpositive|go\.web/|browser/|konqueror/(?<!\wkonqueror/)|"
    r"opera [0-9](?<=\Aopera [0-9])"
)


# Platforms of hobbyist, handheld and classic desktop computers that browsers were written for
# and crawlers and HTTP libraries were not: an agent naming one is a person's browser even when
# neither its name nor an engine token is known (AWeb on AmigaOS, NetSurf on RISC OS, iCab on a
# PowerPC Mac, Palmscape on a PalmPilot). Structure instead of names: on the corpus' dev-A
# quarter with the named browsers above left out, it recovers 7 of their 37 browsers and no bot
# (dev-B: 2 of 50, no bot). Only platforms dev-A's browsers name are listed. Names start a word
# ("SiteSucker for macOS/2.10.5" is not OS/2; "TOPSION" no Psion). Risk: a bot claiming such a
# platform (none among the dev half's bots in the forms judged here). Round ten: Minix, the
# teaching system ("Mozilla/5.0 (X11; Original ; Minix 3.3 ; rv:3.0)", 1 dev-new browser; no
# bot or app of any dev pool names it). Round fourteen: EPOC, Psion's system under its own name
# ("Opera/v5.12 (EPOC; U) [en]"; "psion" was listed): 1 dev-new browser, no bot or app of any
# dev pool.
_LEGACY_OS = by_first_letter(
    at_word_start(
        "amiga", "morphos", "risc os", "riscos", "beos|\\b", "haiku", "syllable",
        "os/2|(?![0-9])", "palm os", "palmos", "palmpilot", "palmsource", "psion", "68k|\\b",
        "ppc|\\b", "powerpc", "minix|\\b", "epoc|\\b",
    )
)  # fmt: skip
# A screen size ("240*320", "480x800", "(compatible; ...) 176x220"): phone and TV browsers and
# in-app browsers report the display they render for; crawlers and HTTP libraries have none to
# report. Positive evidence for the two rules that flag an agent for lacking a browser's form.
# Structure instead of names: on dev-A with the named lists (_PHONE, _CLASSIC, _NETSCAPE,
# _HARDWARE, _LEGACY_OS) left out it recovers 18 of 451 browsers and no bot (dev-B: 21 of
# 470, no bot); with them in, dev-A and dev-B do not change. Risk: a bot that writes a
# viewport size (none among the dev half's bots these rules catch); a bot can write one to
# pass, as it can an engine token, and the header rules and rate limits still apply to it.
# Keyed on the "x" (`_screen` reads a "*" as one), the 3 or 4 digits before it checked behind:
# led by one literal character, `re` scans for it in a fast C loop; led by a class ("[0-9]",
# or "[*x]"), it tests every character through its class routine, 3.5-5 µs a search of 512
# characters (round sixteen: random user-agent characters 6.2 -> 1.1 µs, corpus agents 3.0 ->
# 0.5). A leading "(?<![0-9])" cost more still (8.5 µs on 512 random words).
_SCREEN = re.compile(r"x(?<=[0-9]{3}x)(?<![0-9]{5}x)[0-9]{3,4}(?![0-9])")
# Netscape Navigator's form (and its clones'): "Mozilla/4.7 [ja] (WinNT; I)", "Mozilla/3.01Gold
# (X11; I; SunOS 5.5.1 sun4m)": a version, an optional [language], then a platform comment with
# the encryption-strength field (I, U or N) that only that era's browsers wrote. A label an ISP
# or a customisation kit put before the comment ("Mozilla/4.5 [en]C-CCK-MCD {RuralNet} (Win98;
# I)", "Mozilla/4.72C-CCK-MCD Caldera Systems OpenLinux [en] (X11; U; ...)") keeps the form:
# round six, 2 dev-new browsers, no bot of any dev pool has it. Opera wrote the same form under
# its own name, and as "Mozilla/5.0" with the [language] after the comment ("Opera/6.x (Linux
# 2.4.8-26mdk i686; U) [en]", "Mozilla/5.0 (NetBSD 1.6.2; U) [en]"): round twelve, 5 dev-new
# browsers, no bot or app of any dev pool has it. Risk: a tool copying that era's form (none seen).
# Mozilla/5.0's comment is read to its first parenthesis at once (`*+`) and its end checked
# behind (`(?<=; [iun]\))`), the same texts as `[^()]*; [iun]\)`: that one read a comment
# never closed backwards a character at a time (`;` fields: 7-8 -> 3 µs a search).
_NETSCAPE = re.compile(
    r"\Aopera/[0-9][.0-9x]* \([^()]*; [iun][;)]|"
    r"\Amozilla/5\.0 \([^()]*+\)(?<=; [iun]\)) \[[a-z]{2}|"
    r"\Amozilla/[1-4]\.[0-9]+(?:[\w-]* (?:\[[ a-z_.-]+\] \("
    r"|\([^()\[]*\[[a-z]{2}(?:[_-][a-z]{2,3})?\] [^()]*\))|[^()]* \((?:[^()]*; )?[iun][;)])"
)
# An agent not in browser form (no Mozilla/ or Opera/ prefix) that still belongs to a person's
# device. Hardware markers spare it always: TVs and set-top boxes, consoles, watches, e-readers,
# feature phones (MIDP profile, MMP, WAP, handset makers' prefixes) and text-mode browsers.
# Platform words (Android's and iOS's system HTTP stacks, Dalvik, CFNetwork/Darwin, an OS name)
# spare it only when ua-parser also names the agent: anyone can write "(iOS)" or "(Windows)"
# after an unknown product token, and an unknown app in that form is challenged as before.
# An OS written as a product with its kernel or release version ("python-requests/2.1.0
# CPython/2.7.3 Linux/3.2.0-4-amd64", "... Windows/8.1": requests' default agent before 2.4) is
# not a platform word: HTTP libraries write it, apps name their platform in a comment. dev-A,
# heuristics alone: 4 bots more, no browser or app (dev-B: 1 bot). Risk: an app that writes its
# OS that way (none on the dev half).
# Anything else in that form is a program naming itself by its product token (curl/8.5,
# python-requests/2.31, Go-http-client/2.0, WhatsApp/2.19): a tool or a bot, whatever family
# ua-parser gives it. Names match where they start a word, as makers write them ("SHARP-TQ-GX10i",
# "Build/HUAWEILYA-L09"), not inside a tool's name ("RestSharp/106.5", blekkobot's "kobo"); the
# MIDP profile and TV markers match anywhere ("MIDP-2.0Configuration/", "hdplusSmartTV/1.0").
# Risk: a device name glued to another word (dev-A: apps only, "0HuaweiG2800", "MessageMe").
_HARDWARE = by_first_letter(
    r"hbbtv|smart-?tv|profile/|configuration/|"
    + at_word_start(
        "tizen", "webos", "kaios", "roku", "watch os", "watchos", "lynx", "elinks|\\b",
        "links|\\b", "w3m", "mmp/", "wap|\\b", "blackberry", "nintendo", "xbox", "htc", "lg-",
        "huawei", "zte", "sony", "lenovo", "alcatel", "sharp", "kyocera", "pantech", "sagem",
        "sie-", "sanyo", "kindle", "nook|\\b", "kobo", "kreatv",
    )
)  # fmt: skip
# The names and engine tokens that spare an agent, each group searched as one pattern where a
# rule reads them together (grouped by first letter across the lists: per search of 512
# characters of random words 26 µs for the five, 47 as five grouped searches, 88 as written;
# keyed on vowels since (`alternation.from_key`), 12-14 µs on 512 random agent characters).
_ENGINE_OR_MARK = by_first_letter(
    "|".join(p.pattern for p in (_ENGINE, _PHONE, _CLASSIC, _LEGACY_OS))
)
_ENGINE_OR_MARK_OR_DEVICE = by_first_letter(f"{_ENGINE_OR_MARK.pattern}|{_HARDWARE.pattern}")
# Windows as a desktop app writes its platform, short with version and architecture ("(win10
# x64)", GOG Galaxy's client; tools write "Windows NT 10.0", "windows/10", "win32"), whatever
# family ua-parser gives. Round eleven: 3 dev-A and 3 dev-B browsers, no other agent of the dev
# pools. Risk: a tool writing its platform so (none seen).
_WINDOWS_SHORT = re.compile(r"\(win(?:7|8|10|11) (?:x64|x86|arm64)\)")
_PLATFORM_WORDS = by_first_letter(
    r"android|dalvik|cfnetwork|darwin/|iphone|ipad|ipod|mac ?os ?x|osx|ios(?<!\wios)\b|"
    r"windows(?!/)|"
    r"mozilla/|fban/(?<!\wfban/)|fbav/(?<!\wfbav/)|qqbrowser|player"
)
# Structure no browser sends, in browser-form agents (each measured on the corpus' dev half,
# docs/detection.md): words added after a semicolon to the rendering engine's comment
# ("(KHTML, like Gecko; compatible; Google-Agent)"; consoles list capabilities after a comma);
# a program's own name in the `compatible;` comment of a Mozilla/5.0 agent ("(compatible;
# Google-InspectionTool/1.0)"), where browsers of that era put only MSIE, Konqueror or a
# platform (feature phones name their browser there too, and are exempt; Mozilla/2-4 agents are
# not judged: that era's browsers all introduced themselves this way); a template's placeholder
# for a version ("Chrome/W.X.Y.Z", "Firefox/firefoxversion").
_ENGINE_COMMENT = re.compile(r"\(khtml, like gecko; ?+[^)]")
_COMPATIBLE = re.compile(
    r"\Amozilla/5\.0 \(compatible;\s*+(?!msie|konqueror|ibrowse|polaris|antgalio|teleca|gecko|"
    r"windows|linux|mac|iemobile|opera|u;)([^;)]+)"
)
# A desktop platform and an engine after the compatible; field, ua-parser naming the browser
# ("(compatible; StaffsStudentImage; Windows NT 6.3; WOW64; rv:26.0) Gecko/20100101 Firefox/26.0"):
# a label in a browser's own agent (round eleven: 6 dev-new browsers, no bot of any dev pool).
# Risk: a bot copying a whole browser agent after its name, with no URL or bot word (none seen).
_FULL_PLATFORM = re.compile(
    r"; (?:windows nt|macintosh|intel mac|x11|linux)[^()]*(?:\) (?:gecko/|applewebkit/)|; trident/)"
)
# Internet Explorer's own comment with an add-on's token before "MSIE n" ("(compatible;FW
# 2.0.4870.p; MSIE 9.0; Windows NT 6.1; ...)"): the browser, not a program naming itself.
_MSIE_COMMENT = re.compile(r"\Amozilla/5\.0 \(compatible;[^()]*; ?msie [0-9]+\.[0-9]+; ?windows")
# Internet Explorer always writes its version in its comment ("compatible; MSIE 6.0;"); a claim
# without one ("Mozilla/4.0 (compatible; MSIE; ZyBorg; Win32)", LookSmart's crawler) is a
# program's imitation (round nine, from dev-new). Risk: a browser or add-on that writes "MSIE;"
# bare in a compatible; comment: none on any development pool (dev-A, dev-B, dev-new), where
# "msie" without a version appears only in other places (`(UHISSO msie; Windows NT 10.0; ...)`).
_MSIE_UNVERSIONED = re.compile(r"\(compatible; ?msie ?[;)]")
# Nor does it write another browser's or engine's version token in that comment ("(compatible;
# MSIE 9.0; Firefox/50.1) Daum/4.1", a crawler's mix; Chrome Frame writes `chromeframe/`).
# Round seventeen: 1 dev-new bot, no browser or app of any dev pool has the form. Risk: a
# user-agent switcher's hand-made string (none seen).
_MSIE_MIXED = re.compile(
    r"\(compatible; ?msie [0-9.]+;[^()]*?(?<![a-z])"
    r"(?:firefox|chrome|safari|applewebkit|gecko)/[0-9]"
)
# A product version that is a millisecond Unix time (13 digits, 2017-2033: "Firefox/77.0
# Time/1710630666672"), a script's stamp. Ten-digit (second) stamps are not judged: browsers and
# in-app browsers send build numbers of that length (`ACHEETAHI/2100501066`).
_MS_STAMP = re.compile(r"/1[5-9][0-9]{11}(?![0-9])")
# A template's placeholder is a variable's name: dotted letters ("Chrome/W.X.Y.Z", "Firefox/x.x")
# or a word naming a version ("Firefox/firefoxversion", "Gecko/geckotrail": MDN's documented
# form, copied unfilled). Not any word: iOS apps write their own name after "Safari/"
# ("Mobile/16D57/Safari/anaapl"). Risk: a browser whose vendor wrote a word with "version" or
# "trail" in it where the version goes (none on the corpus' dev half).
# Keyed on the slash, the product's name checked behind it: `re` then starts only at a slash
# (a dozen in an agent, ~7 in 512 random characters), not at every c, f, s and g (round
# thirteen: 3.5-4.1 -> 0.9-1.9 µs a search of the hostile lines' 512 characters, corpus agents
# 1.4 -> 1.1).
_PLACEHOLDER = re.compile(
    r"/(?:(?<=chrome/)(?<![a-z]chrome/)|(?<=firefox/)(?<![a-z]firefox/)"
    r"|(?<=safari/)(?<![a-z]safari/)|(?<=gecko/)(?<![a-z]gecko/))"
    r"(?:[a-z]\.[a-z]|[a-z]*(?:version|trail))"
)
# Chrome and Firefox have sent "Mozilla/5.0" since their first release: a Mozilla version above
# 5 beside their version token ("Mozilla/9.9 (...) Gecko/20100101 Firefox/99.9 con_aff/",
# "Mozilla/6.5 (...) Chrome/68.0.3535.135") is made up by a script. Not judged without those
# tokens (Konqueror sent Mozilla/6.0, some phones Mozilla/6.0 or their iOS version), nor below
# 6 ("Mozilla/5 (X11; ...) ... Firefox/23.0 Xfce", a distribution's build). Risk: a tester's or
# user-agent switcher's string (dev-A: one, "Mozilla/45.4.0 ... Chrome/54 ... WFBTesting").
_ABOVE_MOZILLA_5 = re.compile(r"\Amozilla/(?:[6-9]|[1-9][0-9])[^ ]* .*\b(?:chrome|firefox)/[0-9]")
# An app's HTTP client that lists its compression as a comment field ("Snapchat/10.12.0.2
# (iPhone8,1; iOS 10.3.2; gzip)"). Not ",gzip(gfe)": Google's front end appends that to
# browsers' agents it proxies.
_GZIP_FIELD = re.compile(r"[(;] ?gzip\)")
_BROWSER_PREFIX = ("mozilla/", "opera/")
# A Java runtime's version ("Java 1.8.0_77", "Java/1.7.0_45"): a Java program's HTTP stack, not
# a browser (J2ME phones write MIDP/CLDC profiles, never a JRE version).
_JAVA_RUNTIME = re.compile(r"\bjava[/ ]1\.[0-9]+\.[0-9]+_[0-9]+")
# A program's name put before a browser's whole agent ("hackney/1.6.6, Mozilla/5.0 (...)",
# "Thumbor/6.7.5, Mozilla/5.0 ..."): a proxy or library forwarding, or posing as, a browser.
_PREPENDED = re.compile(r"\A[^()]*, ?mozilla/")
# The header's own name leading its value ("User-Agent: Mozilla/5.0 (Windows; U; ...) Gecko/...
# Firefox/3.5"): a header line pasted whole into a script's setting; a browser sends the value
# only. Round thirteen, from dev-new (HTTP::BrowserDetect's robots): 1 dev-new bot; no browser
# of any dev pool (the corpus calls a browser source's such agent label noise, `garbage`); 19
# dev-new apps, each a browser's agent with the same prefix. Risk: a person who pastes the whole
# header line into a user-agent switcher. A scraper avoids it by writing the value alone.
_HEADER_NAME = ("user-agent:", "user-agent :")
# The one search for every cue before the searches it stands for (uacues).
_CUE, _CUE_OR_PLATFORM = cue_searches(_ENGINE_OR_MARK_OR_DEVICE, _PLATFORM_WORDS)


def _marked(lowered: str, cue: re.Match[str] | None) -> bool:
    """A phone, TV or classic browser that names itself, or a classic platform's (positive
    evidence of a browser)."""
    return any(after(cue, pattern, lowered) for pattern in (_PHONE, _CLASSIC, _LEGACY_OS))


def _screen(lowered: str) -> bool:
    """A display size in the agent (a phone's, a TV's, an in-app browser's): "240x320" or
    "240*320" (neither sign is a digit, so reading "*" as "x" finds the same sizes)."""
    text = lowered.replace("*", "x") if "*" in lowered else lowered
    return "x" in text and bool(_SCREEN.search(text))


# The fields after the (last) `Build/` field are not the model's: a WebView's `wv`, a locale,
# a custom ROM's name, or a crawler's own name and URL ("...; sdk Build/GRI34; Y!J-BRZ/YATSHA
# crawler; http://help.yahoo.co.jp/...)", Yahoo Japan's). Round seventeen: the rules read them,
# 1 dev-new bot, no browser or app of any dev pool (their ~18,000 browsers with such fields
# write `wv`, locales and ROM names). Risk: a custom ROM naming itself there with a bot word or a
# URL (none seen).
def _without_device(lowered: str) -> str:
    """The agent without its device-model text (a maker names a phone as it likes)."""
    text = lowered
    if (platform := _PLATFORM.match(text)) and "android" in (comment := platform.group(1)):
        fields = comment.split(";")
        android = next(i for i, f in enumerate(fields) if "android" in f)
        head = ";".join(fields[: android + 1])  # the comment up to the Android version
        build = comment.rfind("build/", len(head))  # found in C, not field by field
        end = comment.find(";", build) if build >= 0 else -1
        text = head + (comment[end:] if end >= 0 else "") + text[platform.end() :]
    if any(hint in text for hint in DEVICE_FIELD_HINTS):
        text = _DEVICE_FIELDS.sub(" ", text)
    return text


# A whole Internet Explorer agent copied into IE's own comment (a registry entry an embedding
# component wrote: "...; Trident/4.0; User-agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT
# 5.1; SV1; http://bsalsa.com) (none); ..."): the copy's home page is the component's, not the
# client's contact. Round twelve: 7 dev-new browsers, no bot of any dev pool lost. Risk: none
# for a scraper, which passes the contact rule by writing no URL at all.
_COPIED_IE = re.compile(r"(?:user-agent: )?mozilla/4\.0 \(compatible; msie [0-9.]+;[^()]*\)")


def _without_copied_agent(text: str) -> str:
    """The agent without a copy of an IE agent written inside it (not the client's contact)."""
    if text.startswith("mozilla/") and text.count("mozilla/") > 1:
        return text[:8] + _COPIED_IE.sub(" ", text[8:])
    return text


def _without_branding(text: str) -> str:
    """The agent without a browser's home page or a modder's "www." signature (not contacts)."""
    return _BRANDING.sub(" ", text) if "browser" in text or ".www." in text else text


def _bot_word(words: str, start: int = 0) -> str | None:
    """The first bot word `_BOT_WORDS` finds in `words` (an agent's words between spaces,
    `uacues.spaced`), searched only around the words that hold a hint, from `start` on: a bot
    word lies within one word and the spaces around it, and every one holds a hint, so no
    other word can match (the whole text costs ~40 µs a search over 512 characters, where `re`
    tries each alternative at every position). Only the spaces around a word count, not how
    many: the rules' words joined by single spaces read the same."""
    for hint in BOT_WORD_HINT.finditer(words, start):
        begin = words.rfind(" ", 0, hint.start())  # the word's leading space
        if found := _BOT_WORDS.search(words, begin, words.index(" ", hint.end()) + 1):
            return found.group(0).strip()
    return None


def _family_bot_word(lowered: str, family: str) -> str | None:
    """A bot word in the family ua-parser names (uap-core's regexes know many bots:
    "WebPageTest.org bot" for "PTST/276", "OpenVAS Scanner"), unless the family is device-model
    text the parser copied (a model field's "Y!J-BRZ/YATSHA crawler"; a phone named "M bot 60"
    was one until the crawler-naming rules left the resolver, uaparse)."""
    family = family.lower()
    if not BOT_WORD_HINT.search(family):
        return None
    word = _bot_word(spaced(family))
    if word is None or (family in lowered and family not in _without_device(lowered)):
        return None
    return word


def _bot_reason(lowered: str, parsed: Parsed) -> str:
    """Why an agent the catalogue does not name looks automated ("" for a browser). ua-parser's
    family is read only by the rules that need it, after those that do not (see uaparse)."""
    if len(lowered) > ODD_LIMIT and odd_count(lowered) > ODD_LIMIT:
        return "punctuation no user agent is written in: random text or markup, not a browser"
    if lowered.startswith(_HEADER_NAME):
        return "the header's own name before its value: a pasted header line, not a browser's"
    browser_form = lowered.startswith(_BROWSER_PREFIX)
    cue = (_CUE if browser_form else _CUE_OR_PLATFORM).search(lowered)
    if (
        (cue or "@" in lowered)
        and any(map(lowered.__contains__, CONTACT_HINTS))
        and (
            "+http" in lowered
            or _CONTACT.search(_without_branding(_without_copied_agent(_without_device(lowered))))
        )
        # QtWeb, Arachne... wrote their home page in; a bot's "+http" wins over its name
        and ("+http" in lowered or not _CLASSIC.search(lowered))
    ):
        return "contains a URL or e-mail address, the self-identification of bots"
    hinted = after(cue, BOT_WORD_HINT, lowered)
    if hinted:
        text = _without_device(lowered)
        # Where the spaced words keep the text's positions, read from the first hint's word on:
        # no word before it holds a hint (the hinted agents of the hostile lines: 10-13 -> 6-8 µs).
        start = hinted.start() + 1 if text is lowered and text.isascii() else 0
        if word := _bot_word(spaced(text), start):
            return f"contains the bot-like word {word!r}"
    # The family holds a bot word only if the text does or a rule naming a bot matches (asked
    # first where the family may go unread); a browser-form agent's family is read anyway, by
    # the rules below or for the answer.
    if (hinted or browser_form or parsed.may_name_a_bot) and (
        word := _family_bot_word(lowered, family := parsed.family)
    ) is not None:
        return f"ua-parser names it {family!r}, with the bot-like word {word!r}"
    if "java" in lowered and _JAVA_RUNTIME.search(lowered):
        return "a Java runtime's version: a Java program's HTTP stack"
    if not browser_form:
        # The kernel as the product, no app before it ("Darwin/25.6.0 (Watch7,18; watchOS 26.6)
        # MatomoTrackerSDK/7.8.0"; apps write "App/1.2 CFNetwork/... Darwin/..."). Round eleven:
        # 5 dev-A, 4 dev-B bots by the heuristics alone, no browser or app. Risk: none seen.
        if lowered.startswith("darwin/"):
            return "the operating system's kernel as its product: a library's own request"
        if "mozilla/" in lowered and _PREPENDED.search(lowered):
            return "a program's name prepended to a browser's user agent"
        if "gzip" in lowered and _GZIP_FIELD.search(lowered):
            return "a program's HTTP client naming its compression (gzip): no browser does"
        if after(cue, _ENGINE_OR_MARK_OR_DEVICE, lowered):
            return ""  # a browser's or a device's own agent in a non-Mozilla form
        if _screen(lowered):
            return ""  # a display size: a phone's, a TV's or an app's renderer
        if "(win" in lowered and _WINDOWS_SHORT.search(lowered):
            return ""  # a desktop app's own platform field (GOG Galaxy's client)
        if after(cue, _PLATFORM_WORDS, lowered) and parsed.family != "Other":
            return ""  # Dalvik, CFNetwork/Darwin, an app ua-parser knows on a named platform
        return "a program's own product token: no Mozilla/ form, rendering engine or device"
    if _ENGINE_COMMENT.search(lowered):
        return "adds its own words to the rendering engine's comment"
    if (
        (named := _COMPATIBLE.search(lowered))
        and not _MSIE_COMMENT.match(lowered)
        and not _marked(lowered, cue)
        and not (_FULL_PLATFORM.search(lowered) and parsed.family != "Other")
    ):
        return f"names itself in a compatible; comment ({named.group(1).strip()!r})"
    if _PLACEHOLDER.search(lowered):
        return "a template's placeholder where a browser sends its version"
    if _MS_STAMP.search(lowered):
        return "a millisecond timestamp where a product sends its version"
    if "msie" in lowered and _MSIE_UNVERSIONED.search(lowered):
        return "claims Internet Explorer without its version: IE always writes one"
    if "msie" in lowered and _MSIE_MIXED.search(lowered):
        return "another browser's version in Internet Explorer's comment: a made-up mix"
    if not lowered.startswith("mozilla/5.") and _ABOVE_MOZILLA_5.search(lowered):
        return "a Mozilla/ version above 5 beside Chrome's or Firefox's: made up"
    if parsed.family == "Other":
        if _TRUNCATED.search(lowered) and "android" not in lowered:
            return "ends at its rendering engine: no browser sends a truncated user agent"
        # A device's hardware marker (a TV, a console, a feature phone: KaiOS's "Mozilla/5.0
        # (Mobile; rv:68.0) KAIOS/3.0") counts here, in one search with the engines and names, as it
        # does for agents not in browser form, unless a "compatible" field is there, the form tools
        # name themselves in ("(watchOS 6.2; Watch; compatible; sv-watchagent; HTTPClient 4.5)", a
        # dev-A bot only its name catches). Round ten: dev-new 1 browser, dev-B 2 (counts, seen
        # before the rule was written) and 1 app each on dev-A and dev-B spared; no bot of any dev
        # pool lost, with the catalogue or without. Risk: a bot in Mozilla form naming a device
        # (none seen).
        spare = _ENGINE_OR_MARK_OR_DEVICE if "compatible" not in lowered else _ENGINE_OR_MARK
        if after(cue, spare, lowered) or _NETSCAPE.search(lowered):
            return ""  # a browser ua-parser does not name, or a device: its engine or name says so
        if _screen(lowered):
            return ""
        return "Mozilla/ prefix but no browser ua-parser knows and no rendering engine"
    return ""
