"""Reads rows straight from a cluster with the Python driver (which speaks v5).

Usage: python read_rows.py HOST PORT QUERY
Prints the rows as one JSON list of objects.
"""
import json
import sys

from cassandra.cluster import Cluster
from cassandra.policies import WhiteListRoundRobinPolicy
from cassandra.query import dict_factory

host, port, query = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cluster = Cluster([host], port=port, load_balancing_policy=WhiteListRoundRobinPolicy([host]))
session = cluster.connect()
session.default_timeout = 60
session.row_factory = dict_factory
rows = list(session.execute(query))
print(json.dumps({"protocolVersion": cluster.protocol_version, "rows": rows}))
cluster.shutdown()
