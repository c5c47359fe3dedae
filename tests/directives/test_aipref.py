"""aipref: today's vocabulary (train-ai, search) as Structured Field dictionaries in the header
and robots.txt (with the path-scoped form), and earlier drafts' category names in settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import http_sf
import pytest

from scrapeshield import Settings
from scrapeshield.directives import generated_robots
from scrapeshield.directives.headers import directive_headers
from scrapeshield.directives.settings import DirectivesSettings, Preferences


def usage(value: str) -> dict[str, str]:
    """A Content-Usage value read by an RFC 9651 parser (http-sf): category -> y/n."""
    parsed: Any = http_sf.parse(value.encode(), tltype="dictionary")
    assert isinstance(parsed, dict)
    return {key: str(item[0]) for key, item in parsed.items()}


@pytest.mark.parametrize(
    ("prefs", "expected"),
    [
        (Preferences(), {"train-ai": "n"}),
        (Preferences(train_ai=True), {"train-ai": "y"}),
        (Preferences(search=False), {"train-ai": "n", "search": "n"}),
    ],
)
def test_the_header_is_a_structured_field_dictionary(
    prefs: Preferences, expected: dict[str, str]
) -> None:
    headers = dict(directive_headers(prefs, DirectivesSettings()))
    assert usage(headers[b"content-usage"].decode()) == expected


def test_robots_lines_with_and_without_a_path() -> None:
    settings = Settings(
        directives={
            "paths": [{"prefix": "/open/", "train_ai": True}, {"prefix": "/wip/", "search": False}]
        }
    )
    lines = [
        line.split(":", 1)[1].strip()
        for line in generated_robots(settings).splitlines()
        if line.startswith("Content-Usage:")
    ]
    scoped = {}
    for line in lines:
        path, _, rest = line.partition(" ") if line.startswith("/") else ("", "", line)
        scoped[path] = usage(rest)
    assert scoped == {
        "": {"train-ai": "n"},
        "/open/": {"train-ai": "y"},
        "/wip/": {"train-ai": "n", "search": "n"},
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"train-genai": True}, Preferences(train_ai=True)),  # -00/-01: generative AI training
        ({"foundation-model": True}, Preferences(train_ai=True)),  # the category's old name
        ({"bots": False}, Preferences(train_ai=False, search=False)),  # automated processing
        ({"automated_processing": True}, Preferences()),  # allowing the parent says nothing
        ({"train-ai": True, "search": False}, Preferences(train_ai=True, search=False)),
        ({"ai-use": False}, Preferences()),  # dropped from the vocabulary: ignored
    ],
)
def test_earlier_category_names_are_accepted_and_mapped(
    given: dict[str, bool], expected: Preferences
) -> None:
    assert Preferences(**given) == expected


def test_earlier_names_in_toml(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[directives.defaults]\n"train-genai" = false\n\n'
        '[[directives.paths]]\nprefix = "/open/"\n"train-genai" = true\n',
        encoding="utf-8",
    )
    section = Settings.from_file(path).directives
    assert section.defaults == Preferences(train_ai=False)
    assert section.paths[0].train_ai is True
