"""`scrapeshield explain` explains the request a real client would send: its default address is
in no documented range, the scheme decides the secure context, a bare browser UA is flagged,
bad input exits 2, paths are decoded as servers decode them, and recorded requests (curl, HAR)
and route marks (--app) are read."""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from scrapeshield.cli import main
from scrapeshield.cli.parsers import DEFAULT_IP

ROOT = Path(__file__).resolve().parent.parent
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)


def explain(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["explain", "--json", *argv]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def signal_names(result: dict[str, Any]) -> set[str]:
    return {signal["name"] for signal in result["signals"]}


def test_the_default_ip_is_in_no_documented_range(capsys: pytest.CaptureFixture[str]) -> None:
    text = "\n".join(p.read_text("utf-8") for p in [ROOT / "README.md", *ROOT.glob("docs/**/*.md")])
    found = re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?\b", text)
    networks = []
    for cidr in found:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:  # e.g. a version number, or an invalid address shown as one
            continue
    assert len(networks) > 10  # the docs do show addresses: the check means something
    default = ipaddress.ip_address(DEFAULT_IP)
    # (the docs name the default itself, as one address: that is not a range holding it)
    assert not [n for n in networks if default in n and 0 < n.prefixlen < 32]
    assert main(["explain"]) == 0
    assert f"(the default --ip {DEFAULT_IP}" in capsys.readouterr().out


def test_the_scheme_decides_the_secure_context(capsys: pytest.CaptureFixture[str]) -> None:
    """Over plain HTTP a browser sends no Sec-Fetch-* or client hints: not held against it."""
    headers = ["--header", "Accept: text/html", "--header", "Accept-Language: en"]
    plain = explain(capsys, "--scheme", "http", "--ua", CHROME, *headers)
    assert plain["secure_context"] is False
    assert "headers/chromium-no-sec-fetch" not in signal_names(plain)
    secure = explain(capsys, "--scheme", "https", "--ua", CHROME, *headers)
    assert secure["secure_context"] is True
    assert "headers/chromium-no-sec-fetch" in signal_names(secure)
    # a Host header given replaces the default one (no second Host)
    local = explain(capsys, "--scheme", "http", "--header", "Host: localhost:8000")
    assert (local["host"], local["secure_context"]) == ("localhost:8000", True)


def test_a_bare_browser_ua_gets_a_hint_and_browser_headers_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = explain(capsys, "--ua", CHROME)
    assert bare["action"] == "block"
    assert "--browser-headers" in bare["hint"]
    for agent in (CHROME, FIREFOX, SAFARI):
        for scheme in ("https", "http"):
            full = explain(capsys, "--ua", agent, "--browser-headers", "--scheme", scheme)
            assert (full["action"], full["signals"], full["hint"]) == ("allow", [], None), agent
    assert explain(capsys, "--ua", "GPTBot/1.2")["hint"] is None  # not a browser: no hint


@pytest.mark.parametrize(
    "argv",
    [
        ["--ip", "nonsense"],
        ["--ip", "999.1.1.1"],
        ["--header", "no colon"],
        ["--path", "images/1.png"],
        ["--ua", "curl/8", "--browser-headers"],
        ["--from-curl", "curl 'https://a.example/x"],  # unbalanced quote
        ["--from-curl", "curl -H"],
        ["--from-curl", "curl --data x https://a.example/"],  # a body: not understood
        ["--from-har", "/nonexistent.har"],
        ["--app", "no_colon"],
        ["--app", "no_such_module_here:app"],
    ],
)
def test_bad_input_is_a_clear_error_with_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scrapeshield explain: ")
    assert "Traceback" not in err


def test_paths_are_percent_decoded_like_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    image = explain(capsys, "--path", "/images/caf%C3%A9.png?size=2")
    assert (image["path"], image["query"], image["route_group"]) == (
        "/images/café.png",
        "size=2",
        "images",
    )
    # uvicorn decodes /%68ealthz to /healthz: a health path, passed through
    assert explain(capsys, "--path", "/%68ealthz")["health_path"] is True


def test_from_curl(capsys: pytest.CaptureFixture[str]) -> None:
    command = (
        "curl 'https://art.example/artworks/7?x=1' -H 'Accept: text/html' "
        f"-A '{CHROME}' -e https://art.example/ -b 'a=1; b=2' -H 'accept-language: ja' "
        "--compressed -X GET"
    )
    result = explain(capsys, "--from-curl", command)
    assert (result["method"], result["host"], result["path"]) == (
        "GET",
        "art.example",
        "/artworks/7",
    )
    assert result["query"] == "x=1"
    assert result["user_agent"] == CHROME
    assert result["header_names"] == [
        "host",
        "accept",
        "user-agent",
        "referer",
        "cookie",
        "accept-language",
        "accept-encoding",
    ]
    plain = explain(capsys, "--from-curl", "curl -I http://art.example/")
    assert (plain["method"], plain["scheme"], plain["user_agent"]) == (
        "HEAD",
        "http",
        "curl/7.88.1",
    )
    assert plain["action"] == "block"  # what curl itself sends is curl's: a scraper tool


def test_from_har(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    har = {
        "log": {
            "entries": [
                {"request": {"method": "GET", "url": "https://art.example/", "headers": []}},
                {
                    "request": {
                        "method": "get",
                        "url": "https://art.example/images/1.png",
                        "headers": [
                            {"name": ":authority", "value": "art.example"},
                            {"name": ":method", "value": "GET"},
                            {"name": "user-agent", "value": FIREFOX},
                            {"name": "accept", "value": "image/avif,image/webp,*/*"},
                        ],
                    }
                },
            ]
        }
    }
    path = tmp_path / "recorded.har"
    path.write_text(json.dumps(har), encoding="utf-8")
    result = explain(capsys, "--from-har", str(path), "--entry", "1")
    assert (result["method"], result["path"], result["route_group"]) == (
        "GET",
        "/images/1.png",
        "images",
    )
    assert result["header_names"] == ["host", "user-agent", "accept"]
    assert result["user_agent"] == FIREFOX
    assert main(["explain", "--from-har", str(path), "--entry", "2"]) == 2
    assert "no entry 2 (2 entries" in capsys.readouterr().err
    path.write_text("[]", encoding="utf-8")
    assert main(["explain", "--from-har", str(path)]) == 2
    assert "not a HAR file" in capsys.readouterr().err


APP_MODULE = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from scrapeshield import route

@route.limit("5/minute")
async def login(request):
    return PlainTextResponse("ok")

app = Starlette(routes=[Route("/login", login, methods=["POST"])])
"""


def test_route_marks_show_with_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "explain_marked_app.py").write_text(APP_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        argv = ["--app", "explain_marked_app:app", "--method", "POST", "--path", "/login"]
        result = explain(capsys, *argv)
        assert (result["route"], result["route_marks"]) == (
            "login",
            "limits 5/minute (cost 1, throttle)",
        )
        assert main(["explain", *argv]) == 0
        assert "route     login: limits 5/minute (cost 1, throttle)" in capsys.readouterr().out
        assert (
            explain(capsys, "--app", "explain_marked_app:app", "--path", "/login")["route"] is None
        )
    finally:
        sys.modules.pop("explain_marked_app", None)
