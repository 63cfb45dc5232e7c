"""Prepared statements whose result columns differ between Origin and Target, through the proxy.

Usage: python result_metadata.py HOST PORT KEYSPACE PROTOCOL_VERSION FIRST_KEY TARGET_HOST TARGET_PORT
The table KEYSPACE.t exists on both clusters with other columns; the program writes rows
FIRST_KEY..FIRST_KEY+19 with a prepared INSERT, reads them back with prepared and simple SELECTs,
adds a column `b` on Target directly (TARGET_HOST:TARGET_PORT, not through the proxy) and reads
again with the same prepared SELECT. Prints one JSON report line last.
"""
import json
import sys

from cassandra.cluster import Cluster
from cassandra.policies import WhiteListRoundRobinPolicy
from cassandra.query import dict_factory

host, port, keyspace = sys.argv[1], int(sys.argv[2]), sys.argv[3]
version, first = int(sys.argv[4]), int(sys.argv[5])
target_host, target_port = sys.argv[6], int(sys.argv[7])
keys = range(first, first + 20)


def connect(at_host, at_port, protocol_version=None):
    pinned = {} if protocol_version is None else {"protocol_version": protocol_version}
    cluster = Cluster(
        [at_host], port=at_port, load_balancing_policy=WhiteListRoundRobinPolicy([at_host]), **pinned
    )
    session = cluster.connect(keyspace)
    session.default_timeout = 60
    session.row_factory = dict_factory
    return cluster, session


cluster, session = connect(host, port, version)
insert = session.prepare("INSERT INTO t (k, v) VALUES (?, ?)")
for k in keys:
    session.execute(insert, (k, f"row-{k}"))

select_all = session.prepare("SELECT * FROM t WHERE k = ?")
select_v = session.prepare("SELECT v FROM t WHERE k = ?")
prepared_rows = [session.execute(select_all, (k,)).one() for k in keys]
named_rows = [session.execute(select_v, (k,)).one() for k in keys]
simple_rows = [session.execute(f"SELECT * FROM t WHERE k = {k}").one() for k in keys]
# Paging over the whole table with a prepared statement (fetch size 7: several pages).
select_paged = session.prepare("SELECT * FROM t")
select_paged.fetch_size = 7
paged_keys = sorted(row["k"] for row in session.execute(select_paged))

# A column added on Target only, behind the proxy's back: the same prepared SELECT must return
# rows decoded by Target's new columns wherever Target answers the reads.
direct, direct_session = connect(target_host, target_port)
direct_session.execute("ALTER TABLE t ADD b int")
direct.shutdown()
after_alter = [session.execute(select_all, (k,)).one() for k in keys]

print(
    json.dumps(
        {
            "protocolVersion": cluster.protocol_version,
            "prepared": prepared_rows,
            "named": named_rows,
            "simple": simple_rows,
            "pagedKeys": paged_keys,
            "afterAlter": after_alter,
        }
    )
)
cluster.shutdown()
