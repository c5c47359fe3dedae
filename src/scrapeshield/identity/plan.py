"""What one identity request reads and writes (its plan, made once per kind of request and
cached by the detector), apart from the detector that makes and reads it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from scrapeshield.identity import ops
from scrapeshield.identity.settings import IdentitySettings
from scrapeshield.identity.token import Visitor
from scrapeshield.store.keys import subject_key

VISITOR_KEY = "id:b:visitor:v:"  # a token's budgets' keys (their subject: its visitor id)


class Budget(NamedTuple):
    scope: str
    period: str
    seconds: float
    allowed: int
    refuse_above: float  # 0: never refused
    name: str  # of its signal: budget/<scope>/<period>


Read = tuple[int, int, int, int, int, int, tuple[int, ...]]
"""A budget (its index in the detector's budgets: a plain tuple of numbers, which the garbage
collector stops tracking, where a `Budget` in it would keep it tracked), where its count is in
the reply, where the previous hour's is (-1: not read), the previous hour's when known, where
the refused tokens' count is (-1: none), the count above which it signals, and where its
subjects are in the plan's `owners` (a young token's visitor budget has two: the token's and
its address's tokenless originals). Numbers only, so a shape's rows are every client's whose
previous hours' counts are 0 (`shapes.py`: no rows made per client)."""


class Plan(NamedTuple):
    """What one request queued, and where its answers are in the reply. Kept per client (the
    detector's plan cache) as a plain tuple of its fields (`tuple(plan)`), each a string, a
    number or a plain tuple of them, which the garbage collector stops tracking, where a named
    tuple stays tracked (docs/log/store.md, "Garbage collection"); a request makes its `Plan` from
    it (`Plan._make`)."""

    kind: str
    ops: ops.Ops  # as columns: codes, keys (the call's), members, TTLs
    path_at: tuple[int, ...]  # the adds that take an original's path (per request)
    visitor: str  # a valid token's id ("": none)
    pool: bool
    issuance: bool  # three counters: address, network, fingerprint
    amnesia: bool  # two reads: issued to the address, returned from it
    newcomers_at: int  # where the young identities' count of this network is (-1: not counted)
    prev_at: tuple[int, ...]  # per budget, where the previous hour's count is (-1: not read)
    rest_at: int  # where the answers of the pool, issuance and amnesia counters start
    prev_keys: tuple[str, ...]  # per budget, the previous hour's key ("" for a day budget)
    cache_key: tuple[object, ...]  # its key in the plan cache
    reads: tuple[Read, ...]  # per budget, where its counts are, and the count that signals
    learns: bool  # whether it reads a previous hour's count (then kept: `_learn`)
    call: ops.Call  # its script call on Redis, made once (the path put in per request)
    subjects: tuple[str, ...]  # the budgets' subjects a page may trust (empty: never trusted)
    owners: tuple[str, ...]  # the budgets' subjects (their keys without the period), each once
    lean: tuple[Any, ...] | None  # the same page without its budgets' reads (a `Plan`'s
    # fields: `lean`), made with a page's plan that has subjects (None: others)


