"""Asks one test server a real question and prints one line naming it and its version.

    python3 scripts/servers/probe.py kafka 9092 [--wait SECONDS] [--version V]

Exits 0 once the server answered (retrying until --wait runs out), 1 with the last error
otherwise. The questions: PostgreSQL `SELECT 1`, Redis `PING`, Kafka a metadata request,
HBase's Thrift gateway `getTableNames`, MongoDB (FerretDB) `ping`. Used by
scripts/start-test-servers.
"""

import argparse
import socket
import subprocess
import sys
import time


def postgres(port, version):
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
         "-AtX", "-c", "SELECT 1", "-c", "SHOW server_version"],
        capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    one, server_version = out.stdout.split()[:2]
    assert one == "1", out.stdout
    return f"PostgreSQL {server_version}", "SELECT 1 answered"


def redis(port, version):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        data = b""
        while b"redis_version" not in data or not data.endswith(b"\r\n\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data.startswith(b"+PONG"):
        raise RuntimeError(f"PING answered {data[:40]!r}")
    found = [line.split(":", 1)[1] for line in data.decode().splitlines()
             if line.startswith("redis_version:")]
    return f"Redis {found[0] if found else '?'}", "PING answered"


def kafka(port, version):
    from kafka import KafkaAdminClient  # kafka-python
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=5000)
    try:
        cluster = admin.describe_cluster()
        topics = admin.list_topics()
    finally:
        admin.close()
    return (f"Apache Kafka {version}",
            f"metadata: {len(cluster['brokers'])} broker(s), cluster {cluster['cluster_id']}, "
            f"{len(topics)} topic(s)")


def hbase(port, version):
    import happybase
    connection = happybase.Connection("127.0.0.1", port, timeout=10000)
    try:
        tables = connection.tables()
    finally:
        connection.close()
    return f"Apache HBase {version} (Thrift gateway)", f"getTableNames: {len(tables)} table(s)"


def mongodb(port, version):
    import pymongo
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=5000)
    try:
        client.admin.command("ping")
        wire = client.admin.command("buildInfo").get("version", "?")
    finally:
        client.close()
    return f"FerretDB {version}", f"ping answered (MongoDB {wire} wire protocol)"


PROBES = {"postgres": postgres, "redis": redis, "kafka": kafka, "hbase": hbase,
          "ferretdb": mongodb}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", choices=sorted(PROBES))
    parser.add_argument("port", type=int)
    parser.add_argument("--wait", type=float, default=0, help="seconds to keep retrying")
    parser.add_argument("--version", default="?", help="version to print when the server "
                        "cannot tell its own")
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    while True:
        try:
            name, answer = PROBES[args.server](args.port, args.version)
        except Exception as error:  # any failure to answer: retry until the deadline
            if time.monotonic() >= deadline:
                print(f"{args.server} on 127.0.0.1:{args.port} did not answer: {error}",
                      file=sys.stderr)
                return 1
            time.sleep(0.5)
            continue
        print(f"{name:<40} 127.0.0.1:{args.port:<6} {answer}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
