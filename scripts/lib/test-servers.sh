# shellcheck shell=bash
# Sourced by install-test-tools, run-test-server, start-test-servers and stop-test-servers:
# where the test servers' downloads, builds and data live, and the JVM flags they run with.
#
# Everything is kept under one folder, $PAYMENTS_SERVERS_HOME (default
# ~/.cache/payments-servers):
#   maven-repo/           Maven's local repository (Kafka's and HBase's jars as downloaded)
#   kafka/libs/           Apache Kafka's broker and tools, one folder of jars
#   hbase/libs/           Apache HBase (standalone master, region server, ZooKeeper) and Thrift
#   go/                   Go's module and build caches (FerretDB's sources)
#   ferretdb/bin/         the FerretDB server
#   parsers/bin/          independent readers of our bank files (nacha-check: moov-io/ach)
#   state/                the shared servers' data, logs and pid files (start-test-servers)

PAYMENTS_SERVERS_HOME="${PAYMENTS_SERVERS_HOME:-$HOME/.cache/payments-servers}"
SERVERS_RECIPES="$(cd "$(dirname "${BASH_SOURCE[0]}")/../servers" && pwd)"
KAFKA_LIBS="$PAYMENTS_SERVERS_HOME/kafka/libs"
HBASE_LIBS="$PAYMENTS_SERVERS_HOME/hbase/libs"
FERRETDB_BIN="$PAYMENTS_SERVERS_HOME/ferretdb/bin/ferretdb"
NACHA_CHECK_BIN="$PAYMENTS_SERVERS_HOME/parsers/bin/nacha-check"
PARSERS_SOURCES="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/parsers" && pwd)"
SERVERS_STATE="$PAYMENTS_SERVERS_HOME/state"

# Heaps kept modest: the tests run beside a Rust build on 2 cores.
KAFKA_HEAP="${PAYMENTS_KAFKA_HEAP:--Xms128m -Xmx512m}"
HBASE_HEAP="${PAYMENTS_HBASE_HEAP:--Xms128m -Xmx768m}"
HBASE_THRIFT_HEAP="${PAYMENTS_HBASE_THRIFT_HEAP:--Xms64m -Xmx256m}"

# What HBase's own bin/hbase adds on Java 11 and later: HBase and its shaded Netty reach
# into JDK internals.
HBASE_JAVA_OPTS=(
  -Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true
  --add-modules jdk.unsupported
  --add-opens java.base/java.nio=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-exports java.base/sun.net.dns=ALL-UNNAMED
  --add-exports java.base/sun.net.util=ALL-UNNAMED
)

# The version of the jar whose name starts with $2 in folder $1 (e.g. kafka-clients- → 4.1.1).
jar_version() {
  local jar
  jar=$(find "$1" -maxdepth 1 -name "$2*.jar" | head -n 1)
  jar=${jar##*/"$2"}
  printf '%s\n' "${jar%.jar}"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
