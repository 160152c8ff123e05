"""The Redis store: state shared by mocks on several hosts, e.g. behind a load balancer.

Every operation that changes more than one key, or reads before it writes, is one Lua script,
which Redis runs atomically: a code claimed by a mock on one host cannot be claimed by a mock on
another. A standalone Redis (or a primary with replicas) is expected, not Redis Cluster: the
scripts touch keys they compute themselves.

Keys, all under the prefix (default `mock-ims:`), so several mocks can share one database:

    doc:<kind>:<key>   hash, one field per top-level field of the document, each JSON-encoded
    order:<kind>       sorted set of the keys of a kind, scored by insertion (existence + order)
    expiry:<kind>      sorted set of the keys that expire, scored by mock-clock `expires_ms`
    kinds              set of the kinds that have expiring documents (what `purge` walks)
    inserted           counter behind the insertion order
    journal            sorted set of "<seq>:<entry JSON>", scored by seq
    journal:seq        counter behind the journal's sequence numbers
    revision           counter bumped, in the writing script, by every change to a watched kind

A document is a hash of JSON-encoded fields rather than one JSON string so that `claim` and
`decrement` decide inside Redis on one field, with no JSON re-encoding in Lua (whose cjson
would turn `[]` into `{}` and round large numbers).
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from mock_ims.store.base import WATCHED_KINDS, Doc, StoreError, redacted_url

DEFAULT_PREFIX = "mock-ims:"

_PUT = """
local doc, order, expiry, kinds, inserted = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local kind, key, expires_ms = ARGV[1], ARGV[2], ARGV[3]
local fresh = not redis.call('ZSCORE', order, key)
if ARGV[4] == 'insert' and not fresh then return 0 end
redis.call('DEL', doc)
if #ARGV > 4 then redis.call('HSET', doc, unpack(ARGV, 5)) end
if fresh then redis.call('ZADD', order, redis.call('INCR', inserted), key) end
if expires_ms == '' then
  redis.call('ZREM', expiry, key)
else
  redis.call('ZADD', expiry, expires_ms, key)
  redis.call('SADD', kinds, kind)
end
if KEYS[6] then redis.call('INCR', KEYS[6]) end
return 1
"""

_GET = """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
return redis.call('HGETALL', KEYS[1])
"""

_DELETE = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if KEYS[4] then redis.call('INCR', KEYS[4]) end
return 1
"""

_ITEMS = """
local docs = {}
for i, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  docs[i] = redis.call('HGETALL', ARGV[1] .. key)
end
return docs
"""

_CLEAR = """
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  redis.call('DEL', ARGV[1] .. key)
end
redis.call('DEL', KEYS[1], KEYS[2])
if KEYS[3] then redis.call('INCR', KEYS[3]) end
return 1
"""

# A field is unset when absent or JSON null, as `doc.get(field) is None` in the memory store.
_CLAIM = """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
local current = redis.call('HGET', KEYS[1], ARGV[2])
if current and current ~= 'null' then return false end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if KEYS[3] then redis.call('INCR', KEYS[3]) end
return redis.call('HGETALL', KEYS[1])
"""

# ARGV: key, whether a document is expected ('1'/'0'), its field count n, its n fields as
# field/JSON pairs, whether a new document is written ('1'/'0'), then the new fields. The
# expected fields are compared with the stored JSON text: both were written by `_dump`.
_SWAP = """
local doc, order, expiry, inserted = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local key, n = ARGV[1], tonumber(ARGV[3])
local exists = redis.call('ZSCORE', order, key)
if ARGV[2] == '0' then
  if exists then return 0 end
else
  if not exists or redis.call('HLEN', doc) ~= n then return 0 end
  for i = 4, 3 + 2 * n, 2 do
    if redis.call('HGET', doc, ARGV[i]) ~= ARGV[i + 1] then return 0 end
  end
end
local rest = 4 + 2 * n
if ARGV[rest] == '0' then
  if not exists then return 1 end
  redis.call('ZREM', order, key)
else
  if not exists then redis.call('ZADD', order, redis.call('INCR', inserted), key) end
end
redis.call('DEL', doc)
redis.call('ZREM', expiry, key)
if #ARGV > rest then redis.call('HSET', doc, unpack(ARGV, rest + 1)) end
if KEYS[5] then redis.call('INCR', KEYS[5]) end
return 1
"""

