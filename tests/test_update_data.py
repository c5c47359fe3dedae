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
from scrapeshield.fingerprint.datacenter_ranges import load_provider_ranges
from scrapeshield.fingerprint.ipranges import load_ip_ranges, manifest
from tests.servers import LOOPS, serve

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


def datacenter_mirror(root: Path, relay: str) -> None:
    folder = root / "datacenter"
    folder.mkdir(parents=True)
    (folder / "private-relay.csv").write_text(relay, "utf-8")
    aws = {
        "prefixes": [
            {"ip_prefix": "5.9.0.0/16", "service": "EC2"},
            {"ip_prefix": "5.10.0.0/16", "service": "CLOUDFRONT"},  # not a service we count
        ],
        "ipv6_prefixes": [{"ipv6_prefix": "2a05:d000::/25", "service": "EC2"}],
    }
    (folder / "aws.json").write_text(json.dumps(aws), "utf-8")
    (folder / "gcp.json").write_text('{"prefixes": [{"ipv4Prefix": "34.1', "utf-8")  # truncated
    (folder / "oracle.json").write_text('{"regions": []}', "utf-8")  # valid, but empty
    (folder / "digitalocean.csv").write_text("5.101.96.0/21,NL,NL-NH,Amsterdam,\n", "utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("loop", LOOPS)
def test_update_data_refreshes_cloud_ranges_and_keeps_old_files_on_bad_input(
    loop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mirror"
    datacenter_mirror(root, "5.9.7.0/24,US,US-CA,Los Angeles,\n2a05:d000:1::/48,US,,,\n")
    data_dir = tmp_path / "data"
    (data_dir / "datacenter").mkdir(parents=True)
    (data_dir / "datacenter" / "gcp.txt").write_text("# earlier refresh\n35.190.0.0/17\n")
    app = Starlette()
    app.mount("/", StaticFiles(directory=root))
    with serve(app, loop=loop) as server:
        code = main(["update-data", "--data-dir", str(data_dir), "--mirror", server.url])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"updated  {data_dir}/datacenter/aws.txt" in out
    assert f"updated  {data_dir}/datacenter/digitalocean.txt" in out
    assert "datacenter/gcp.txt" in err
    assert "not a google range document" in err
    assert "no IP ranges found in the oracle document" in err
    assert "datacenter/linode.txt" in err  # not served: 404
    assert "azure" not in out + err  # no public URL: never fetched
    aws = (data_dir / "datacenter" / "aws.txt").read_text()
    assert aws.startswith("# Amazon Web Services (EC2): fetched from http://127.0.0.1")
    table = load_provider_ranges(str(data_dir))
    assert table.lookup(ipaddress.ip_address("5.9.6.1")) == "Amazon Web Services (EC2)"
    assert table.lookup(ipaddress.ip_address("5.9.7.1")) is None  # Private Relay egress
    assert table.lookup(ipaddress.ip_address("5.10.0.1")) is None  # CloudFront left out
    assert table.lookup(ipaddress.ip_address("2a05:d000::1")) == "Amazon Web Services (EC2)"
    assert table.lookup(ipaddress.ip_address("2a05:d000:1::1")) is None
    assert table.lookup(ipaddress.ip_address("35.190.0.1")) == "Google Cloud"  # old file kept
    assert table.lookup(ipaddress.ip_address("40.233.0.1")) == "Oracle Cloud Infrastructure"
    assert table.lookup(ipaddress.ip_address("5.101.96.1")) == "DigitalOcean"


@pytest.mark.slow
def test_update_data_replaces_no_cloud_list_without_the_private_relay_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mirror"
    datacenter_mirror(root, "<html>Service Unavailable</html>\n")
    data_dir = tmp_path / "data"
    app = Starlette()
    app.mount("/", StaticFiles(directory=root))
    with serve(app) as server:
        assert main(["update-data", "--data-dir", str(data_dir), "--mirror", server.url]) == 1
    err = capsys.readouterr().err
    assert "exclusion list private-relay" in err
    assert "no IP ranges found in the csv document" in err
    assert not (data_dir / "datacenter").exists()
    packaged = load_provider_ranges(str(data_dir))
    assert packaged.lookup(ipaddress.ip_address("3.5.140.7")) == "Amazon Web Services (EC2)"
