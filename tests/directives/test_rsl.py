"""The RSL 1.0 licence: served over uvicorn, announced in robots.txt and HTML, checked against
the structure and vocabulary of the RSL 1.0 specification (no XSD is published for it)."""

from __future__ import annotations

import urllib.robotparser
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from protego import Protego

from scrapeshield import Settings
from scrapeshield.directives.html import meta_tags
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.rsl import RSL_NAMESPACE, render_rsl
from scrapeshield.errors import ConfigurationError
from tests.browsers import firefox
from tests.directives.apps import BROWSER, PAGE, make_app
from tests.servers import LOOPS, serve

NS = "{" + RSL_NAMESPACE + "}"
# RSL 1.0's elements (its element table) and usage tokens; what we emit must stay inside them.
SPEC_ELEMENTS = {
    "rsl", "content", "license", "permits", "prohibits", "payment", "standard", "custom",
    "amount", "legal", "schema", "copyright", "terms",
}  # fmt: skip
SPEC_USAGE = {"all", "ai-all", "ai-train", "ai-input", "ai-index", "search"}
# The specification's "Prohibit AI training" template, as element paths and values.
TEMPLATE_PROHIBIT = [("rsl/content/license/prohibits", {"type": "usage"}, "ai-train")]
BASE = "https://art.example"
LICENCE: dict[str, Any] = {"rsl": True, "rsl_base_url": BASE}


def shape(document: str) -> list[tuple[str, dict[str, str], str]]:
    """Every element as (path, attributes, text), namespace checked and removed."""
    root = ET.fromstring(document.encode())
    assert root.tag == NS + "rsl"
    found = []

    def walk(element: ET.Element, path: str) -> None:
        assert element.tag.startswith(NS), element.tag
        name = element.tag[len(NS) :]
        assert name in SPEC_ELEMENTS, name
        here = f"{path}/{name}" if path else name
        found.append((here, dict(element.attrib), (element.text or "").strip()))
        for child in element:
            walk(child, here)

    walk(root, "")
    for path, attrib, text in found:
        if path.endswith(("/permits", "/prohibits")) and attrib.get("type") == "usage":
            assert set(text.split(",")) <= SPEC_USAGE, text
    return found


def test_the_default_licence_is_the_specifications_prohibit_template() -> None:
    settings = Settings(terms_url="/terms", directives=LICENCE).directives
    found = shape(render_rsl(settings, PreferenceResolver(settings), "/terms"))
    for element in TEMPLATE_PROHIBIT:
        assert element in found
    contents = [a["url"] for p, a, _ in found if p == "rsl/content"]
    assert contents == [f"{BASE}/"]
    assert ("rsl/content/terms", {}, f"{BASE}/terms") in found


def test_paths_and_a_payment() -> None:
    settings = Settings(
        directives={
            **LICENCE,
            "paths": [
                {"prefix": "/open/", "train_ai": True},
                {"prefix": "/private/", "search": False},
            ],
            "rsl_payment_type": "training",
            "rsl_payment_amount": 0.25,
            "rsl_payment_url": f"{BASE}/licensing",
        }
    ).directives
    found = shape(render_rsl(settings, PreferenceResolver(settings)))
    contents = [a["url"] for p, a, _ in found if p == "rsl/content"]
    assert contents == [f"{BASE}/private/", f"{BASE}/open/", f"{BASE}/"]
    usages = [(p.rsplit("/", 1)[1], t) for p, a, t in found if a.get("type") == "usage"]
    assert usages == [
        ("permits", "ai-train"), ("prohibits", "search"),  # /private/: training licensed
        ("permits", "ai-train,search"),  # /open/
        ("permits", "ai-train,search"),  # the site: training licensed for a payment
    ]  # fmt: skip
    assert ("rsl/content/license/payment", {"type": "training"}, "") in found
    assert ("rsl/content/license/payment/amount", {"currency": "USD"}, "0.25") in found
    assert ("rsl/content/license/payment/custom", {}, f"{BASE}/licensing") in found


def test_rsl_needs_an_absolute_base() -> None:
    with pytest.raises(ConfigurationError, match="rsl_base_url"):
        Settings(directives={"rsl": True})
    with pytest.raises(ConfigurationError, match="rsl_payment_type"):
        Settings(directives={**LICENCE, "rsl_payment_type": "gratis"})


@pytest.mark.parametrize("loop", LOOPS)
def test_served_and_announced(loop: str) -> None:
    app = make_app(inject_html=True, **LICENCE)
    with serve(app, loop=loop) as server, httpx.Client(base_url=server.url) as client:
        licence = client.get("/license.xml", headers=firefox(**{"User-Agent": BROWSER}))
        assert licence.status_code == 200
        assert licence.headers["content-type"] == "application/rsl+xml"
        shape(licence.text)
        again = client.get("/license.xml", headers={"If-None-Match": licence.headers["etag"]})
        assert again.status_code == 304

        robots = client.get("/robots.txt").text
        lines = robots.splitlines()
        assert lines.count(f"License: {BASE}/license.xml") == 1
        assert lines.index(f"License: {BASE}/license.xml") < lines.index("User-agent: *")
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(lines)
        protego = Protego.parse(robots)
        assert not parser.can_fetch("GPTBot", f"{BASE}/gallery/1")
        assert not protego.can_fetch(f"{BASE}/gallery/1", "GPTBot")
        assert parser.can_fetch("Googlebot", f"{BASE}/gallery/1")
        assert protego.can_fetch(f"{BASE}/gallery/1", "Googlebot")

        page = client.get("/gallery/1", headers=firefox(**{"User-Agent": BROWSER})).text
        link = f'<link rel="license" type="application/rsl+xml" href="{BASE}/license.xml">'
        assert page == PAGE.replace(
            "<head>", "<head>" + meta_tags(license_url=f"{BASE}/license.xml")
        )
        assert link in page


def test_the_operators_own_licence_line_wins() -> None:
    from scrapeshield.directives import generated_robots

    own = "License: https://other.example/terms.xml\nUser-agent: *\nAllow: /\n"
    robots = generated_robots(Settings(directives={**LICENCE, "robots_rules": own}))
    assert robots.count("License:") == 1
    assert "License: https://other.example/terms.xml" in robots


def test_the_documented_example_is_what_is_served() -> None:
    from pathlib import Path

    settings = Settings(
        terms_url="/terms",
        directives={**LICENCE, "paths": [{"prefix": "/open/", "train_ai": True}]},
    )
    rendered = render_rsl(settings.directives, PreferenceResolver(settings.directives), "/terms")
    docs = (Path(__file__).resolve().parents[2] / "docs" / "directives.md").read_text("utf-8")
    assert f"```xml\n{rendered}```" in docs
