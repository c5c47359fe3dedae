"""Leases: a client judged clean skips the detectors for a few identical requests (issue 19).

After a full evaluation that allowed a request with no signal at all, every detector of that
kind of request states its *headroom*: how many more such requests cannot make it signal. The
shield grants the client a lease of the smallest headroom (capped by `lease.requests` and
`lease.seconds`), bound to every input the detectors read. A leased request is one dict lookup
and a compare; what the detectors must still count is recorded and *settled* (replayed into
their store state) before the next full evaluation, by the periodic sweep, or on `aclose`.

Imports the core only (`detector`, `facts`, `signals`, `store`, `settings_base`); the detectors
that opt in implement `protocol.Leasable`. See docs/leases.md.
"""