# JSON of a positive integer is digits without a leading zero; `true`, `1.5` and `"3"` are not.
# Eighteen digits at most keeps HINCRBY within a signed 64-bit integer.
_DECREMENT = """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
local current = redis.call('HGET', KEYS[1], ARGV[2])
if not current or #current > 18 or not string.match(current, '^[1-9]%d*$') then return false end
local left = redis.call('HINCRBY', KEYS[1], ARGV[2], -1)
if KEYS[3] then redis.call('INCR', KEYS[3]) end
return left
"""

_APPEND_JOURNAL = """
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], seq, seq .. ':' .. ARGV[1])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1) end
return seq
"""

_PURGE = """
local prefix, now_ms, dropped = ARGV[1], ARGV[2], 0
local watched = {}
for i = 3, #ARGV do watched[ARGV[i]] = true end
for _, kind in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local expiry = prefix .. 'expiry:' .. kind
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', now_ms)) do
    redis.call('DEL', prefix .. 'doc:' .. kind .. ':' .. key)
    local gone = redis.call('ZREM', prefix .. 'order:' .. kind, key)
    dropped = dropped + gone
    if gone > 0 and watched[kind] then redis.call('INCR', KEYS[2]) end
  end
  redis.call('ZREMRANGEBYSCORE', expiry, '-inf', now_ms)
  if redis.call('ZCARD', expiry) == 0 then redis.call('SREM', KEYS[1], kind) end
end
return dropped
"""


def _dump(value: Any) -> str:
    # ASCII only: a lone surrogate a client smuggled into a parameter cannot fail the encoding.
    return json.dumps(value, separators=(",", ":"))


def _fields(doc: Doc) -> list[str]:
    """A document as HSET arguments: field, JSON value, field, JSON value, ..."""
    flat: list[str] = []
    for name, value in doc.items():
        flat += [name, _dump(value)]
    return flat


@functools.lru_cache(maxsize=1024)
def _name(field: str) -> str:
    return json.dumps(field)


def _doc(flat: list[str]) -> Doc:
    """HGETALL's flat [field, JSON value, ...] reply back into a document.

    Spliced into one JSON object and parsed once: three times faster than a parse per field,
    which counts when the ledger lists every token.
    """
    members = [f"{_name(flat[i])}:{flat[i + 1]}" for i in range(0, len(flat), 2)]
    doc: Doc = json.loads("{" + ",".join(members) + "}")
    return doc


