"""The lease table: who may skip the detectors, for which kind of request, and what to settle.

Keyed by client key, then kind (method, route group, marked route), so that everything of one
client ends together (a signal, a ban). Bounded: `max_clients` clients, each lease at most
`requests` records; the oldest client is settled and evicted first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from scrapeshield.detector import RequestContext
from scrapeshield.facts import Facts, client_network
from scrapeshield.lease.protocol import Record, Terms
from scrapeshield.lease.settings import LeaseSettings
from scrapeshield.signals import Action, Decision
from scrapeshield.store.base import Store
from scrapeshield.store.memory import MemoryStore
from scrapeshield.store.redis import RedisStore

if TYPE_CHECKING:
    from scrapeshield.detection import Kind, Plans, Runs

logger = logging.getLogger("scrapeshield")
Use = Callable[[Any, Facts, RequestContext, int], None]
BanRead = Callable[[Facts, RequestContext], object]
Covers = Callable[[Any, Facts], bool]
Settle = Callable[[Any, Sequence[Record], Store], "Awaitable[Any] | None"]
Reserve = Callable[[Any, int, Store], "Awaitable[bool] | None"]
Hooks = tuple[
    Callable[[Facts, RequestContext], "Terms | None"],
    Use | None,
    Covers | None,
    Settle | None,
    Reserve | None,
]
_MAX_HOOKS = 1024
WAITED_NOTE = "lease_waited"
"""`ctx.notes`: this request waited for its lease's reservation once (never twice)."""
SETTLE_TIMEOUT = 5.0  # seconds: a settle the store does not answer by then is given up (logged)


def open_leases(
    settings: LeaseSettings, store: Store, prefixes: tuple[int, int] = (24, 48)
) -> Leases | None:
    """The shield's leases when enabled, on the memory and Redis stores (whose ban reads the
    shield knows: read at once on memory, seen within `seconds` on Redis); else None.
    `prefixes`: the network a client shares counters with (the rate limiter's)."""
    if settings.enabled and isinstance(store, MemoryStore | RedisStore):
        return Leases(settings, store, prefixes)
    return None


def binding(facts: Facts) -> tuple[Any, ...]:
    """Every input a detector reads that can differ between two requests of one client of one
    kind, except the path (per-detector `lease_covers`), the time and the request id (recorded
    or irrelevant), and the query (read only by Web Bot Auth for a signed request, which gets
    no lease). tests/test_lease_binding.py fails when a detector reads anything else."""
    return (
        facts.client_ip,
        facts.peer,
        facts.scheme,
        facts.http_version,
        facts.host,
        facts.secure_context,
        facts.via_proxy,
        facts.user_agent,
        facts.user_agent_truncated,
        tuple(facts.headers.items()),
    )


class Lease:
    """`pending` while a reservation (docs/leases.md, across workers) is on its way: not used
    until the store has counted it; `ended` when it was settled meanwhile (the reservation is
    then given back whole when it lands)."""

    __slots__ = (
        "binding",
        "covers",
        "ended",
        "left",
        "pending",
        "ready",
        "records",
        "releases",
        "settles",
        "until",
        "uses",
    )

    def __init__(
        self,
        bound: tuple[Any, ...],
        left: int,
        until: float,
        uses: list[tuple[Use, Any]],
        covers: list[tuple[Covers, Any]],
        settles: list[tuple[Settle, Any]],
    ) -> None:
        self.binding, self.left, self.until = bound, left, until
        self.uses, self.covers, self.settles = uses, covers, settles
        self.records: list[Record] = []
        self.pending = self.ended = False
        self.ready: asyncio.Future[None] | None = None  # done when the reservation landed
        self.releases: list[tuple[Settle, Any]] = []  # the settles that give a reservation back


