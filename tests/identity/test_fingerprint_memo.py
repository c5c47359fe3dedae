"""The identity detector's header fingerprint is kept per exact input (`Fingerprints`): a repeat
gets the fingerprint `header_fingerprint` gives, a client that changes anything the fingerprint
reads (a field's presence or place, a value of `FIXED`) gets that input's own fingerprint, not
the one kept, and a flood of distinct header sets stays within the memo's bounds."""

from __future__ import annotations

from scrapeshield.identity.fingerprint import FIXED, Fingerprints, header_fingerprint
from tests.browsers import chrome

CHROME = {name.lower(): value for name, value in chrome().items()}


def variants() -> list[dict[str, str]]:
    """The Chrome page's headers, and each change a client can make to what is read."""
    out = [CHROME]
    for name in FIXED:  # each value changed, and each removed
        out.append({**CHROME, name: CHROME.get(name, "") + "x"})
        out.append({k: v for k, v in CHROME.items() if k != name})
    names = list(CHROME)
    out.append({name: CHROME[name] for name in reversed(names)})  # another order
    out.append({**CHROME, "x-client": "1"})  # one more field
    out.append({**CHROME, "accept": "*/*" + "a" * 600})  # a value past the 512 hashed
    return out


def test_each_input_gets_its_own_fingerprint_first_and_from_the_memo() -> None:
    fingerprints = Fingerprints()
    for _ in range(2):  # computed, then taken from the memo
        for headers in variants():
            assert fingerprints(headers) == header_fingerprint(headers)
    assert len({fingerprints(h) for h in variants()}) == len(variants())


def test_volatile_fields_keep_the_fingerprint() -> None:
    fingerprints = Fingerprints()
    first = fingerprints(CHROME)
    assert fingerprints({**CHROME, "cookie": "a=1", "referer": "https://x/"}) == first


def test_a_flood_of_header_sets_stays_bounded() -> None:
    fingerprints = Fingerprints(entries=32, chars=20_000)
    for n in range(500):
        headers = {**CHROME, "user-agent": f"{CHROME['user-agent']} {n}"}
        assert fingerprints(headers) == header_fingerprint(headers)
        assert len(fingerprints._memo) <= 32
        assert fingerprints._memo.held <= 20_000
    huge = {**CHROME, "user-agent": "u" * 30_000}  # larger than the memo: never held
    assert fingerprints(huge) == header_fingerprint(huge)
    assert fingerprints._memo.held <= 20_000
