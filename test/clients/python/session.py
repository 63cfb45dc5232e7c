"""The scripted client session (test/clients/README.md) with the Python driver (cassandra-driver).

Usage: python session.py HOST PORT KEYSPACE COMPRESSION
COMPRESSION: auto (the driver's default: the first of lz4/snappy the server offers), lz4 or snappy.
Prints one JSON report line last.
"""
import datetime
import decimal
import ipaddress
import json
import sys
import uuid

import cassandra
from cassandra.cluster import Cluster
from cassandra.policies import WhiteListRoundRobinPolicy
from cassandra.query import BatchStatement, BatchType, SimpleStatement
from cassandra.util import Duration, Time

host, port, keyspace, compression = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
# An optional fifth argument pins the protocol version (v5 compresses segments with LZ4 only, so
# Snappy is exercised on v4); without it the driver negotiates.
pinned = {"protocol_version": int(sys.argv[5])} if len(sys.argv) > 5 else {}

cluster = Cluster(
    [host],
    port=port,
    **pinned,
    compression=True if compression == "auto" else compression,
    load_balancing_policy=WhiteListRoundRobinPolicy([host]),
)
session = cluster.connect()
session.default_timeout = 60

session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
session.execute(
    f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
)
session.execute(f"USE {keyspace}")
session.execute("CREATE TYPE address (street text, number int)")
session.execute("CREATE TABLE kv (k int PRIMARY KEY, v text)")
session.execute("CREATE TABLE lwt (k int PRIMARY KEY, v text)")
session.execute("CREATE TABLE counters (k int PRIMARY KEY, c counter)")
session.execute(
    "CREATE TABLE types (k int PRIMARY KEY, ascii_v ascii, bigint_v bigint, blob_v blob, boolean_v boolean,"
    " date_v date, decimal_v decimal, double_v double, duration_v duration, float_v float, inet_v inet,"
    " int_v int, smallint_v smallint, text_v text, time_v time, timestamp_v timestamp, timeuuid_v timeuuid,"
    " tinyint_v tinyint, uuid_v uuid, varint_v varint, list_v list<int>, set_v set<text>,"
    " map_v map<text, int>, tuple_v tuple<int, text>, udt_v frozen<address>)"
)

# Simple statements.
session.execute("INSERT INTO kv (k, v) VALUES (0, 'simple')")
session.execute("UPDATE kv SET v = 'simple-updated' WHERE k = 0")

# Prepared statements.
insert = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)")
for k in range(1, 121):
    session.execute(insert, (k, f"row-{k}"))
session.execute(session.prepare("DELETE FROM kv WHERE k = ?"), (2,))

# A logged batch of prepared statements.
batch = BatchStatement(batch_type=BatchType.LOGGED)
for k in range(121, 124):
    batch.add(insert, (k, f"batch-{k}"))
session.execute(batch)

session.execute(session.prepare("INSERT INTO kv (k, v) VALUES (?, ?) USING TTL 86400"), (124, "ttl"))

# Paging: every page fetched explicitly, so the count of pages is the driver's own.
paged_rows, pages = 0, 0
result = session.execute(SimpleStatement("SELECT k, v FROM kv", fetch_size=50))
while True:
    pages += 1
    paged_rows += len(result.current_rows)
    if not result.has_more_pages:
        break
    result.fetch_next_page()

lwt_applied = [
    session.execute("INSERT INTO lwt (k, v) VALUES (1, 'first') IF NOT EXISTS").was_applied,
    session.execute("INSERT INTO lwt (k, v) VALUES (1, 'second') IF NOT EXISTS").was_applied,
]

session.execute("UPDATE counters SET c = c + 5 WHERE k = 1")
session.execute(session.prepare("UPDATE counters SET c = c + ? WHERE k = ?"), (2, 1))

types = session.prepare(
    "INSERT INTO types (k, ascii_v, bigint_v, blob_v, boolean_v, date_v, decimal_v, double_v, duration_v,"
    " float_v, inet_v, int_v, smallint_v, text_v, time_v, timestamp_v, timeuuid_v, tinyint_v, uuid_v, varint_v,"
    " list_v, set_v, map_v, tuple_v, udt_v) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?)"
)
session.execute(
    types,
    (
        "ascii",
        9007199254740993,
        bytes.fromhex("cafebabe"),
        True,
        datetime.date(2024, 2, 29),
        decimal.Decimal("12345.6789"),
        3.5,
        Duration(1, 2, 3 * 3600 * 10**9),
        1.25,
        "127.0.0.1",
        2147483647,
        -32768,
        "héllo wörld ✓",
        Time(datetime.time(12, 34, 56, 789000)),
        datetime.datetime(2024, 2, 29, 12, 34, 56, 789000, tzinfo=datetime.timezone.utc),
        uuid.UUID("50554d6e-29bb-11e5-b345-feff819cdc9f"),
        -128,
        uuid.UUID("6f1a1c1e-5d2c-4c5b-9f1a-2b3c4d5e6f70"),
        123456789012345678901234567890,
        [1, 2, 3],
        {"a", "b"},
        {"x": 1, "y": 2},
        (7, "seven"),
        # An unregistered UDT binds as its fields in declaration order (street, number).
        ("Main", 5),
    ),
)

# What the connections negotiated, read from the driver's own connection objects.
connections = [cluster.control_connection._connection]
for pool in session.get_pools():
    connections.extend(pool._connections.values() if hasattr(pool, "_connections") else [pool._connection])
compressions = sorted({c._compression_type or "none" for c in connections})
versions = sorted({c.protocol_version for c in connections})
report = {
    "driver": f"cassandra-driver {cassandra.__version__}",
    "protocolVersion": cluster.protocol_version,
    "compression": ",".join(compressions),
    "connectionVersions": versions,
    "hosts": sorted(str(h.endpoint) for h in cluster.metadata.all_hosts()),
    "pagedRows": paged_rows,
    "pages": pages,
    "lwtApplied": lwt_applied,
}
cluster.shutdown()
print(json.dumps(report))
