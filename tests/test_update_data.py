"""`scrapeshield update-data` against a real local HTTP server serving fixture files."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from scrapeshield.cli import main
from scrapeshield.fingerprint.catalogue import load_catalogue
from scrapeshield.fingerprint.ipranges import load_ip_ranges, manifest
from tests.servers import serve

ROBOTS = Path(__file__).parent / "data" / "ai-robots-txt" / "robots.json"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    (root / "ip-ranges").mkdir(parents=True)
    robots = json.loads(ROBOTS.read_text("utf-8"))
    robots["BrandNewAIBot"] = {"function": "Scrapes data to train models.", "operator": "X"}
    (root / "robots.json").write_text(json.dumps(robots), "utf-8")
    google = {"creationTime": "now", "prefixes": [{"ipv4Prefix": "192.0.2.0/24"}]}
    (root / "ip-ranges" / "googlebot.json").write_text(json.dumps(google), "utf-8")
    (root / "ip-ranges" / "bingbot.json").write_text("not a range list", "utf-8")
    return root


@pytest.mark.slow
def test_update_data_fetches_validates_and_keeps_old_files_on_failure(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "ip-ranges").mkdir(parents=True)
    (data_dir / "ip-ranges" / "bingbot.json").write_text('{"cidrs": ["198.51.100.0/24"]}')
    app = Starlette()
    app.mount("/", StaticFiles(directory=mirror))
    with serve(app) as server:
        code = main(["update-data", "--data-dir", str(data_dir), "--mirror", server.url])
    out, err = capsys.readouterr()
    assert code == 1  # some lists were missing or garbled
    assert "updated" in out
    assert "ip-ranges/bingbot.json" in err
    assert "previous data kept" in err
    catalogue = load_catalogue(str(data_dir))
    agent = catalogue.by_name("BrandNewAIBot")
    assert agent is not None
    assert agent.category == "ai-training"
    assert "fetched from http://127.0.0.1" in catalogue.source
    ranges = load_ip_ranges(str(data_dir))
    assert ranges.contains("googlebot", ipaddress.ip_address("192.0.2.7"))
    assert not ranges.contains("googlebot", ipaddress.ip_address("66.249.66.1"))
    assert ranges.contains("bingbot", ipaddress.ip_address("198.51.100.1"))  # old file kept
    assert sorted(ranges.names()) == sorted(k for k, v in manifest().items() if isinstance(v, dict))


def test_update_data_refuses_without_a_data_dir(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["update-data"]) == 2
    assert "fingerprint.data_dir" in capsys.readouterr().err


def test_packaged_data_is_used_when_the_data_dir_is_empty(tmp_path: Path) -> None:
    assert load_catalogue(str(tmp_path)).by_name("GPTBot") is not None