def split_url(url: str) -> tuple[str, str]:
    """The URL redis-py understands, and the key prefix from `?prefix=` (default `mock-ims:`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    if len(prefixes) > 1:
        raise StoreError(f"{redacted_url(url)}: prefix is given {len(prefixes)} times")
    if prefixes and not prefixes[0]:
        raise StoreError(f"{redacted_url(url)}: prefix must not be empty (the default is {DEFAULT_PREFIX!r})")
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[0] if prefixes else DEFAULT_PREFIX


class RedisStore:
    """One connection pool per process; every mock with the same URL and prefix shares state."""

    shared_across_processes = True

    def __init__(self, url: str) -> None:
        self.url = url
        client_url, self.prefix = split_url(url)
        try:
            self._redis = aioredis.Redis.from_url(client_url, decode_responses=True)
        except ValueError as exc:  # redis-py's message for a malformed URL or option
            raise StoreError(f"{redacted_url(url)}: {exc}") from exc
        register = self._redis.register_script
        self._put: AsyncScript = register(_PUT)
        self._get: AsyncScript = register(_GET)
        self._delete: AsyncScript = register(_DELETE)
        self._items: AsyncScript = register(_ITEMS)
        self._clear: AsyncScript = register(_CLEAR)
        self._claim: AsyncScript = register(_CLAIM)
        self._swap: AsyncScript = register(_SWAP)
        self._decrement: AsyncScript = register(_DECREMENT)
        self._append_journal: AsyncScript = register(_APPEND_JOURNAL)
        self._purge: AsyncScript = register(_PURGE)

    def _doc_key(self, kind: str, key: str) -> str:
        return f"{self.prefix}doc:{kind}:{key}"

    def _order(self, kind: str) -> str:
        return f"{self.prefix}order:{kind}"

    def _expiry(self, kind: str) -> str:
        return f"{self.prefix}expiry:{kind}"

    def _revision(self, kind: str) -> list[str]:
        """The revision counter as a last script key, for a kind whose changes it counts."""
        return [f"{self.prefix}revision"] if kind in WATCHED_KINDS else []

    def _put_call(self, kind: str, key: str, doc: Doc, expires_ms: int | None, mode: str) -> dict[str, Any]:
        keys = [
            self._doc_key(kind, key),
            self._order(kind),
            self._expiry(kind),
            f"{self.prefix}kinds",
            f"{self.prefix}inserted",
            *self._revision(kind),
        ]
        expiry = "" if expires_ms is None else str(expires_ms)
        return {"keys": keys, "args": [kind, key, expiry, mode, *_fields(doc)]}

    async def _write(self, kind: str, key: str, doc: Doc, expires_ms: int | None, mode: str) -> bool:
        written = await self._put(**self._put_call(kind, key, doc, expires_ms, mode))
        return bool(written)

    async def get(self, kind: str, key: str) -> Doc | None:
        flat = await self._get(keys=[self._doc_key(kind, key), self._order(kind)], args=[key])
        return _doc(flat) if flat is not None else None

    async def put(self, kind: str, key: str, doc: Doc, *, expires_ms: int | None = None) -> None:
        await self._write(kind, key, doc, expires_ms, "put")

    async def put_many(self, kind: str, docs: list[tuple[str, Doc, int | None]]) -> None:
        # MULTI/EXEC: the puts run one after the other, nothing in between, all or none.
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, doc, expires_ms in docs:
                await self._put(**self._put_call(kind, key, doc, expires_ms, "put"), client=pipe)
            await pipe.execute()

    async def insert(self, kind: str, key: str, doc: Doc) -> bool:
        return await self._write(kind, key, doc, None, "insert")

    async def delete(self, kind: str, key: str) -> bool:
        keys = [self._doc_key(kind, key), self._order(kind), self._expiry(kind), *self._revision(kind)]
        return bool(await self._delete(keys=keys, args=[key]))

    async def items(self, kind: str) -> list[Doc]:
        docs = await self._items(keys=[self._order(kind)], args=[self._doc_key(kind, "")])
        return [_doc(flat) for flat in docs]

    async def clear(self, kind: str) -> None:
        keys = [self._order(kind), self._expiry(kind), *self._revision(kind)]
        await self._clear(keys=keys, args=[self._doc_key(kind, "")])

    async def claim(
        self, kind: str, key: str, field: str, value: Any, *, also: Doc | None = None
    ) -> Doc | None:
        updates = [field, _dump(value), *_fields(also or {})]
        keys = [self._doc_key(kind, key), self._order(kind), *self._revision(kind)]
        flat = await self._claim(keys=keys, args=[key, *updates])
        return _doc(flat) if flat is not None else None

    async def swap(self, kind: str, key: str, expected: Doc | None, new: Doc | None) -> bool:
        was = _fields(expected) if expected is not None else []
        args = [key, "0" if expected is None else "1", len(was) // 2, *was]
        args += ["0"] if new is None else ["1", *_fields(new)]
        keys = [
            self._doc_key(kind, key),
            self._order(kind),
            self._expiry(kind),
            f"{self.prefix}inserted",
            *self._revision(kind),
        ]
        return bool(await self._swap(keys=keys, args=args))

    async def decrement(self, kind: str, key: str, field: str) -> int | None:
        keys = [self._doc_key(kind, key), self._order(kind), *self._revision(kind)]
        left = await self._decrement(keys=keys, args=[key, field])
        return int(left) if left is not None else None

    async def append_journal(self, entry: Doc, *, limit: int) -> int:
        keys = [f"{self.prefix}journal", f"{self.prefix}journal:seq"]
        return int(await self._append_journal(keys=keys, args=[_dump(entry), limit]))

    async def journal(self, *, after: int = 0, limit: int | None = None) -> list[Doc]:
        members = await self._redis.zrangebyscore(
            f"{self.prefix}journal",
            f"({after}",
            "+inf",
            start=0 if limit is not None else None,
            num=limit,
        )
        entries = []
        for member in members:
            if not isinstance(member, str):  # pragma: no cover - decode_responses=True
                raise StoreError(f"unexpected journal member in Redis: {member!r}")
            seq, _, entry = member.partition(":")
            entries.append({**json.loads(entry), "seq": int(seq)})
        return entries

    async def clear_journal(self) -> None:
        await self._redis.delete(f"{self.prefix}journal")

    async def revision(self) -> int:
        return int(await self._redis.get(f"{self.prefix}revision") or 0)

    async def purge(self, now_ms: int) -> int:
        keys = [f"{self.prefix}kinds", f"{self.prefix}revision"]
        return int(await self._purge(keys=keys, args=[self.prefix, now_ms, *sorted(WATCHED_KINDS)]))

    async def close(self) -> None:
        await self._redis.aclose()
