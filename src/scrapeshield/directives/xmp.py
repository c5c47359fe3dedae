"""The XMP packet embedded in served images: IPTC PLUS data-mining, rights and TDMRep properties.

`RightsFields` are the values for one set of preferences (site, path or artist). `xmp_packet`
writes them as a fresh packet; `merge_xmp` sets them in a packet the image already carries,
keeping every other property (a packet that does not parse, or declares a DTD, returns None:
the caller then leaves the image untouched rather than risk breaking it).

Vocabularies:
- IPTC PLUS `plus:DataMining` (ns `http://ns.useplus.org/ldf/xmp/1.0/`, values in
  `http://ns.useplus.org/ldf/vocab/`), as in the IPTC Photo Metadata Standard 2023.1;
- `xmpRights:WebStatement` / `xmpRights:Marked`, `dc:rights`, `photoshop:Credit` (XMP core,
  IPTC Core);
- TDMRep `tdm:reservation` / `tdm:policy` (ns `http://www.w3.org/ns/tdmrep/`): the TDMRep
  report defines these XMP properties for PDF and EPUB; images carry them by the same rule.
"""

from __future__ import annotations

import hashlib
import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
#: The PLUS Data Mining codes (IPTC Photo Metadata 2023.1, "Data Mining" property).
DATA_MINING_CODES = (
    "DMI-UNSPECIFIED",
    "DMI-ALLOWED",
    "DMI-PROHIBITED-AIMLTRAINING",
    "DMI-PROHIBITED-GENAIMLTRAINING",
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    "DMI-PROHIBITED",
    "DMI-PROHIBITED-SEEOTHERPROPERTY",
)

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "tdm": "http://www.w3.org/ns/tdmrep/",
}
for _prefix, _uri in NS.items():  # standard prefixes, so a merged packet reads as usual
    ET.register_namespace(_prefix, _uri)

_RDF = "{" + NS["rdf"] + "}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class RightsFields:
    """The properties scrapeshield sets; None leaves a property as the image has it."""

    data_mining: str
    tdm_reservation: int
    tdm_policy: str | None = None
    web_statement: str | None = None
    rights: str | None = None
    credit: str | None = None

    def simple(self) -> list[tuple[str, str]]:
        """(prefixed name, value) of the simple (attribute-form) properties."""
        out = [
            ("plus:DataMining", self.data_mining),
            ("tdm:reservation", str(self.tdm_reservation)),
        ]
        if self.tdm_policy:
            out.append(("tdm:policy", self.tdm_policy))
        if self.web_statement:
            out.append(("xmpRights:WebStatement", self.web_statement))
        if self.data_mining != PLUS_VOCAB + "DMI-ALLOWED":
            out.append(("xmpRights:Marked", "True"))
        if self.credit:
            out.append(("photoshop:Credit", self.credit))
        return out

    def names(self) -> set[str]:
        """Clark names of every property set here (removed from a merged packet first)."""
        names = {_clark(name) for name, _ in self.simple()}
        if self.rights:
            names.add(_clark("dc:rights"))
        return names

    def tag(self) -> str:
        """A short digest of the values: the ETag suffix of an image carrying them."""
        return _tag(self)


@lru_cache(maxsize=256)  # a site has a few preference sets; artists' are bounded by the LRU
def _tag(fields: RightsFields) -> str:
    return "xmp" + hashlib.sha256(repr(fields).encode("utf-8")).hexdigest()[:10]


def data_mining_uri(value: str) -> str:
    """A PLUS code (`DMI-ALLOWED`) or a full vocabulary URI, as the URI."""
    return value if value.startswith(("http://", "https://")) else PLUS_VOCAB + value


def _clark(prefixed: str) -> str:
    prefix, _, local = prefixed.partition(":")
    return "{" + NS[prefix] + "}" + local


def _wrap(rdf: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'<x:xmpmeta xmlns:x="{NS["x"]}">{rdf}</x:xmpmeta>\n'
        '<?xpacket end="w"?>'
    ).encode()


def _description(fields: RightsFields) -> str:
    declared = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items() if p not in ("x", "rdf"))
    attributes = "".join(
        f'\n   {name}="{html.escape(value, quote=True)}"' for name, value in fields.simple()
    )
    rights = ""
    if fields.rights:
        text = html.escape(fields.rights, quote=False)
        alt = f'<rdf:Alt><rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt>'
        rights = f"<dc:rights>{alt}</dc:rights>"
    return f'<rdf:Description rdf:about="" {declared}{attributes}>{rights}</rdf:Description>'


@lru_cache(maxsize=256)
def xmp_packet(fields: RightsFields) -> bytes:
    """A complete packet (UTF-8) carrying only our properties."""
    return _wrap(f'<rdf:RDF xmlns:rdf="{NS["rdf"]}">{_description(fields)}</rdf:RDF>')


def merge_xmp(existing: bytes, fields: RightsFields) -> bytes | None:
    """`existing` with our properties set (others kept), or None when it cannot be read safely."""
    if b"<!DOCTYPE" in existing or b"<!ENTITY" in existing:
        return None  # no DTDs: nothing an image needs, and the entity-expansion attacks live there
    start = existing.find(b"<x:xmpmeta")
    if start < 0:
        start = existing.find(b"<rdf:RDF")
    end_meta = existing.rfind(b"</x:xmpmeta>")
    end = end_meta + len(b"</x:xmpmeta>") if end_meta >= 0 else existing.rfind(b"</rdf:RDF>")
    if start < 0 or end <= start:
        return None
    if end_meta < 0:
        end += len(b"</rdf:RDF>")
    try:
        # No DTD reached this point (checked above), so no entity expansion: the attacks
        # defusedxml guards against need one. Bounded too: the caller's look-ahead.
        root = ET.fromstring(existing[start:end])  # noqa: S314
    except (ET.ParseError, ValueError):
        return None
    rdf = root if root.tag == _RDF + "RDF" else root.find(_RDF + "RDF")
    if rdf is None:
        return None
    names = fields.names()
    for description in rdf.findall(_RDF + "Description"):
        for name in names:
            description.attrib.pop(name, None)
            for child in description.findall(name):
                description.remove(child)
        if len(description) == 0 and set(description.attrib) <= {_RDF + "about"}:
            rdf.remove(description)  # it held only what we replace
    ours = ET.fromstring(f'<rdf:RDF xmlns:rdf="{NS["rdf"]}">{_description(fields)}</rdf:RDF>')  # noqa: S314 (ours)
    rdf.extend(list(ours))
    body = ET.tostring(rdf, encoding="unicode")
    return _wrap(body)
