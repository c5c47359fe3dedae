"""The Redis store's own connection: replies matched in order, errors kept to their command,
credentials and database from the URL, a wrong password failing like an outage, TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scrapeshield import StoreUnavailable
from scrapeshield.errors import ConfigurationError, StoreError
from scrapeshield.store import RedisStore
from scrapeshield.store.breaker import BreakerState
from tests.servers import LOADED_STORE_TIMEOUT, RedisServer, free_port, wait_for_port

pytestmark = pytest.mark.both_loops  # on asyncio and on uvloop


async def test_replies_reach_their_commands_across_batches_in_flight(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        await asyncio.gather(*(store.set(f"k{n}", f"v{n}", ttl=10) for n in range(300)))

        async def read(n: int) -> str | None:
            for _ in range(n % 7):  # spread the reads over several ticks: several batches
                await asyncio.sleep(0)
            return await store.get(f"k{n}")

        before = store.round_trips
        values = await asyncio.gather(*(read(n) for n in range(300)))
        assert values == [f"v{n}" for n in range(300)]
        assert 1 < store.round_trips - before <= 7
    finally:
        await store.aclose()


async def test_an_error_reply_fails_only_its_own_command(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        await store.set("text", "not a number", ttl=10)
        results = await asyncio.gather(
            store.get("text"), store.incr("text"), store.incr("n"), return_exceptions=True
        )
        assert results[0] == "not a number"
        assert isinstance(results[1], StoreError)
        assert not isinstance(results[1], StoreUnavailable)
        assert "not an integer" in str(results[1])
        assert results[2] == 1
        assert store.breaker.state is BreakerState.CLOSED
    finally:
        await store.aclose()


async def test_scripts_are_loaded_again_after_a_script_flush(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    admin = redis.Redis.from_url(redis_url)
    try:
        assert await store.incr("n", ttl=10) == 1
        admin.script_flush()  # as after a server restart: EVALSHA answers NOSCRIPT
        before = store.round_trips
        assert await store.incr("n", ttl=10) == 2
        assert store.round_trips - before == 2  # EVALSHA, then EVAL once
        before = store.round_trips
        assert await store.incr("n", ttl=10) == 3
        assert store.round_trips - before == 1
        assert store.breaker.state is BreakerState.CLOSED
    finally:
        admin.close()
        await store.aclose()


async def test_a_connection_the_server_closed_is_replaced_quietly(own_redis: RedisServer) -> None:
    store = RedisStore(own_redis.url, timeout=LOADED_STORE_TIMEOUT)
    admin = redis.Redis.from_url(own_redis.url)
    try:
        await store.set("x", "1", ttl=10)
        assert admin.client_kill_filter(_type="normal", skipme=True) == 1  # as an idle timeout
        await asyncio.sleep(0.1)  # the loop sees the connection close
        assert await store.get("x") == "1"
        assert store.breaker.state is BreakerState.CLOSED
        assert store.breaker.failures == 0
    finally:
        admin.close()
        await store.aclose()


async def test_a_batch_cut_off_by_its_deadline_never_hands_its_reply_to_the_next(
    own_redis: RedisServer,
) -> None:
    """The store keeps the connections it used (store/exchange.py): one whose batch timed out
    still has that batch's reply coming, so it is disconnected and handed back to the pool
    (which stays bounded, here at 2, however many batches time out), and no late reply
    reaches the next batch."""
    store = RedisStore(own_redis.url, timeout=0.2, cooldown=0.1, max_connections=2)
    admin = redis.Redis.from_url(own_redis.url)
    try:
        for key, value in (("a", "A"), ("b", "B")):
            await _set_within(store, key, value)
        for _ in range(4):  # more timeouts than the pool has connections
            # (0.8 s: the read times out well within the pause, on a loaded machine too)
            admin.client_pause(800, all=True)
            with pytest.raises(StoreUnavailable):
                await store.get("a")  # its reply "A" arrives after the deadline
            await asyncio.sleep(0.75)  # the pause and the breaker's cooldown are over
            assert await store.get("b") == "B"  # not the late "A"
        assert await asyncio.gather(*(store.get(k) for k in "ab" * 8)) == ["A", "B"] * 8
    finally:
        admin.close()
        await store.aclose()


async def _set_within(store: RedisStore, key: str, value: str, seconds: float = 10.0) -> None:
    """The test's setup on a 0.2 s store: its first command also connects, which a loaded
    machine (the whole suite on two cores) once took past 0.2 s; tried again until `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await store.set(key, value)
            return
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.15)  # (the breaker's cooldown is 0.1 s)


async def test_the_client_gets_a_connection_while_the_store_keeps_them_all(
    redis_url: str, redis_prefix: str
) -> None:
    """Two batches in flight at once, on a pool of 2, leave the store keeping connections out
    of the pool's free list; `keys` (its SCANs on the store's own batches) does not wait."""
    store = RedisStore(
        redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT, max_connections=2
    )
    try:
        await store.set("k1", "1")
        first = store.submit("GET", redis_prefix + "k1")
        await asyncio.sleep(0)  # the first batch leaves; the second waits for a connection
        second = store.submit("GET", redis_prefix + "k1")
        assert list(await asyncio.gather(first, second)) == ["1", "1"]
        assert store._exchange is not None
        assert store._exchange._idle  # kept for the next batch, not in the pool's free list
        started = time.monotonic()
        assert await store.keys("k") == ["k1"]
        assert time.monotonic() - started < 1.0
        assert await store.get("k1") == "1"
    finally:
        await store.aclose()


async def test_scans_and_batches_at_once_share_a_pool_of_two(own_redis: RedisServer) -> None:
    """The dashboard's Bans page: two scans at once (bans, trap flags) while reads go out, on
    a pool of 2. A scan's SCAN calls leave on the store's own batches; through redis-py's
    client they waited, between two SCANs, for a connection the store had kept (seen: the
    page timed out as 'store unavailable')."""
    admin = redis.Redis.from_url(own_redis.url)
    admin.mset({f"filler:{n}": "x" for n in range(6000)})  # several SCAN calls a scan
    admin.mset({f"p:ban:{n}": "b" for n in range(40)} | {f"p:trap:{n}": "t" for n in range(40)})
    store = RedisStore(own_redis.url, prefix="p:", timeout=LOADED_STORE_TIMEOUT, max_connections=2)
    stop = asyncio.Event()

    async def reads() -> int:
        count = 0
        while not stop.is_set():  # two batches in flight: the store keeps two connections
            first = asyncio.ensure_future(store.get("ban:1"))
            await asyncio.sleep(0)
            await asyncio.gather(first, store.get("ban:2"))
            count += 1
        return count

    try:
        reader = asyncio.ensure_future(reads())
        for _ in range(10):  # (the old way hung in about one round in three)
            await asyncio.sleep(0.02)  # reads under way, both connections in the store's hands
            bans, traps = await asyncio.gather(store.keys("ban:"), store.keys("trap:"))
            assert sorted(bans) == sorted(f"ban:{n}" for n in range(40))
            assert sorted(traps) == sorted(f"trap:{n}" for n in range(40))
        stop.set()
        assert await reader > 0
        assert store.breaker.state is BreakerState.CLOSED
    finally:
        stop.set()
        admin.close()
        await store.aclose()


async def test_a_bad_argument_fails_only_its_caller(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        results = await asyncio.gather(
            store.execute("SET", redis_prefix + "k", None), store.incr("n"), return_exceptions=True
        )
        assert isinstance(results[0], StoreError)
        assert results[1] == 1
    finally:
        await store.aclose()


async def test_closing_sends_what_is_queued_first(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    writing = asyncio.ensure_future(store.set("late", "1", ttl=10))
    await asyncio.sleep(0)  # queued, not yet sent
    await store.aclose()
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert admin.get(redis_prefix + "late") == "1"  # written before the connection closed
    finally:
        admin.close()
    await writing


@pytest.fixture
def acl_user(redis_server: RedisServer) -> Iterator[tuple[str, str]]:
    name, password = f"ss-{secrets.token_hex(4)}", secrets.token_hex(8)
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser(
        name, enabled=True, passwords=[f"+{password}"], keys=["t:*"], commands=["+@all"]
    )
    yield name, password
    admin.acl_deluser(name)
    admin.close()


async def test_username_password_and_database_come_from_the_url(
    redis_server: RedisServer, redis_prefix: str, acl_user: tuple[str, str]
) -> None:
    name, password = acl_user
    url = f"redis://{name}:{password}@127.0.0.1:{redis_server.port}/3"
    store = RedisStore(url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        await store.set("here", "db3", ttl=10)
        assert await store.get("here") == "db3"
    finally:
        await store.aclose()
    db3 = redis.Redis(port=redis_server.port, db=3, decode_responses=True)
    db0 = redis.Redis(port=redis_server.port, db=0, decode_responses=True)
    try:
        assert db3.get(redis_prefix + "here") == "db3"
        assert db0.get(redis_prefix + "here") is None
    finally:
        db3.close()
        db0.close()


async def test_a_wrong_password_is_an_outage_and_never_logged(
    redis_server: RedisServer,
    redis_prefix: str,
    acl_user: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    name, _ = acl_user
    url = f"redis://{name}:wrong-s3cret@127.0.0.1:{redis_server.port}/0"
    store = RedisStore(url, prefix=redis_prefix, timeout=1.0)
    try:
        # refused at once, call after call: for longer than the timeout, which opens the breaker
        deadline = time.monotonic() + 10
        while store.breaker.state is BreakerState.CLOSED and time.monotonic() < deadline:
            with pytest.raises(StoreUnavailable):
                await store.get("x")
            await asyncio.sleep(0.1)
        assert store.breaker.state is BreakerState.OPEN
        assert "unavailable" in caplog.text
    finally:
        await store.aclose()
    assert "wrong-s3cret" not in caplog.text


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A redis-server speaking only TLS, with a self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    port = free_port()
    args = [
        shutil.which("redis-server") or "redis-server",
        "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(cert_file), "--tls-key-file", str(key_file),
        "--tls-ca-cert-file", str(cert_file), "--tls-auth-clients", "no",
        "--save", "", "--dir", str(tmp_path),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port, cert_file
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_tls_verifies_the_server_certificate(tls_redis: tuple[int, Path]) -> None:
    port, cert_file = tls_redis
    trusted = RedisStore(
        f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert_file}", timeout=LOADED_STORE_TIMEOUT
    )
    unverified = RedisStore(
        f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=none", timeout=LOADED_STORE_TIMEOUT
    )
    untrusted = RedisStore(f"rediss://127.0.0.1:{port}/0", timeout=LOADED_STORE_TIMEOUT)
    try:
        await trusted.set("a", "1", ttl=10)
        assert await trusted.get("a") == "1"
        assert await unverified.get("a") == "1"
        with pytest.raises(StoreUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.get("a")  # a self-signed certificate the system does not trust
    finally:
        for store in (trusted, unverified, untrusted):
            await store.aclose()


async def test_optional_certificates_are_still_checked(tls_redis: tuple[int, Path]) -> None:
    """`ssl_cert_reqs=optional` (as redis-py reads it): a certificate the server presents is
    verified, so a self-signed one passes with its CA and fails without it."""
    port, cert_file = tls_redis
    base = f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=optional"
    trusted = RedisStore(f"{base}&ssl_ca_certs={cert_file}", timeout=LOADED_STORE_TIMEOUT)
    untrusted = RedisStore(base, timeout=LOADED_STORE_TIMEOUT)
    try:
        await trusted.set("b", "2", ttl=10)
        assert await trusted.get("b") == "2"
        with pytest.raises(StoreUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.get("b")
    finally:
        await trusted.aclose()
        await untrusted.aclose()


def test_an_unknown_ssl_cert_reqs_fails_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="store_url: ssl_cert_reqs='maybe'"):
        RedisStore("rediss://127.0.0.1:6380/0?ssl_cert_reqs=maybe")


def test_a_bad_url_fails_at_start_up_without_its_password() -> None:
    with pytest.raises(ConfigurationError, match="store_url: Port could not be cast") as error:
        RedisStore("redis://:s3cret@127.0.0.1:port/0")
    assert "s3cret" not in str(error.value)


async def test_pipelines_are_packed_in_c_and_every_value_arrives_exactly(
    redis_url: str, redis_prefix: str
) -> None:
    """The store's connections pack pipelines with hiredis (store/packing.py): text (UTF-8),
    integers, floats and bytes reach Redis as redis-py's own packing sends them."""
    from redis.asyncio.connection import Connection

    from scrapeshield.store.packing import packed_in_c

    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        values: list[str | int | float | bytes] = ["é 雪 🐱", -7, 10**20, 1.5, 2.0, 1e-7, b"\x00b"]
        await asyncio.gather(
            *(store.execute("SET", f"{redis_prefix}p{i}", v) for i, v in enumerate(values))
        )
        got = await asyncio.gather(*(store.get(f"p{i}") for i in range(len(values))))
        assert got == ["é 雪 🐱", "-7", "100000000000000000000", "1.5", "2.0", "1e-07", "\x00b"]
        plain = Connection()
        pool = store.client.connection_pool  # type: ignore[union-attr]
        assert pool.connection_class is packed_in_c(Connection)
        # what hiredis does not take goes to redis-py's packing: the bytes are the same
        packed = packed_in_c(Connection)()
        rows = [("SET", "k", memoryview(b"v")), ("CONFIG GET", "maxmemory"), ("GET", "é", 1.5)]
        assert b"".join(packed.pack_commands(rows)) == b"".join(plain.pack_commands(rows))
        assert packed.pack_commands(rows[2:]) == [b"".join(plain.pack_commands(rows[2:]))]
    finally:
        await store.aclose()


async def test_an_argument_redis_cannot_take_fails_its_own_call_only(
    redis_url: str, redis_prefix: str
) -> None:
    """A bool, None or an object fails its caller at once; a str or int subclass is sent as
    its value; the tick's other calls go on."""
    import enum

    class Colour(enum.StrEnum):
        RED = "red"

    store = RedisStore(redis_url, prefix=redis_prefix, timeout=LOADED_STORE_TIMEOUT)
    try:
        for bad in (True, None, object(), [1]):
            with pytest.raises(StoreError, match="cannot send"):
                store.submit("SET", redis_prefix + "x", bad)
            with pytest.raises(StoreError, match="cannot send"):
                store.submit_script("return 1", ["x"], [bad])
        await store.submit("SET", redis_prefix + "colour", Colour.RED)
        assert await store.get("colour") == "red"
    finally:
        await store.aclose()
