"""Runs the real cqlsh (its own entry point, unchanged) and, when it exits, prints one JSON report line
of what its driver negotiated, read from the driver's connections.

Usage: python cqlsh_session.py CQLSH_ARGUMENTS...
"""
import atexit
import json
import os
import sys

import cassandra
from cassandra.cluster import Cluster, ResultSet
from cqlshlib.__main__ import main

MAIN_PROCESS = os.getpid()  # COPY runs worker processes with their own driver sessions
seen = {"clusters": [], "pages": 1}

connect = Cluster.connect


def recording_connect(self, *args, **kwargs):
    session = connect(self, *args, **kwargs)
    if os.getpid() == MAIN_PROCESS:
        connections = [self.control_connection._connection]
        connections.extend(pool._connection for pool in session.get_pools())
        seen["clusters"].append(
            {
                "protocolVersion": self.protocol_version,
                "compression": ",".join(sorted({c._compression_type or "none" for c in connections})),
                "hosts": sorted(str(h.endpoint) for h in self.metadata.all_hosts()),
            }
        )
    return session


fetch_next_page = ResultSet.fetch_next_page


def counting_fetch_next_page(self):
    # Only the session's paged SELECT returns more than one page (the other results are a few rows).
    if os.getpid() == MAIN_PROCESS:
        seen["pages"] += 1
    return fetch_next_page(self)


def report():
    if os.getpid() != MAIN_PROCESS or not seen["clusters"]:
        return
    cluster = seen["clusters"][0]
    print(
        json.dumps(
            {
                "driver": f"cqlsh on cassandra-driver {cassandra.__version__}",
                **cluster,
                "pages": seen["pages"],
            }
        ),
        flush=True,
    )


Cluster.connect = recording_connect
ResultSet.fetch_next_page = counting_fetch_next_page
atexit.register(report)
sys.argv[0] = "cqlsh"
sys.exit(main())