class Leases:
    """The shield's leases: `use` per request, `grant` after a clean full evaluation."""

    def __init__(
        self, settings: LeaseSettings, store: Store, prefixes: tuple[int, int] = (24, 48)
    ) -> None:
        self.settings = settings
        self.store = store
        self._prefixes = prefixes
        self._by_network: dict[str, set[str]] = {}  # clients holding leases, by network
        self._network_of: dict[str, str] = {}
        self._requests, self._seconds = settings.requests, settings.seconds
        self._table: dict[str, dict[Kind, Lease]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._reading: set[asyncio.Task[None]] = set()
        self._hooks: dict[int, tuple[object, list[Hooks] | None]] = {}
        self.granted = self.used = self.settled = 0  # counts, for tests and the benchmark

    def __len__(self) -> int:
        return len(self._table)

    def use(
        self,
        facts: Facts,
        kind: Kind,
        ctx: RequestContext,
        banned: BanRead | None = None,
        leasable: bool = True,
    ) -> bool | asyncio.Future[None]:
        """True when a live lease covers this request (then counted and recorded); else any
        lease of this kind is ended (its requests settled) and the caller evaluates in full.
        `banned`: the client's ban read at once (the memory store), asked only with a lease.
        A dry run (`explain`) ends the client's leases: it is explained on counts that include
        them, by the whole pipeline. A future: this kind's lease waits for its reservation (one
        round trip), and so does the request, then asks again (`waited`: it did; in full)."""
        if ctx.notes.get("dry_run") or not leasable:
            self._end_network(facts)
            return False
        leases = self._table.get(facts.client_key)
        if leases is None or (lease := leases.get(kind)) is None:
            if self._by_network:
                self._end_network(facts)
            return False
        if lease.pending:  # not counted yet: wait for it once, else in full (the lease kept)
            if lease.ready is not None and not ctx.notes.get(WAITED_NOTE):
                return lease.ready
            self._end_network(facts, lease)
            return False
        live = lease.left and facts.time < lease.until and lease.binding == binding(facts)
        if live:
            for covers, state in lease.covers:
                if not covers(state, facts):
                    live = False
                    break
        if live and banned is not None and banned(facts, ctx) is not None:
            live = False
        if live:
            lease.left -= 1
            lease.records.append((facts.time, facts.path))
            used = len(lease.records)
            for use, state in lease.uses:
                use(state, facts, ctx, used)
            self.used += 1
            return True
        self._end_network(facts)  # (this lease included)
        return False

    def _end_network(self, facts: Facts, keep: Lease | None = None) -> None:
        """A full evaluation follows: every lease of every client of this client's network
        ends first (settled), so it reads counts that include them, its own other kinds'
        (behaviour's page ring for an original) and its network's shared ones (network
        limits and budgets); and no lease outlives a count it was not granted on."""
        network = self._network(facts)
        if keep is None:
            for client in self._by_network.pop(network, ()):
                self.end_client(client)
            return
        for client in list(self._by_network.get(network, ())):
            self.end_client(client, keep)

    def _network(self, facts: Facts) -> str:
        """The network a client shares counters with (the rate limiter's prefixes)."""
        ip = facts.client_ip
        return client_network(ip, *self._prefixes) if ip is not None else facts.client_key

    def judged(
        self, facts: Facts, ctx: RequestContext, plans: Plans | None, decision: Decision
    ) -> None:
        """After a full evaluation: a plain allow with no signal (`plans`: the shield's) may
        be leased; any other decision but a plain allow ends the client's leases (settled), so
        a signal anywhere is seen at once in this worker."""
        if plans is not None:
            kind = (facts.method, facts.route_group, facts.route)
            self.grant(facts, kind, ctx, plans.for_request(facts))
        elif decision.action is not Action.ALLOW or decision.reasons:
            self.end_client(facts.client_key)

    def grant(self, facts: Facts, kind: Kind, ctx: RequestContext, runs: Runs) -> None:
        """After a plain allow with no signal: a lease of the smallest headroom of the kind's
        detectors, or none when one of them cannot state it."""
        hooks = self._hooks_of(runs)
        if hooks is None:
            return
        left, until = self._requests, facts.time + self._seconds
        uses: list[tuple[Use, Any]] = []
        covers: list[tuple[Covers, Any]] = []
        settles: list[tuple[Settle, Any]] = []
        reserves: list[tuple[Reserve, Any, Settle | None]] = []
        for terms_of, use, cover, settle, reserve in hooks:
            terms = terms_of(facts, ctx)
            if terms is None:
                return
            if terms.headroom < left:
                left = terms.headroom
            if terms.until is not None and terms.until < until:
                until = terms.until
            if use is not None:
                uses.append((use, terms.state))
            if cover is not None:
                covers.append((cover, terms.state))
            if settle is not None:
                settles.append((settle, terms.state))
            if reserve is not None:
                reserves.append((reserve, terms.state, settle))
        leases = self._table.get(facts.client_key)
        if leases is None:
            if len(self._table) >= self.settings.max_clients:
                self._evict()
            leases = self._table[facts.client_key] = {}
            net = self._network(facts)
            self._by_network.setdefault(net, set()).add(facts.client_key)
            self._network_of[facts.client_key] = net
        elif (old := leases.get(kind)) is not None and old.pending:
            self._refresh(old, facts, left, until, uses, covers, settles)
            return
        elif (old := leases.pop(kind, None)) is not None:
            left -= len(old.records)  # counted elsewhere than in this request's figures
            self._settle(old)
        if left <= 0 or until <= facts.time:
            if not leases:
                self.end_client(facts.client_key)
            return
        lease = leases[kind] = Lease(binding(facts), left, until, uses, covers, settles)
        self.granted += 1
        if reserves:
            self._reserve(lease, left, reserves)
        if self._sweeper is None:
            self._start_sweep()

    def _reserve(
        self, lease: Lease, left: int, reserves: list[tuple[Reserve, Any, Settle | None]]
    ) -> None:
        """Have each detector that counts across workers reserve the lease's requests now;
        the lease is used once every reservation is counted (`_confirm`)."""
        replies = []
        for reserve, state, settle in reserves:
            try:
                reply = reserve(state, left, self.store)
            except Exception:
                logger.exception("lease reservation failed")
                lease.left = 0
                continue
            if reply is not None:
                replies.append(reply)
                if settle is not None:
                    lease.releases.append((settle, state))
        if replies:
            lease.pending = True
            lease.ready = asyncio.get_running_loop().create_future()
            self._read_in_task(self._confirm(lease, replies))

    async def _confirm(self, lease: Lease, replies: list[Awaitable[bool]]) -> None:
        """A reservation's replies: the lease goes live when all were counted; refused (a limit,
        a ban) or failed, it is dead; settled meanwhile, what was counted is given back."""
        counted = True
        for reply in replies:
            try:
                async with asyncio.timeout(SETTLE_TIMEOUT):
                    counted = await reply and counted
            except Exception:
                logger.exception("lease reservation: the store did not answer")
                counted = False
        lease.pending = False
        if lease.ready is not None and not lease.ready.done():
            lease.ready.set_result(None)
        if not counted:
            lease.left = 0
        if lease.ended or not counted:  # give back whatever was counted (none used)
            lease.ended = True
            pending = self._release(lease)
            if pending:
                await asyncio.wait(pending, timeout=SETTLE_TIMEOUT)

    def _refresh(
        self,
        old: Lease,
        facts: Facts,
        left: int,
        until: float,
        uses: list[tuple[Use, Any]],
        covers: list[tuple[Covers, Any]],
        settles: list[tuple[Settle, Any]],
    ) -> None:
        """A full evaluation while this kind's reservation is on its way: the lease takes this
        request's fresher terms (binding, headroom, end, the detectors' states) and keeps the
        reservation's own state (what it counted, and so what it gives back)."""
        owners = {id(getattr(settle, "__self__", settle)) for settle, _ in old.releases}
        old.binding = binding(facts)
        old.left, old.until = min(old.left, left), min(old.until, until)
        old.uses = _merged(uses, old.uses, owners)
        old.covers = _merged(covers, old.covers, owners)
        old.settles = _merged(settles, old.settles, owners)

    def _hooks_of(self, runs: Runs) -> list[Hooks] | None:
        """Each detector's lease methods, found once per plan; None when one has none."""
        entries = runs.entries
        found = self._hooks.get(id(entries))
        if found is not None and found[0] is entries:
            return found[1]
        hooks: list[Hooks] | None = []
        for detector, _ in entries:
            terms_of = getattr(detector, "lease_terms", None)
            if terms_of is None or hooks is None:
                hooks = None
                continue
            hooks.append(
                (
                    terms_of,
                    getattr(detector, "lease_use", None),
                    getattr(detector, "lease_covers", None),
                    getattr(detector, "lease_settle", None),
                    getattr(detector, "lease_reserve", None),
                )
            )
        if len(self._hooks) >= _MAX_HOOKS:  # (plans are bounded too: detection._MAX_PLANS)
            self._hooks.clear()
        self._hooks[id(entries)] = (entries, hooks)
        return hooks

    def end_client(self, client_key: str, keep: Lease | None = None) -> None:
        """End (and settle) every lease of a client: it signalled, or was banned. `keep`: a
        lease whose reservation is on its way, kept (a full evaluation of its kind)."""
        if keep is not None and (held := self._table.get(client_key)) is not None:
            for kind in [k for k, lease in held.items() if lease is not keep]:
                self._settle(held.pop(kind))
            if held:
                return
        leases = self._table.pop(client_key, None)
        network = self._network_of.pop(client_key, None)
        if network is not None and (clients := self._by_network.get(network)) is not None:
            clients.discard(client_key)
            if not clients:
                del self._by_network[network]
        if leases:
            for lease in leases.values():
                self._settle(lease)

    def end_all(self) -> None:
        """End (and settle) every lease: the detectors changed."""
        for client in list(self._table):
            self.end_client(client)

    def _evict(self) -> None:
        oldest = next(iter(self._table))
        self.end_client(oldest)

    def _settle(self, lease: Lease) -> None:
        """Account a lease's requests in each detector that counts; a store reply still to
        come is read in a task of its own (on Redis it joins this tick's round trip)."""
        if lease.pending:  # given back whole when its reservation lands (`_confirm`)
            lease.ended = True
            return
        records = lease.records
        if not records:
            self._release(lease)
            return
        self.settled += len(records)
        lease.releases = []  # (given back by its settle)
        for settle, state in lease.settles:
            try:
                reply = settle(state, records, self.store)
            except Exception:
                logger.exception("lease settle failed (%d requests)", len(records))
                continue
            if reply is not None:
                self._read_in_task(_read(reply))

    def _release(self, lease: Lease) -> list[asyncio.Task[None]]:
        """Give back a lease's reservations whole (it was used for nothing)."""
        tasks = []
        releases, lease.releases = lease.releases, []
        for settle, state in releases:
            try:
                reply = settle(state, (), self.store)
            except Exception:
                logger.exception("lease give-back failed")
                continue
            if reply is not None:
                tasks.append(self._read_in_task(_read(reply)))
        return tasks

    def _read_in_task(self, reading: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A store reply read in a task of its own, held until done (`written` waits for it;
        a task nobody holds may be collected)."""
        task = asyncio.get_running_loop().create_task(reading)
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)
        return task

    def _start_sweep(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): settled on the next request
            return
        self._sweeper = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Settle leases that ended with no later request, once per `seconds`."""
        while True:
            await asyncio.sleep(self._seconds)
            try:
                self.sweep()
            except Exception:  # never ends the sweep
                logger.exception("lease sweep failed")

    def sweep(self, now: float | None = None) -> None:
        """End every lease that is over (expired or used up), settling it."""
        now = time.time() if now is None else now
        for client in list(self._table):
            leases = self._table[client]
            for kind in [k for k, lease in leases.items() if lease.until <= now or not lease.left]:
                self._settle(leases.pop(kind))
            if not leases:
                self.end_client(client)

    async def aclose(self) -> None:
        """Stop the sweep and settle every lease (nothing is lost on shutdown)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        self.end_all()
        await self.written()

    async def written(self) -> None:
        """Every reservation, settle and give-back sent so far answered (or given up)."""
        for _ in range(2):  # (a reservation's own task waits for its give-back)
            if self._reading:
                await asyncio.wait(list(self._reading), timeout=SETTLE_TIMEOUT)


async def _read(reply: Awaitable[Any]) -> None:
    """A settle's store reply, read within a deadline; a failure is logged, never raised."""
    try:
        async with asyncio.timeout(SETTLE_TIMEOUT):
            found = await reply
            if isinstance(found, Awaitable):
                await found
    except Exception:
        logger.exception("lease settle: the store did not take the deferred requests")


def _merged(
    fresh: list[tuple[Any, Any]], held: list[tuple[Any, Any]], owners: set[int]
) -> list[Any]:
    """A refreshed lease's hooks: the fresh terms' states, but a reserving detector's own."""
    out = [(h, st) for h, st in fresh if id(getattr(h, "__self__", h)) not in owners]
    return out + [(h, st) for h, st in held if id(getattr(h, "__self__", h)) in owners]
