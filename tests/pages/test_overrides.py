"""Every override is used: docs/pages.md's own settings, catalogue, template and responder (run
as written), over a real server on both loops; bad ones fail at start-up, naming the setting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from scrapeshield.errors import ConfigurationError
from scrapeshield.settings import Settings
from tests.challenge.conftest import gallery
from tests.challenge.helpers import parse_page
from tests.pages.helpers import ENGLISH, JAPANESE, PAGES, ByPath, page_settings
from tests.servers import LOOPS

DOC = Path(__file__).resolve().parents[2] / "docs" / "pages.md"
FENCE = re.compile(r"^ *```(\w+)\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
FRENCH = {**ENGLISH, "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


def _blocks(kind: str) -> list[str]:
    found = [body for lang, body in FENCE.findall(DOC.read_text("utf-8")) if lang == kind]
    assert found, kind
    return found


def _documented_site(root: Path) -> dict[str, Any]:
    """docs/pages.md's files written under `root` as its comments name them; its branding
    TOML read there."""
    for block in _blocks("toml") + _blocks("jinja"):
        first = block.splitlines()[0]
        named = re.match(r"^(?:# |\{# )(\S+/\S+)", first)
        if named:
            path = root / named.group(1)
            path.parent.mkdir(exist_ok=True)
            path.write_text(block, "utf-8")
    branding = next(b for b in _blocks("toml") if "template_dir" in b)
    (root / "scrapeshield.toml").write_text(branding, "utf-8")
    return dict(Settings.from_file(root / "scrapeshield.toml").model_dump())


def test_every_toml_block_of_the_page_is_valid(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    _documented_site(tmp_path)
    for n, block in enumerate(_blocks("toml")):
        if not re.match(r"^# \S+/", block):  # settings, not a catalogue
            (tmp_path / f"{n}.toml").write_text(block, "utf-8")
            Settings.from_file(tmp_path / f"{n}.toml")


@pytest.mark.parametrize("loop", LOOPS)
def test_the_documented_overrides_are_used(loop: str, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    documented = _documented_site(tmp_path)
    options = {k: documented[k] for k in ("site_name", "terms_url", "pages")}
    with (
        gallery(page_settings(**options), detectors=[ByPath()], loop=loop) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        block = client.get(PAGES["block"], headers=ENGLISH)
        french = client.get(PAGES["block"], headers=FRENCH)
        japanese = client.get(PAGES["throttle"], headers=JAPANESE)
    reference = re.search(r"<code>([0-9a-f]+)</code>", block.text)
    assert reference
    assert "Licensing our artists" in block.text  # templates/block.html
    assert "Example Art" in block.text  # site_name
    assert '<img src="/static/logo.svg" alt="Example Art">' in block.text  # logo_url
    assert f"subject=Blocked%20{reference.group(1)}" in block.text  # contact_url, with the id
    assert '<a href="/terms">' in block.text
    assert '<html lang="fr">' in french.text  # catalogues/fr.toml
    assert "Accès refusé" in french.text
    assert "L&#39;accès automatisé au contenu de Example Art" in french.text  # {site}
    assert "Access denied" not in french.text
    assert "Licensing our artists" in french.text  # the override, in French
    assert "Too many requests" not in japanese.text  # a page not overridden: still Japanese
    assert "リクエストが多すぎます" in japanese.text
    assert "Example Art" in japanese.text


def _documented_responder() -> Any:
    namespace: dict[str, Any] = {}
    exec(_blocks("python")[0], namespace)
    return namespace["responder"]


@pytest.mark.parametrize("loop", LOOPS)
def test_the_responder_is_asked_for_challenges_too(loop: str) -> None:
    responder = _documented_responder()
    asked: list[str] = []

    def recording(decision: Any, facts: Any) -> Any:
        asked.append(f"{decision.action}:{facts.path}")
        return responder(decision, facts)

    api = {"Accept": "application/json", "User-Agent": ENGLISH["User-Agent"]}
    with (
        gallery(
            page_settings(responder=recording, blocklist=[{"name": "api", "paths": ["/api/*"]}]),
            detectors=[ByPath()],
            loop=loop,
        ) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        own = client.get("/api/artworks/4", headers=api)
        page = client.get(PAGES["challenge"], headers=ENGLISH)
        blocked = client.get(PAGES["block"], headers=ENGLISH)
    assert "challenge:/artworks/4" in asked  # asked, declined: the challenge page
    parse_page(page.text)
    assert blocked.status_code == 403
    assert "Access denied" in blocked.text
    assert own.status_code == 403  # an API route: the responder's own format
    assert own.json() == {"code": "scrapeshield-block", "reference": own.json()["reference"]}


def test_a_challenge_responders_own_response_and_its_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def own(decision: Any, facts: Any) -> Any:
        if facts.path == PAGES["challenge"]:
            return httpx_free_response()
        return None

    def broken(decision: Any, facts: Any) -> Any:
        raise RuntimeError("responder bug")

    with (
        gallery(page_settings(responder=own), detectors=[ByPath()]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        mine = client.get(PAGES["challenge"], headers=ENGLISH)
    assert mine.status_code == 418
    assert mine.text == "own challenge"
    with (
        gallery(page_settings(responder=broken), detectors=[ByPath()]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        fallback = client.get(PAGES["challenge"], headers=ENGLISH)
    parse_page(fallback.text)  # the challenge page, never one without the puzzle
    assert "responder failed" in caplog.text


def httpx_free_response() -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("own challenge", 418)


def test_an_override_challenge_gets_the_nonce(tmp_path: Path) -> None:
    (tmp_path / "challenge.html").write_text(
        '{% extends "builtin/challenge.html" %}{% block scripts %}{{ super() }}'
        '<script nonce="{{ nonce }}">window.own = 1;</script>{% endblock %}',
        "utf-8",
    )
    settings = page_settings(pages={"template_dir": str(tmp_path)})
    with (
        gallery(settings, detectors=[ByPath()]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        page = client.get(PAGES["challenge"], headers=JAPANESE)
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce
    assert f'<script nonce="{nonce.group(1)}">window.own = 1;</script>' in page.text
    assert page.text.count(f'nonce="{nonce.group(1)}"') == 2
    parse_page(page.text)
    assert '<html lang="ja">' in page.text


def test_operator_and_client_values_are_escaped(tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    settings = page_settings(site_name=hostile, trust_request_id=True)
    with (
        gallery(settings, detectors=[ByPath()]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        pages = [
            client.get(path, headers={**JAPANESE, "X-Request-ID": "<b>x</b>"})
            for path in PAGES.values()
        ]
    for page in pages:
        assert "<img src=x" not in page.text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page.text
        assert "<b>x</b>" not in page.text


def test_a_template_that_fails_on_a_request_falls_back_to_the_packaged_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "block.html").write_text(
        '{% if request_id == "boom" %}{{ 1 // 0 }}{% endif %}own {{ request_id }}', "utf-8"
    )
    settings = page_settings(pages={"template_dir": str(tmp_path)}, trust_request_id=True)
    with (
        gallery(settings, detectors=[ByPath()]) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        fine = client.get(PAGES["block"], headers={**ENGLISH, "X-Request-ID": "calm"})
        boom = client.get(PAGES["block"], headers={**ENGLISH, "X-Request-ID": "boom"})
    assert fine.text == "own calm"
    assert boom.status_code == 403
    assert "<h1>Access denied</h1>" in boom.text
    assert "block.html failed" in caplog.text


@pytest.mark.parametrize(
    ("files", "pages", "expected"),
    [
        ({"block.html": "{% block x %}"}, {}, "block.html line 1: Unexpected end of template"),
        ({"block.html": "{{ site_nmae }}"}, {}, "'site_nmae' is undefined"),
        ({"blok.html": "x"}, {}, "blok.html: not a page template"),
        ({}, {"template_dir": "/nonexistent"}, "is not a directory"),
        ({"fr.toml": '[block]\ntitel = "x"'}, {}, "unknown key 'block.titel'"),
        ({"fr.toml": '[block]\ntitle = "{who}"'}, {}, "unknown placeholder ['who']"),
        ({"fr.toml": "[block\n"}, {}, "fr.toml: Expected ']'"),
        ({"Français.toml": "[block]"}, {}, "is not a language tag"),
        ({}, {"languages": ["en", "de"]}, "no catalogue for ['de']"),
        ({}, {"logo_url": "https://cdn.example/logo.svg"}, "pages.logo_url"),
        ({}, {"contact_url": "javascript:alert(1)"}, "pages.contact_url"),
    ],
)
def test_bad_pages_settings_fail_at_start_up(
    tmp_path: Path, files: dict[str, str], pages: dict[str, Any], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    options: dict[str, Any] = dict(pages)
    if any(name.endswith(".html") for name in files):
        options["template_dir"] = str(tmp_path)
    if any(name.endswith(".toml") for name in files):
        options["catalogue_dir"] = str(tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        Settings(pages=options)
    assert expected in str(caught.value)
    setting = "catalogue_dir" if options.get("catalogue_dir") else "template_dir"
    named = next(f"pages.{k}" for k in (setting, *pages) if k in options)
    assert named in str(caught.value)


def test_every_packaged_catalogue_is_complete() -> None:
    from scrapeshield.pages.catalogue import load, packaged

    catalogues = load(None)
    assert set(catalogues) >= {"en", "ja"}
    for lang, texts in packaged().items():
        assert set(texts) == set(catalogues["en"]), lang  # shipped translations are whole
