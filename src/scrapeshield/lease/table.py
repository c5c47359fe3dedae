"""The lease table: who may skip the detectors, for which kind of request, and what to settle.

Keyed by client key, then kind (method, route group, marked route) and binding, so that
everything of one client ends together (a signal, a ban). Bounded: `max_clients` clients, each
at most `_MAX_HELD` leases of at most `requests` records; the oldest client is settled and
evicted first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal

from scrapeshield.detector import REPLAY_NOTE, RequestContext, replayed_names
from scrapeshield.facts import Facts, client_network
from scrapeshield.lease import order, reservation
from scrapeshield.lease.lease import Bindings, Flush, Hooks, Lease, binding, hooks_of, scalars_of
from scrapeshield.lease.order import GROW_NOTE, KEY_NOTE, RESERVING_NOTE, WAITED_NOTE, Order
from scrapeshield.lease.protocol import GIVE_BACK_NOTE, RESERVE_NOTE, Record
from scrapeshield.lease.replay import Evaluate, replayed
from scrapeshield.lease.reservation import SETTLE_TIMEOUT
from scrapeshield.lease.settings import LeaseSettings
from scrapeshield.signals import Action, Decision
from scrapeshield.store.base import Store
from scrapeshield.store.kind import on_redis
from scrapeshield.store.memory import MemoryStore

if TYPE_CHECKING:
    from scrapeshield.detection import Kind, Plans, Runs

__all__ = ["SETTLE_TIMEOUT", "WAITED_NOTE", "Leases", "binding", "open_leases"]

logger = logging.getLogger("scrapeshield")
BanRead = Callable[[str], object]  # a client key's ban at once: truthy when banned
Key = tuple["Kind", tuple[Any, ...]]  # a lease's kind and binding
_MAX_HOOKS = 1024
_MAX_HELD = 8  # leases one client holds at once (kinds and header sets)


def open_leases(
    settings: LeaseSettings,
    store: Store,
    prefixes: tuple[int, int] = (24, 48),
    evaluate: Evaluate | None = None,
) -> Leases | None:
    """The shield's leases when enabled, on the memory and Redis stores (whose ban reads the
    shield knows: read at once on memory, seen within `seconds` on Redis); else None.
    `prefixes`: the network a client shares counters with (the rate limiter's); `evaluate`:
    the policy's, for a leased request whose signals are replayed (none: never leased)."""
    if settings.enabled and (isinstance(store, MemoryStore) or on_redis(store)):
        return Leases(settings, store, prefixes, evaluate)
    return None


class Leases:
    """The shield's leases: `use` per request, `judged` after a full evaluation."""

    def __init__(
        self,
        settings: LeaseSettings,
        store: Store,
        prefixes: tuple[int, int] = (24, 48),
        evaluate: Evaluate | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self._evaluate = evaluate
        self._prefixes = prefixes
        self._by_network: dict[str, set[str]] = {}  # clients holding leases, by network
        self._network_of: dict[str, str] = {}
        self._requests, self._seconds = settings.requests, settings.seconds
        self._max_requests = max(settings.requests, settings.max_requests)
        # (OrderedDicts: the oldest found in O(1) when full, where a dict's `next(iter())`
        # walks every entry deleted before it: O(max_clients) per new client)
        self._table: OrderedDict[str, dict[Key, Lease]] = OrderedDict()
        self._sweeper: asyncio.Task[None] | None = None
        self._reading: set[asyncio.Task[None]] = set()
        self._hooks: dict[int, tuple[object, list[Hooks] | None]] = {}
        self._refusers: dict[tuple[int, Kind], int] = {}  # per plan and kind: who said none
        self._unleased: set[Kind] = set()  # kinds whose latest evaluation got no lease
        # reserving along by client and key, and the requests waiting for it (order.py)
        self._binding = Bindings()  # (kept per header set)
        self._order = Order(settings.max_clients, _MAX_HELD, self._binding)  # (docs/leases.md)
        # per `_seen_pair`: its last clean full evaluation's time (plain values; LRU when full)
        self._seen: OrderedDict[tuple[str, int], float] = OrderedDict()
        self._pending = 0  # leases whose reservation is on its way (`order.pending`)
        self.granted = self.used = self.settled = 0  # counts, for tests and the benchmark
        self.unused = 0  # leases that ended with no request leased

    def __len__(self) -> int:
        return len(self._table)

    def use(
        self, facts: Facts, kind: Kind, ctx: RequestContext, banned: BanRead | None = None,
        leasable: bool = True,
    ) -> Decision | Literal[False] | asyncio.Future[None]:  # fmt: skip
        """The grant's decision, as this request's, when a live lease covers it (then counted
        and recorded); False: a full evaluation follows, so the
        client's other leases hand it their requests first (`lease_flush`): it reads counts
        that include every leased request it reads (docs/leases.md).
        `banned`: the client's ban read at once (the memory store), asked only with a lease.
        A dry run (`explain`) ends the client's leases: it is explained on counts that include
        them, by the whole pipeline. A future: this lease waits for its reservation (one round
        trip), and so does the request, then asks again (`WAITED_NOTE`: it did; in full)."""
        client_key = facts.client_key
        leases = self._table.get(client_key)
        if client_key in self._order.reserving:
            self._order.place(ctx)
            if leasable and (waits := self._order.successor(facts, kind, ctx)):
                return waits  # (its next lease on its way)
        if leases is None:
            return False
        if ctx.notes.get("dry_run") or not leasable:
            self.end_client(client_key)
            return False
        # (placed in the order only where it may wait or be evaluated in full: `place`)
        if self._pending and (ready := order.pending(leases.values(), ctx)) is not None:
            self._order.place(ctx)
            return ready  # (a lease of any key not counted yet: after it)
        headers, scalars = facts.headers, scalars_of(facts)
        lease: Lease | None
        for lease in leases.values():  # (the binding it last matched: found without a hash)
            if lease.headers is headers and lease.key[0] == kind and lease.scalars == scalars:
                key = lease.key
                break
        else:
            key = (kind, self._binding(facts))
            if (found := leases.get(key)) is not None:
                found.headers, found.scalars = headers, scalars
            lease = found  # (None: a full evaluation follows, reserving along)
        ctx.notes[KEY_NOTE] = key
        if lease is not None:
            if lease.pending:  # not counted yet: wait for it once, else in full (kept)
                self._order.place(ctx)
                if lease.ready is not None and not ctx.notes.get(WAITED_NOTE):
                    return lease.ready.waiting()
                self._flush(leases, facts, ctx)
                return self._order.flight(client_key, ctx)  # (waited for: `order`)
            if (lease.alone or lease.keeps) and client_key in self._order.flights:
                self._order.place(ctx)
                if flight := self._order.before(client_key, ctx):  # (an earlier request's)
                    return flight.waiting()  # (a full evaluation in flight may end it)
            if (  # (replayed None: a signal it cannot replay, or not an allow: in full)
                lease.covering(facts)
                and (banned is None or not banned(client_key))
                and (decision := replayed(lease, facts, self._evaluate)) is not None
            ):
                lease.left -= 1
                lease.records.append((facts.time, facts.path))
                used = len(lease.records)
                for use, state in lease.uses:
                    use(state, facts, ctx, used)
                self.used += 1
                if len(leases) > 1:
                    self._end_alone(leases, key)
                return decision
            if not lease.left and lease.records:  # used up within its time: a fast client
                ctx.notes[GROW_NOTE] = min(2 * lease.size, self._max_requests)
            self._settle(leases.pop(key))
        self._order.place(ctx)
        if leases:
            self._flush(leases, facts, ctx)
        else:
            self.end_client(client_key)
        self._reserve_along(facts, kind, ctx)
        return self._order.flight(client_key, ctx)  # (waited for: `order`)

    def _landed(self) -> None:
        self._pending -= 1

    def _end_alone(self, leases: dict[Key, Lease], key: Key) -> None:
        """A client's leased request ends (settles) its other leases that replay a signal
        reading counts this request moves (`Lease.alone`): their next request is evaluated
        in full, on counts that include this one."""
        for other in [k for k, lease in leases.items() if lease.alone and k != key]:
            self._settle(leases.pop(other))

    def _reserve_along(self, facts: Facts, kind: Kind, ctx: RequestContext) -> None:
        """A client holding leases is evaluated in full: where this kind was leased last time,
        its hit may reserve the lease it is likely to be granted (`RESERVE_NOTE`; Redis: no
        separate reservation, no wait for it)."""
        if kind in self._unleased:
            return
        # one at a time per client and key (each grant would replace the last), awaited where
        # a grant is likely (its client seen again)
        client_key, key = facts.client_key, ctx.notes[KEY_NOTE]
        since = self._seen.get(_seen_pair(facts, kind))
        if not self._order.reserve(
            client_key, key, ctx, since is not None and facts.time - since < self._seconds, facts
        ):
            return
        ctx.notes[RESERVE_NOTE] = ctx.notes.get(GROW_NOTE, self._requests)

    def _flush(self, leases: dict[Key, Lease], facts: Facts, ctx: RequestContext) -> None:
        """Before a full evaluation of the client: each detector that counts is handed all of
        the client's leases holding records, and takes what that evaluation reads (behaviour:
        into its own script call; a reply is read as a settle's), the leases going on."""
        together: dict[Flush, list[tuple[Any, Sequence[Record]]]] = {}
        for lease in leases.values():
            if lease.records:
                for flush, state in lease.flushes:
                    together.setdefault(flush, []).append((state, lease.records))
        for flush, pairs in together.items():
            failed = "lease flush failed (%d leases)"
            self._read_reply(flush, (pairs, self.store, facts, ctx), failed, len(pairs))

    def _network(self, facts: Facts) -> str:
        """The network a client shares counters with (the rate limiter's prefixes)."""
        ip = facts.client_ip
        return client_network(ip, *self._prefixes) if ip is not None else facts.client_key

    def judged(
        self, facts: Facts, ctx: RequestContext, plans: Plans | None, decision: Decision
    ) -> None:
        """After a full evaluation: any decision but a plain allow ends the client's leases
        (settled), so a signal anywhere is seen at once in this worker; the other leases of the
        client's network are kept where every detector says their headroom still holds
        (`lease_keeps`); and an allow with no signal, or only steady ones (`plans`: the
        shield's, given only then), may be leased: its decision is what the lease replays."""
        kind = (facts.method, facts.route_group, facts.route)
        if plans is not None and REPLAY_NOTE in ctx.notes and replayed_names(ctx) is None:
            plans = None  # a signal its detector cannot replay: as unsteady as any other
        coming = self._order.judged(facts.client_key, ctx)
        if plans is None and (decision.action is not Action.ALLOW or decision.reasons):
            self.end_client(facts.client_key)
        if self._by_network:
            self._kept(facts, ctx, kind)
        if plans is not None:  # (a reader, never seen again, costs only that question)
            granted = self._seen_again(facts, kind) and self.grant(
                facts, kind, ctx, plans.for_request(facts), decision
            )
            if not granted and REPLAY_NOTE in ctx.notes:  # a counted signal, not replayed
                self.end_client(facts.client_key)
        if coming is not None:
            coming.wake()  # (the requests waiting for its grant: leased now, or in full)
        give_back = ctx.notes.get(GIVE_BACK_NOTE)  # reserved along: given back if unused
        if give_back is not None and (reply := give_back()) is not None:
            self._read_in_task(reservation.read(reply))

    def _kept(self, facts: Facts, ctx: RequestContext, kind: Kind) -> None:
        """The leases of this network that this evaluation could make wrong end (settled)."""
        network = self._network_of.get(facts.client_key) or self._network(facts)
        for client in list(self._by_network.get(network, ())):
            leases = self._table[client]
            # (its own lease of this request's key, pending: refreshed by `grant`)
            own = ctx.notes.get(KEY_NOTE) if client == facts.client_key else None
            if own is None and client == facts.client_key:  # (it found no lease: in flight)
                found = leases.get(key := (kind, binding(facts)))
                own = key if found is not None and found.unused() else None
            alone = client == facts.client_key  # (its `alone` leases end: `_end_alone`)
            for key in [
                k
                for k, lease in leases.items()
                if k != own and ((alone and lease.alone) or not lease.kept(facts, ctx))
            ]:
                self._settle(leases.pop(key))
            if not leases:
                self.end_client(client)

    def grant(
        self, facts: Facts, kind: Kind, ctx: RequestContext, runs: Runs, decision: Decision
    ) -> bool:
        """After an allow with no signal but steady or replayed ones (`decision`, which the
        lease's requests get, each replayed signal rebuilt): a lease of the smallest headroom
        of the kind's detectors, or none when one of them cannot state it (asked first the
        next time: a kind that gets no lease costs one question), or a signal to replay is not
        replayed by its detector's terms. True when the client holds a lease of this key. Asked
        only for a client seen again (`judged`)."""
        hooks = self._hooks_of(runs)
        if hooks is None:
            self._no_lease(kind)
            return False
        refused = (id(runs.entries), kind)
        first = self._refusers.get(refused, -1)
        asked = hooks[first].terms(facts, ctx) if first >= 0 else None
        if first >= 0 and asked is None:
            self._no_lease(kind)
            return False
        self._unleased.discard(kind)
        key = ctx.notes.get(KEY_NOTE) or (kind, binding(facts))
        lease = Lease(
            ctx.notes.get(GROW_NOTE, self._requests), facts.time + self._seconds, decision
        )
        reserves: list[tuple[Hooks, Any]] = []
        replay = replayed_names(ctx) or frozenset()
        replaying = len(replay)
        for i, hook in enumerate(hooks):
            terms = asked if i == first else hook.terms(facts, ctx)
            if terms is None:
                if len(self._refusers) >= _MAX_HOOKS:
                    self._refusers.clear()
                self._refusers[refused] = i
                self._no_lease(kind)
                return False
            if terms.replays:
                if terms.replays not in replay or not lease.replaying(hook, terms):
                    return False
                replaying -= 1
            if terms.headroom < lease.left:
                lease.left = terms.headroom
            if hook.reserve is None and terms.headroom < lease.cap:
                lease.cap = terms.headroom  # (a reservation's headroom is what it reserved)
            if terms.until is not None and terms.until < lease.until:
                lease.until = terms.until
            lease.take(hook, terms)
            if hook.reserve is not None:
                reserves.append((hook, terms.state))
        if replaying:  # a signal to replay that no detector's terms replay
            return False
        leases = self._table.get(facts.client_key)
        if leases is None:
            if len(self._table) >= self.settings.max_clients:
                self.end_client(next(iter(self._table)))  # the oldest, settled
            leases = self._table[facts.client_key] = {}
            net = self._network(facts)
            self._by_network.setdefault(net, set()).add(facts.client_key)
            self._network_of[facts.client_key] = net
        elif (old := leases.get(key)) is not None and old.unused() and old.live(facts):
            reservation.refresh(old, lease)  # (its reservation kept, its terms this request's)
            return True
        elif (old := leases.get(key)) is not None and old.live(facts) and old.kept(facts, ctx):
            return True  # granted by a request in flight with this one: it goes on, not replaced
        elif (old := leases.pop(key, None)) is not None:
            lease.left -= len(old.records)  # counted elsewhere than in this request's figures
            self._settle(old)
        elif len(leases) >= _MAX_HELD:
            self._settle(leases.pop(next(iter(leases))))
        if lease.left <= 0 or lease.until <= facts.time:
            if not leases:
                self.end_client(facts.client_key)
            return False
        if RESERVING_NOTE not in ctx.notes and self._order.reserves(facts.client_key, key):
            if not leases:  # its next lease is on its way, reserved along: no other
                self.end_client(facts.client_key)
            return True
        leases[key] = lease  # (its requests found by this one's header set: `use`)
        lease.key, lease.headers, lease.scalars = key, facts.headers, scalars_of(facts)
        self.granted += 1
        if reserves and (replies := reservation.reserve(lease, reserves, self.store)):
            if lease.ready is not None:  # (counted until it lands: `use` asks `pending`)
                self._pending += 1
            self._read_in_task(reservation.confirm(lease, replies, self._release, self._landed))
        if self._sweeper is None:
            self._start_sweep()
        return True

    def _seen_again(self, facts: Facts, kind: Kind) -> bool:
        """Whether this clean full evaluation comes less than `seconds` after the client's
        previous one of this kind of request (`_seen_pair`); its time kept either way. A person
        reading between page loads never is: each grant would be wasted (docs/log/leases.md,
        "Granted only to a client seen again"). A time lost (evicted) costs a grant; two header
        sets of one pair share a time, which can only grant early (a lease is exact)."""
        seen, pair = self._seen, _seen_pair(facts, kind)
        since = seen.pop(pair, None)  # (added again last: the most recently seen)
        seen[pair] = facts.time
        if len(seen) > self.settings.max_clients:  # (clients choose keys: bounded)
            seen.popitem(last=False)  # the least recently seen: a busy site's fast clients stay
        return since is not None and facts.time - since < self._seconds

    def _no_lease(self, kind: Kind) -> None:
        if len(self._unleased) >= _MAX_HOOKS:  # (a flood of methods: bounded)
            self._unleased.clear()
        self._unleased.add(kind)

    def _hooks_of(self, runs: Runs) -> list[Hooks] | None:
        """Each detector's lease methods, found once per plan; None when one has none."""
        entries = runs.entries
        found = self._hooks.get(id(entries))
        if found is not None and found[0] is entries:
            return found[1]
        hooks = hooks_of(runs)
        if len(self._hooks) >= _MAX_HOOKS:  # (plans are bounded too: detection._MAX_PLANS)
            self._hooks.clear()
        self._hooks[id(entries)] = (entries, hooks)
        return hooks

    def end_client(self, client_key: str) -> None:
        """End (and settle) every lease of a client: it signalled, or was banned."""
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

    def _settle(self, lease: Lease) -> None:
        """Account a lease's requests in each detector that counts; a store reply still to
        come is read in a task of its own (on Redis it joins this tick's round trip)."""
        if lease.pending:  # given back whole when its reservation lands (`confirm`)
            lease.ended = True
            self.unused += 1
            return
        if not lease.records:
            self.unused += 1
            self._release(lease)
            return
        self.settled += len(lease.records)
        lease.releases = []  # (given back by its settle)
        self._each(lease.settles, lease)

    def _each(self, hooks: list[tuple[Any, Any]], lease: Lease) -> None:
        records = lease.records
        for settle, state in hooks:
            failed = "lease settle failed (%d requests)"
            self._read_reply(settle, (state, records, self.store), failed, len(records))

    def _release(self, lease: Lease) -> list[asyncio.Task[None]]:
        """Give back a lease's reservations whole (it was used for nothing)."""
        tasks = []
        releases, lease.releases = lease.releases, []
        for settle, state in releases:
            task = self._read_reply(settle, (state, (), self.store), "lease give-back failed")
            if task is not None:
                tasks.append(task)
        return tasks

    def _read_reply(
        self, hook: Callable[..., Awaitable[Any] | None], args: tuple[Any, ...], failed: str,
        *detail: object,
    ) -> asyncio.Task[None] | None:  # fmt: skip
        """A hook's store reply (`hook(*args)`) read in a task of its own; a hook that raises is
        logged (`failed % detail`), never raised."""
        try:
            reply = hook(*args)
        except Exception:
            logger.exception(failed, *detail)
            return None
        return None if reply is None else self._read_in_task(reservation.read(reply))

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
            for key in [k for k, lease in leases.items() if lease.until <= now or not lease.left]:
                self._settle(leases.pop(key))
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


def _seen_pair(facts: Facts, kind: Kind) -> tuple[str, int]:
    """A client's key, and its kind with the two header values that tell a page load's requests
    apart (Accept, Sec-Fetch-Dest): not the binding, whose hash over every value cost ~4 µs."""
    headers = facts.headers
    return facts.client_key, hash((kind, headers.get("accept"), headers.get("sec-fetch-dest")))
