"""What the package index and a new user see: one version, a licence, absolute README links, and
a documented API that imports."""

from __future__ import annotations

import importlib
import re
import tomllib
from importlib.metadata import metadata
from pathlib import Path

import scrapeshield

ROOT = Path(__file__).resolve().parents[1]
RELATIVE_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)]+)\)")


def test_the_version_has_one_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    assert metadata("scrapeshield")["Version"] == scrapeshield.__version__


def test_the_licence_file_matches_the_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert project["license-files"] == ["LICENSE"]


def test_the_changelog_names_the_current_version() -> None:
    assert f"## {scrapeshield.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_readme_links_work_on_the_package_index() -> None:
    """PyPI renders the README away from the repository: a relative link would be a 404 there."""
    for name in ("README.md", "CHANGELOG.md"):
        assert RELATIVE_LINK.findall((ROOT / name).read_text()) == [], name


def test_the_project_urls_are_complete() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)


def test_every_documented_submodule_name_imports() -> None:
    """docs/api.md's table of documented submodules is the promise; each name must exist."""
    text = (ROOT / "docs" / "api.md").read_text().split("## Documented submodules", 1)[1]
    dotted = re.findall(r"`(scrapeshield(?:\.\w+)+)`", text)
    grouped = re.findall(r"`(scrapeshield(?:\.\w+)+)` \(([^)]*)\)", text)
    names = [(path.rsplit(".", 1)[0], path.rsplit(".", 1)[1]) for path in dotted]
    names += [(module, n) for module, listed in grouped for n in re.findall(r"`(\w+)`", listed)]
    assert len(names) >= 6
    for module, name in names:
        try:
            owner = importlib.import_module(f"{module}.{name}")
        except ModuleNotFoundError:
            owner = getattr(importlib.import_module(module), name)
        assert owner is not None, f"{module}.{name}"


def test_every_name_a_lazy_package_exports_resolves() -> None:
    """`from scrapeshield.directives import meta_tags` (shown in the docs) once raised."""
    import scrapeshield.directives as directives

    for name in directives.__all__:
        assert getattr(directives, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from scrapeshield.directives import *", namespace)
    assert set(directives.__all__) <= set(namespace)
