"""Deletes what ended test runs left on the shared test servers, and prints one line saying what.

    python3 scripts/servers/sweep.py [--dry-run]

Tests make a database, table, topic or key prefix of their own on the servers that
scripts/start-test-servers starts, named with the id of the test's process. A test that
ends early (a failed assertion, a timeout, Ctrl-C) leaves its own behind, and a day of runs
had left hundreds: HBase ran out of heap at 371 tables. This deletes those whose process is
no longer running on this machine; a test still running keeps everything of its own. Names
that do not carry a test's process id are never touched.

Used by scripts/start-test-servers; a server that does not answer is skipped with a warning.
"""

import argparse
import os
import re
import subprocess
import sys

# Names of what tests make, each with the test process's id as its group 1.
POSTGRES_DATABASES = [
    re.compile(r"^payments_e2e_\w+?_(\d+)$"),  # tests/tests/e2e/common/servers.rs
    re.compile(r"^payments_suite_(\d+)_\d+$"),  # the store suite
    re.compile(r"^payments_json_doc_(\d+)$"),
]
MONGODB_DATABASES = [
    re.compile(r"^payments_e2e_\w+?_(\d+)$"),
    re.compile(r"^payments_suite_(\d+)_\d+$"),
]
HBASE_TABLES = [
    re.compile(r"^e2e_\w+?_(\d+)(?:_by_id)?$"),
    re.compile(r"^t_\w+?_(\d+)_\d+_\d+(?:_by_id)?$"),  # services/store/src/hbase/tests.rs
]
KAFKA_TOPICS = [re.compile(r"^e2e-[\w-]+?-(\d+)-\d+\.payments(?:\.dlq)?$")]
REDIS_KEYS = [re.compile(r"^e2e:[^:]+:(\d+):")]


def running(pid):
    """Whether a process with this id runs on this machine."""
    return os.path.exists(f"/proc/{pid}")


def left(names, patterns):
    """The names that a pattern matches and whose process has ended."""
    found = []
    for name in names:
        for pattern in patterns:
            match = pattern.match(name)
            if match and not running(match.group(1)):
                found.append(name)
                break
    return found


def postgres(dry_run):
    def psql(sql):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres",
                              "-AtXc", sql], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return out.stdout.split()

    doomed = left(psql("SELECT datname FROM pg_database"), POSTGRES_DATABASES)
    for name in [] if dry_run else doomed:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"{len(doomed)} PostgreSQL database(s)"


def mongodb(dry_run):
    import pymongo
    client = pymongo.MongoClient("mongodb://127.0.0.1:27017", serverSelectionTimeoutMS=5000)
    try:
        doomed = left(client.list_database_names(), MONGODB_DATABASES)
        for name in [] if dry_run else doomed:
            client.drop_database(name)
    finally:
        client.close()
    return f"{len(doomed)} MongoDB database(s)"


def hbase(dry_run):
    import happybase
    connection = happybase.Connection("127.0.0.1", 9090, timeout=60000)
    try:
        doomed = left([t.decode() for t in connection.tables()], HBASE_TABLES)
        for name in [] if dry_run else doomed:
            connection.delete_table(name, disable=True)
    finally:
        connection.close()
    return f"{len(doomed)} HBase table(s)"


def kafka(dry_run):
    from kafka import KafkaAdminClient  # kafka-python
    admin = KafkaAdminClient(bootstrap_servers="127.0.0.1:9092", request_timeout_ms=30000)
    try:
        doomed = left(admin.list_topics(), KAFKA_TOPICS)
        # A request of a few hundred names at a time keeps each answer well inside the timeout.
        for start in range(0, 0 if dry_run else len(doomed), 200):
            admin.delete_topics(doomed[start:start + 200])
    finally:
        admin.close()
    return f"{len(doomed)} Kafka topic(s)"


def redis(dry_run):
    scan = subprocess.run(["redis-cli", "-h", "127.0.0.1", "--scan", "--pattern", "e2e:*"],
                          capture_output=True, text=True, timeout=120)
    if scan.returncode != 0:
        raise RuntimeError(scan.stderr.strip())
    doomed = left(scan.stdout.split(), REDIS_KEYS)
    if doomed and not dry_run:
        # One UNLINK per key, in Redis's own protocol, through redis-cli --pipe.
        commands = "".join(
            f"*2\r\n$6\r\nUNLINK\r\n${len(key.encode())}\r\n{key}\r\n" for key in doomed)
        piped = subprocess.run(["redis-cli", "-h", "127.0.0.1", "--pipe"], input=commands,
                               capture_output=True, text=True, timeout=120)
        if piped.returncode != 0:
            raise RuntimeError(piped.stderr.strip() or piped.stdout.strip())
    return f"{len(doomed)} Redis key(s)"


SERVERS = [("PostgreSQL", postgres), ("MongoDB (FerretDB)", mongodb), ("HBase", hbase),
           ("Kafka", kafka), ("Redis", redis)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would be deleted, and delete nothing")
    args = parser.parse_args()
    swept = []
    for server, sweep in SERVERS:
        try:
            swept.append(sweep(args.dry_run))
        except Exception as error:  # a server away is no reason to stop the others
            print(f"warning: not swept {server}: {error}", file=sys.stderr)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"left by ended test runs, {verb}: {', '.join(swept) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