def make(
    settings: IdentitySettings,
    read: Sequence[Budget],
    kind: str,
    now: float,
    visitor: Visitor | None,
    strings: tuple[str, str, str],
    young: bool,
    counts: Mapping[str, int],
) -> Plan:
    """A request's plan, made afresh: `read` the budgets it reads, `strings` the client's
    address, network and header fingerprint, `counts` the previous hours' counts known, by key
    (a shape's template is made with markers for the strings: `shapes.py`)."""
    newcomers = settings.budgets.newcomers if settings.budgets.enabled else 0
    s, image = settings, kind == "image"
    client, network, fingerprint = strings
    queued: list[ops.Op] = []
    path_at: list[int] = []  # adds whose member is the request's path (an original)
    budget_at: list[int] = []
    spent_at = -1
    prev_at: list[int] = []
    prev_known: list[int] = []
    prev_keys: list[str] = []
    # each budget's subject is its key's Cluster hash tag (the visitor id, the address, the
    # network): a visitor keeps one count across addresses
    subjects = {
        "visitor": (VISITOR_KEY, visitor.id)
        if visitor is not None
        else ("id:b:visitor:a:", client),
        "address": ("id:b:address:", client),
        "network": ("id:b:network:", network),
    }
    read_subjects: list[tuple[str, ...]] = []  # per budget (trusted pages)
    for b in read:
        seconds, n = b.seconds, int(now // b.seconds)
        key = subject_key(*subjects[b.scope], f":{b.period}{n}")
        hourly = b.period == "hour"  # kept into the next hour, which weighs it (sliding)
        if image:
            path_at.append(len(queued))
            queued.append(("A", key, "", 2 * seconds if hourly else seconds))
        else:
            queued.append(("C", key, "", 0.0))
        young_here = visitor is not None and same(visitor.issued, now, seconds)
        if b.scope == "visitor" and young_here:
            # A token issued this period: its budget also holds what its address took
            # without one this period, so taking a token never starts a fresh budget.
            tokenless = subject_key("id:b:visitor:a:", client, f":{b.period}")
            queued.append(("W", f"{tokenless}{n}", "", 0.0))
        read_subjects.append(
            (subject_key(*subjects[b.scope], ":"), subject_key("id:b:visitor:a:", client, ":"))
            if b.scope == "visitor" and young_here
            else (subject_key(*subjects[b.scope], ":"),)
        )
        budget_at.append(len(queued) - 1)
        known, previous = 0, ""
        if hourly:  # the previous hour, weighted by the part of it within the last 60 min
            subject = key.removesuffix(f"hour{n}")
            if b.scope == "visitor" and young_here:
                subject = subject_key("id:b:visitor:a:", client, ":")
            previous = f"{subject}hour{n - 1}"
            known = counts.get(previous, -1)
            if known < 0:  # read with this request, then known (see `_learn`)
                queued.append(("C", previous, "", 0.0))
        prev_at.append(len(queued) - 1 if known < 0 else -1)
        prev_known.append(max(known, 0))
        prev_keys.append(previous)
        if b.scope == "visitor" and hourly and image and (young_here or not visitor):
            # ...nor does clearing cookies once refused (docs/identity.md#cookie-clearing)
            queued.append(("C", spent_key(client, fingerprint, now), "", 0.0))
            spent_at = len(queued) - 1
    newcomers_at = -1
    if image and newcomers and (visitor is None or same(visitor.issued, now, 3600.0)):
        # one program rotating fresh identities within a network (docs/identity.md#newcomers)
        hour = f":hour{int(now // 3600)}"  # tagged by network and fingerprint: spread
        key = subject_key("id:b:newcomers:", f"{network}:{fingerprint}", hour)
        path_at.append(len(queued))
        queued.append(("A", key, "", 3600.0))
        newcomers_at = len(queued) - 1
    pool = s.rotating_pool
    rest_at = len(queued)  # the answers of the counters below start here
    counted = pool.enabled and young
    issuance = not image and visitor is None
    if counted:
        key = subject_key(f"id:p:{kind}:", fingerprint, f":{int(now // pool.window)}")
        queued.append(("A", key, client, pool.window))
    window = int(now // s.window)
    issued_key = subject_key("id:i:a:", client, f":{window}")
    returned_key = subject_key("id:r:", client)
    if issuance:
        queued += [
            ("I", issued_key, "", s.window),
            ("I", subject_key("id:i:n:", network, f":{window}"), "", s.window),
            ("I", subject_key("id:i:f:", fingerprint, f":{window}"), "", s.window),
        ]
    amnesia = image and visitor is None
    if amnesia:
        queued += [("V", issued_key, "", 0.0), ("G", returned_key, "", 0.0)]
    if not image and visitor is not None:
        queued.append(("S", returned_key, "", s.window))
    owners = tuple(dict.fromkeys(subject for own in read_subjects for subject in own))
    return Plan(
        kind,
        listed := ops.columns(queued),
        tuple(path_at),
        visitor.id if visitor is not None else "",
        counted,
        issuance,
        amnesia,
        newcomers_at,
        tuple(prev_at),
        rest_at,
        tuple(prev_keys),
        (),
        tuple(  # (from a list: a tuple made from a generator exists before its items,
            [  # and the collector untracks a tuple only after them: one collection later)
                (
                    i,
                    at,
                    prev,
                    known,
                    spent_at if b.scope == "visitor" and b.period == "hour" else -1,
                    b.allowed if image else b.allowed - 1,
                    tuple([owners.index(subject) for subject in own]),
                )
                for i, (b, at, prev, known, own) in enumerate(
                    zip(read, budget_at, prev_at, prev_known, read_subjects, strict=True)
                )
            ]
        ),
        any(at >= 0 for at in prev_at),
        ops.call(listed, path_at),
        () if image else owners,
        owners,
        None,
    )


def lean(plan: Plan) -> Plan:
    """A page's plan without its budgets' reads (a trusted page's, docs/identity.md#trusted-pages):
    what `make` makes with no budget to read, taken from the plan itself. A page's budget reads
    come first in its operations and nothing of theirs follows them (no original's path, no
    newcomers), so what follows `rest_at` is the rest of the plan as it stands; and they are
    counts (C, W), which take no argument in the script call, so the call's arguments but the
    operations' codes are the rest's too."""
    at = plan.rest_at
    codes, keys, members, ttls = plan.ops
    if plan.kind != "page" or codes[:at].strip("CW"):
        raise ValueError(f"a lean plan is a page's whose reads come first, not this {plan.kind}'s")
    _, args, members_at = plan.call
    keys = keys[at:]  # (its operations' keys and its call's: one tuple)
    return plan._replace(
        ops=(codes[at:], keys, members[at:], ttls[at:]),
        prev_at=(),
        rest_at=0,
        prev_keys=(),
        reads=(),
        learns=False,
        call=(keys, (args[0][at:], *args[1:]), members_at),
        subjects=(),
        owners=(),
        lean=None,
    )


def learned(plan: Plan, results: Sequence[int]) -> Plan:
    """The plan once the previous hours' counts it read (`results`: its reply) are known: what
    `make` makes with them known, taken from the plan itself. Each such read is a count of its
    own ("C", right after its budget's), which takes no script argument, so the plan without
    them only moves the places that follow them."""
    gone = [at for at in plan.prev_at if at >= 0]

    def place(at: int) -> int:
        return at - sum(1 for g in gone if g < at) if at >= 0 else at

    codes, keys, members, ttls = plan.ops
    kept = [i for i in range(len(codes)) if i not in gone]
    keys = tuple([keys[i] for i in kept])
    listed = (
        "".join([codes[i] for i in kept]),
        keys,
        tuple([members[i] for i in kept]),
        tuple([ttls[i] for i in kept]),
    )
    _, args, members_at = plan.call
    return plan._replace(
        ops=listed,
        path_at=tuple([place(at) for at in plan.path_at]),
        newcomers_at=place(plan.newcomers_at),
        prev_at=(-1,) * len(plan.prev_at),
        rest_at=plan.rest_at - len(gone),
        reads=tuple(
            [
                (i, place(at), -1, results[prev] if prev >= 0 else known, place(spent), mark, own)
                for i, at, prev, known, spent, mark, own in plan.reads
            ]
        ),
        learns=False,
        call=(keys, (listed[0], *args[1:]), members_at),
    )


def spent_key(client: str, fingerprint: str, now: float) -> str:
    """Young tokens refused this hour at this address with these headers (a distinct count)."""
    return subject_key("id:b:spent:", client, f":{fingerprint}:hour{int(now // 3600)}")


def same(issued: float, now: float, seconds: float) -> bool:
    """Whether a token issued at `issued` was issued in the fixed window of `now`."""
    return int(issued // seconds) == int(now // seconds)
