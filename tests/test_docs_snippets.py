"""Every snippet a reader may copy is checked: each TOML block loads as settings, each Python
block compiles, each shell line that runs `scrapeshield` names a real command and options it
accepts. A snippet that fails here would fail for the reader first."""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from scrapeshield import Settings
from scrapeshield.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
# Blocks that are not a settings file, each tested where it is used.
NOT_SETTINGS = {
    "pages.md": "a text catalogue, and folders of templates: tests/pages/test_overrides.py",
}


def blocks(kind: str) -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        for n, (lang, text) in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            if lang == kind:
                found.append((page.name, n, text))
    return found


@pytest.mark.parametrize(("page", "n", "text"), blocks("toml"), ids=lambda v: str(v)[:20])
def test_toml_blocks_are_valid_settings(page: str, n: int, text: str, tmp_path: Path) -> None:
    tomllib.loads(text)  # every block is TOML, whatever it configures
    if page in NOT_SETTINGS:
        return
    path = tmp_path / "scrapeshield.toml"
    path.write_text(text, encoding="utf-8")
    Settings.from_file(path)


@pytest.mark.parametrize(("page", "n", "text"), blocks("python"), ids=lambda v: str(v)[:20])
def test_python_blocks_compile(page: str, n: int, text: str) -> None:
    compile(text, f"{page} block {n}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def scrapeshield_lines() -> list[tuple[str, str]]:
    lines = []
    for page, _, text in blocks("sh") + blocks("console") + blocks("bash"):
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip().removeprefix("$ ")
            synopsis = any(mark in line for mark in ("<", "...", " ["))  # a usage line
            if line.startswith("scrapeshield ") and not synopsis:
                lines.append((page, line))
    return lines


@pytest.mark.parametrize(("page", "line"), scrapeshield_lines())
def test_cli_lines_parse(page: str, line: str) -> None:
    """argparse accepts the line as shown (it exits 2 on an unknown command or option)."""
    words = shlex.split(line.split("|", 1)[0])[1:]
    build_parser().parse_args(words)


def test_the_snippets_were_found() -> None:
    assert len(blocks("toml")) >= 15
    assert len(blocks("python")) >= 15
    assert len(scrapeshield_lines()) >= 10
