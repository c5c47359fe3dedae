"""The documentation stays true to the code: every setting documented, every TOML example valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scrapeshield import Settings
from scrapeshield.credentials.settings import CredentialSpec
from scrapeshield.settings import PolicySettings, RouteGroupSpec, RuleSpec

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TOML_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def test_the_first_pages_exist() -> None:
    for page in ("quickstart", "settings", "block-log", "architecture", "store"):
        assert (DOCS / f"{page}.md").is_file(), page


def test_every_setting_is_documented() -> None:
    text = all_docs()
    for model in (Settings, PolicySettings, RuleSpec, RouteGroupSpec, CredentialSpec):
        for name in model.model_fields:
            documented = f"`{name}`" in text or f"[{name}]" in text or f"[[{name}]]" in text
            assert documented, f"{model.__name__}.{name} is not in docs/ (as `{name}` or [{name}])"


@pytest.mark.parametrize(
    "page", ["README.md", "docs/settings.md", "docs/rate-limiting.md", "docs/django.md"]
)
def test_toml_examples_are_valid_settings(page: str, tmp_path: Path) -> None:
    blocks = TOML_BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))
    assert blocks
    for n, block in enumerate(blocks):
        path = tmp_path / f"{n}.toml"
        path.write_text(block, encoding="utf-8")
        Settings.from_file(path)


def _links(text: str) -> set[str]:
    return set(re.findall(r"\]\(([^)#\s]+\.md)\)", text))


def test_readme_and_the_docs_index_link_every_page() -> None:
    pages = {p.name for p in DOCS.glob("*.md")}
    index = DOCS / "README.md"
    assert index.is_file(), "docs/ needs an index (docs/README.md)"
    assert pages - {"README.md"} <= _links(index.read_text(encoding="utf-8"))
    readme = {Path(link).name for link in _links((ROOT / "README.md").read_text(encoding="utf-8"))}
    assert pages <= readme, sorted(pages - readme)
    for link in _links(index.read_text(encoding="utf-8")):
        assert (DOCS / link).is_file(), link


def test_the_api_page_names_every_public_member() -> None:
    import scrapeshield

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    for name in scrapeshield.__all__:
        assert f"`{name}`" in text or f"`{name}(" in text, name


def test_every_page_is_in_the_site_nav() -> None:
    """`mkdocs build --strict` (in .ci/run) refuses a page missing from the nav: caught here."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?([\w.-]+\.md)\s*$", nav, re.MULTILINE))
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages - listed == set()
