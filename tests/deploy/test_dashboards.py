"""The Grafana dashboards in deploy/grafana/ use only what the services really export.

Static checks (always): every dashboard parses, has a unique uid, and every panel and target
names a datasource that deploy/grafana/provisioning provisions; every metric a PromQL
expression (or a template variable's query) references is one the Rust sources register.

Live checks (a real pipeline): an Apache Kafka broker of its own (scripts/run-test-server
kafka, on free ports) and payments-ingest,
payments-processor, payments-generator and payments-query as separate processes on free
ports, joined over `kafka://…?partitions=3`; a traffic run through ingest, the seed fixture
(89 of its 90 payments are rejected), a query and a lookup that fails (NotFound), then every
service's /metrics is scraped. Against that scrape: every metric a dashboard uses is exported,
every `label="value"` matcher selects an exported series and every label a query groups by
exists. With `prometheus` on PATH (Debian's package), a Prometheus server scrapes the same
pipeline and every expression is evaluated: it must parse and return data. With PostgreSQL on
127.0.0.1:5432 (the processor then also writes a fresh database through PAYMENTS_SINKS, as the
compose file does), every SQL panel runs against the processor's table and returns rows.

Missing tools (Kafka, the debug binaries, prometheus, PostgreSQL) skip the live checks with
the reason, except with CI=true, where they fail.

Run: python3 -m pytest tests/deploy -q
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from binaries import binary_dir
from ports import free_port

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "datasources.yaml"
SERVICES = ("payments-generator", "payments-ingest", "payments-processor", "payments-query")
SEED_FIXTURE = REPO / "tests" / "fixtures" / "seed-transactions.json"
RUN_COUNT = 600
CI = os.environ.get("CI", "").lower() == "true"

# Stand-ins for Grafana's variables when an expression is evaluated outside Grafana.
GRAFANA_VARS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "10m",
}

PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes",
    "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "group",
    "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
    "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta",
    "increase", "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
    "max", "max_over_time", "min", "min_over_time", "minute", "month", "predict_linear",
    "present_over_time", "quantile", "quantile_over_time", "rate", "resets", "round",
    "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev", "stddev_over_time", "stdvar",
    "stdvar_over_time", "sum", "sum_over_time", "time", "timestamp", "topk", "vector", "year",
    # Grafana's template-variable query functions.
    "label_values", "label_names", "metrics", "query_result",
}
PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan", "Inf", "NaN", "atan2",
}
# Labels Prometheus adds at scrape time (or from the scrape config), not the services.
SCRAPE_LABELS = {"instance", "job", "service", "le"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


# ------------------------------------------------------------------------------------------
# Dashboards: walking panels, targets and expressions
# ------------------------------------------------------------------------------------------


def load_dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS}


def panels(dashboard: dict):
    """Every panel, rows' nested panels included (rows themselves excluded)."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def datasource_of(panel: dict, target: dict) -> dict:
    return target.get("datasource") or panel.get("datasource") or {}


def provisioned_datasources() -> dict[str, dict]:
    config = yaml.safe_load(DATASOURCES.read_text())
    return {ds["uid"]: ds for ds in config["datasources"]}


def prom_type(ds_type: str) -> bool:
    return ds_type == "prometheus"


def typed_targets():
    """(dashboard, panel, target, datasource type) for every panel target of every dashboard."""
    datasources = provisioned_datasources()
    for name, dashboard in load_dashboards().items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                ds = datasource_of(panel, target)
                yield name, panel, target, ds.get("type") or datasources.get(ds.get("uid"), {}).get("type")


def promql_expressions() -> list[tuple[str, str, str]]:
    """(dashboard, where, expression) for every PromQL target and Prometheus variable."""
    out = []
    for name, panel, target, ds_type in typed_targets():
        if prom_type(ds_type) and target.get("expr"):
            out.append((name, f"panel {panel['title']!r} target {target['refId']}", target["expr"]))
    for name, dashboard in load_dashboards().items():
        for var in dashboard.get("templating", {}).get("list", []):
            if var.get("type") == "query" and prom_type(var.get("datasource", {}).get("type", "")):
                query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
                out.append((name, f"variable ${var['name']}", query))
    return out


def sql_targets() -> list[tuple[str, str, str]]:
    out = []
    for name, panel, target, ds_type in typed_targets():
        if ds_type in ("grafana-postgresql-datasource", "postgres"):
            out.append((name, panel["title"], target["rawSql"]))
    return out


def jaeger_targets() -> list[tuple[str, str, dict]]:
    out = []
    for name, dashboard in load_dashboards().items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if datasource_of(panel, target).get("type") == "jaeger":
                    out.append((name, panel["title"], target))
    return out


def _strip_noise(expr: str) -> str:
    s = re.sub(r"\$\{[^}]*\}|\$\w+", " ", expr)  # Grafana variables
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', s)  # string literals
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # range and subquery selectors
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+\S+", " ", s)
    s = re.sub(r"(?<![\w:.])\d+(\.\d+)?([eE][-+]?\d+)?", " ", s)  # numbers, 1e-9 included
    return s


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects (functions, keywords and label names left out)."""
    s = _strip_noise(expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        token = match.group(0)
        following = s[match.end():].lstrip()
        if token in PROMQL_KEYWORDS or (token in PROMQL_FUNCTIONS and following.startswith("(")):
            continue
        names.add(token)
    # label_values(metric, label): the second argument is a label, not a metric.
    for m in re.finditer(r"label_values\s*\(\s*(?:[A-Za-z_:][\w:]*\s*(?:\{[^}]*\})?\s*,)?\s*(\w+)\s*\)", expr):
        names.discard(m.group(1))
    return names


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(metric, [(label, op, value)]) for every `metric{…}` selector."""
    out = []
    for m in re.finditer(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}", expr):
        matchers = re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', m.group(2))
        out.append((m.group(1), matchers))
    return out


def grouping_labels(expr: str) -> set[str]:
    labels = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        labels.update(x.strip() for x in m.group(1).split(",") if x.strip())
    for m in re.finditer(r'\{\{\s*(\w+)\s*\}\}', expr):
        labels.add(m.group(1))
    return labels


def base_name(name: str, histograms: set[str]) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return name[: -len(suffix)]
    return name


def declared_names() -> dict[str, str]:
    """The series names declared once in `payments_core::metric_names`: constant → name."""
    text = (REPO / "services/core/src/metric_names.rs").read_text()
    return dict(re.findall(r'pub const ([A-Z0-9_]+): &str = "([a-z_:][a-z0-9_:]*)";', text))


def registered(macros: str) -> set[str]:
    """Metric names registered through the `metrics` macros `macros` (a regex alternation)
    in services/ (not tests): given as a literal or as a `names::CONSTANT`."""
    declared = declared_names()
    names = set()
    for path in (REPO / "services").rglob("*.rs"):
        text = path.read_text()
        # Unit tests at the bottom of a file register throwaway metrics (test_*).
        text = text.split("#[cfg(test)]")[0]
        names.update(re.findall(rf'(?:{macros})!\(\s*"([a-z_:][a-z0-9_:]*)"', text))
        for constant in re.findall(rf'(?:{macros})!\(\s*names::([A-Z0-9_]+)', text):
            names.add(declared[constant])
    return names


def source_histograms() -> set[str]:
    """Histogram names registered in the Rust sources."""
    return registered("histogram")


def source_metrics() -> set[str]:
    """Every metric name registered through the `metrics` macros in services/ (not tests)."""
    return registered("counter|gauge|histogram")


# ------------------------------------------------------------------------------------------
# Static checks
# ------------------------------------------------------------------------------------------


def test_dashboards_exist_and_parse():
    assert DASHBOARDS, "no dashboard JSON under deploy/grafana/dashboards"
    uids = {}
    for name, dashboard in load_dashboards().items():
        assert dashboard.get("uid") and dashboard.get("title"), name
        assert dashboard["uid"] not in uids, f"{name} and {uids.get(dashboard['uid'])} share uid {dashboard['uid']}"
        uids[dashboard["uid"]] = name
        ids = [p["id"] for p in dashboard["panels"]] + [p["id"] for r in dashboard["panels"] for p in r.get("panels", [])]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        for panel in panels(dashboard):
            assert panel.get("title") and panel.get("gridPos"), f"{name}: panel {panel.get('id')}"
            assert panel.get("targets"), f"{name}: panel {panel['title']!r} queries nothing"


def test_provisioning_parses_and_points_at_the_dashboards():
    datasources = provisioned_datasources()
    assert {ds["type"] for ds in datasources.values()} >= {"prometheus", "jaeger"}
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml").read_text())
    paths = [p["options"]["path"] for p in providers["providers"]]
    # deploy/compose.yaml mounts deploy/grafana/dashboards at the provider's path.
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["grafana"]["volumes"] if v.startswith("./")}
    for path in paths:
        assert mounts.get(path) == "./grafana/dashboards", f"provider path {path} is not the mounted dashboards folder"
    assert mounts.get("/etc/grafana/provisioning") == "./grafana/provisioning"


def test_every_panel_uses_a_provisioned_datasource():
    datasources = provisioned_datasources()
    for name, dashboard in load_dashboards().items():
        for panel in panels(dashboard):
            for target in panel["targets"]:
                ds = datasource_of(panel, target)
                assert ds.get("uid") in datasources, f"{name}: {panel['title']!r} uses datasource {ds}"
                assert ds.get("type") == datasources[ds["uid"]]["type"], f"{name}: {panel['title']!r}: type of {ds}"
        for var in dashboard.get("templating", {}).get("list", []):
            if "datasource" in var:
                assert var["datasource"]["uid"] in datasources, f"{name}: variable {var['name']}"


def test_expression_parser_finds_metric_names():
    expr = (
        'histogram_quantile(0.99, sum by (le, system) (rate(payments_store_operation_seconds_bucket'
        '{operation="upsert", system=~"$sys"}[$__rate_interval]))) / clamp_min(sum(rate('
        "payments_processor_consumed_total[5m])), 1e-9) + on(instance) group_left payments_consumer_lag offset 5m"
    )
    assert metric_names(expr) == {
        "payments_store_operation_seconds_bucket",
        "payments_processor_consumed_total",
        "payments_consumer_lag",
    }
    assert metric_names("label_values(grpc_server_handled_total, grpc_service)") == {"grpc_server_handled_total"}
    assert grouping_labels(expr) == {"le", "system", "instance"}


def test_dashboards_use_only_metrics_the_sources_register():
    registered = source_metrics()
    histograms = source_histograms()
    assert {"payments_processor_stored_total", "grpc_server_handled_total"} <= registered
    unknown = []
    for name, where, expr in promql_expressions():
        for metric in metric_names(expr):
            if base_name(metric, histograms) not in registered:
                unknown.append(f"{name}: {where}: {metric}")
    assert not unknown, "metrics no service registers:\n" + "\n".join(unknown)


def test_dashboards_cover_the_pipeline():
    """The panels the pipeline dashboard promises: each stage, latency, lag, sinks, gRPC."""
    histograms = source_histograms()
    used = {base_name(m, histograms) for _, _, e in promql_expressions() for m in metric_names(e)}
    for metric in (
        "payments_generator_generated_total",
        "payments_ingest_accepted_total",
        "payments_ingest_rejected_total",
        "payments_ingest_produced_total",
        "payments_processor_consumed_total",
        "payments_processor_stored_total",
        "payments_processor_dead_lettered_total",
        "payments_store_written_total",
        "payments_consumer_lag",
        "payments_store_operation_seconds",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds",
    ):
        assert metric in used, f"no dashboard panel shows {metric}"
    assert sql_targets(), "no per-type mix panel"
    assert jaeger_targets(), "no traces panel"


def test_sql_panels_use_columns_of_the_postgres_table():
    migration = (REPO / "services" / "store" / "migrations" / "postgres" / "0001_payments.sql").read_text()
    table = migration.split("CREATE TABLE IF NOT EXISTS payments (")[1].split(");")[0]
    columns = set(re.findall(r"^\s+(\w+)\s+[A-Z]", table, re.M))
    assert {"payment_type", "status", "stored_at"} <= columns
    for name, title, sql in sql_targets():
        assert re.search(r"\bFROM payments\b", sql), f"{name}: {title!r}"
        stripped = re.sub(r"'[^']*'|\"[^\"]*\"", " ", sql)
        for column in re.findall(r"\b(payment_type|status|stored_at|created_at|currency|amount_minor|\w+_id)\b", stripped):
            assert column in columns, f"{name}: {title!r}: no column {column} in the payments table"


# ------------------------------------------------------------------------------------------
# The live pipeline
# ------------------------------------------------------------------------------------------


def missing(reason: str):
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing tool fails the run)")
    pytest.skip(reason)


def bin_dir() -> Path:
    return binary_dir()


def kafka_installed() -> bool:
    home = Path(os.environ.get("PAYMENTS_SERVERS_HOME", Path.home() / ".cache" / "payments-servers"))
    return (home / "kafka" / "libs" / ".installed").exists()


def kafka_answers(port: int) -> bool:
    from kafka import KafkaAdminClient  # kafka-python, installed by scripts/install-test-tools
    try:
        KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000).close()
        return True
    except Exception:  # not up yet
        return False


def wait_for(what: str, check, timeout: float, logs: list[Path] = ()):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = e
        time.sleep(0.25)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what} (last error: {last})\n{tails}")


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def parse_exposition(text: str) -> tuple[dict[str, list[dict]], set[str]]:
    """Prometheus text format -> ({series name: [labels]}, histogram names)."""
    series: dict[str, list[dict]] = {}
    histograms = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            if kind.strip() == "histogram":
                histograms.add(name)
            continue
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][\w:]*)(\{(.*)\})?\s", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            series.setdefault(m.group(1), []).append(labels)
    return series, histograms


def postgres_available() -> bool:
    if not shutil.which("psql") or not port_open(5432):
        return False
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc", "select 1"],
        capture_output=True, timeout=10,
    ).returncode == 0


def psql(db: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, f"psql failed: {done.stderr}\n{sql}"
    return done.stdout


class Pipeline:
    """The four services, a broker and (optionally) Prometheus, as child processes."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.logs: list[Path] = []
        self.http: dict[str, int] = {}
        self.grpc: dict[str, int] = {}
        self.prometheus_port: int | None = None
        self.pg_db: str | None = None

    def spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        self.logs.append(log)
        proc = subprocess.Popen(
            argv,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def stop(self):
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self.pg_db:
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c",
                 f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)'],
                capture_output=True, timeout=30,
            )

    def scrape(self) -> dict[str, str]:
        out = {}
        for service, port in self.http.items():
            status, body = http_get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200, f"{service} /metrics answered {status}"
            out[service] = body
        return out

    def processor_done(self) -> float:
        series = {}
        _, body = http_get(f"http://127.0.0.1:{self.http['payments-processor']}/metrics")
        for line in body.splitlines():
            m = re.match(r"(payments_processor_(?:stored|unchanged|dead_lettered)_total) (\S+)", line)
            if m:
                series[m.group(1)] = float(m.group(2))
        return sum(series.values())


@pytest.fixture(scope="module")
def pipeline():
    binaries = {name: bin_dir() / name for name in (*SERVICES, "paymentsctl")}
    absent = [str(p) for p in binaries.values() if not p.exists()]
    if absent:
        missing(f"the debug binaries are not built yet: {', '.join(absent)} (cargo build)")
    if not kafka_installed():
        missing("Apache Kafka is not installed: scripts/install-test-tools")

    workdir = Path(tempfile.mkdtemp(prefix="payments-dashboards-"))
    p = Pipeline(workdir)
    try:
        kafka = free_port()
        p.spawn("kafka", [
            str(REPO / "scripts" / "run-test-server"), "kafka",
            "--port", str(kafka), "--controller-port", str(free_port()),
            "--dir", str(workdir / "kafka"),
        ])
        wait_for("kafka to answer", lambda: port_open(kafka) and kafka_answers(kafka), 90, p.logs)
        bus = f"kafka://127.0.0.1:{kafka}?partitions=3"

        sinks = [f"sqlite://{workdir}/p.db"]
        if postgres_available():
            p.pg_db = f"payments_dashboards_{os.getpid()}"
            psql("postgres", f'CREATE DATABASE "{p.pg_db}"')
            sinks.append(f"postgres://postgres@127.0.0.1:5432/{p.pg_db}")

        for service in SERVICES:
            p.grpc[service], p.http[service] = free_port(), free_port()
        env = {"RUST_LOG": "info", "LOG_FORMAT": "json"}
        common = lambda s: ["--grpc-addr", f"127.0.0.1:{p.grpc[s]}", "--http-addr", f"127.0.0.1:{p.http[s]}"]  # noqa: E731
        p.spawn("ingest", [str(binaries["payments-ingest"]), "--bus", bus, *common("payments-ingest")], env)
        # The sinks as deploy/compose.yaml gives them: comma-separated in PAYMENTS_SINKS.
        p.spawn("processor", [str(binaries["payments-processor"]), "--bus", bus, *common("payments-processor")],
                {**env, "PAYMENTS_SINKS": ",".join(sinks)})
        ingest_target = f"127.0.0.1:{p.grpc['payments-ingest']}"
        p.spawn("generator", [str(binaries["payments-generator"]), "--bus", bus, "--allow-ingest-target", ingest_target,
                              *common("payments-generator")], env)
        p.spawn("query", [str(binaries["payments-query"]), "--store", sinks[0], *common("payments-query")], env)
        for service, port in p.http.items():
            wait_for(f"{service} /readyz", lambda port=port: http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 90, p.logs)

        if shutil.which("prometheus"):
            p.prometheus_port = free_port()
            config = {
                "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
                "scrape_configs": [
                    {"job_name": s, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                    for s, port in p.http.items()
                ],
            }
            (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
            p.spawn("prometheus", [
                shutil.which("prometheus"),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{p.prometheus_port}",
            ])
            wait_for("prometheus ready", lambda: http_get(f"http://127.0.0.1:{p.prometheus_port}/-/ready")[0] == 200, 60, p.logs)
            # Two scrapes before the traffic, so that rates see it grow.
            time.sleep(2.5)

        ctl = str(binaries["paymentsctl"])

        def run(*argv, ok=(0,)):
            done = subprocess.run([ctl, *argv], capture_output=True, text=True, timeout=120, cwd=workdir)
            assert done.returncode in ok, f"paymentsctl {' '.join(argv)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
            return done

        ingest = f"127.0.0.1:{p.grpc['payments-ingest']}"
        run("run", "--server", f"127.0.0.1:{p.grpc['payments-generator']}", "--target", ingest,
            "--rate", "1000", "--count", str(RUN_COUNT), "--seed", "7")
        # The seed's fixture: 1 accepted, 89 rejected (ABA check digits) -> exit 1.
        run("submit", "--server", ingest, str(SEED_FIXTURE), ok=(1,))
        expected = RUN_COUNT + 1
        wait_for(f"{expected} payments processed", lambda: p.processor_done() >= expected, 120, p.logs)
        query = f"127.0.0.1:{p.grpc['payments-query']}"
        run("stats", "--server", query)
        run("list", "--server", query, "--type", "ach")
        run("get", "--server", query, "NO-SUCH-PAYMENT", ok=(1,))  # NotFound: a non-OK gRPC code
        if p.prometheus_port:
            time.sleep(3)  # a few more scrapes after the traffic
        yield p
    finally:
        p.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def exported(pipeline):
    series: dict[str, list[dict]] = {}
    histograms: set[str] = set()
    for body in pipeline.scrape().values():
        s, h = parse_exposition(body)
        for name, labels in s.items():
            series.setdefault(name, []).extend(labels)
        histograms |= h
    return series, histograms


def test_pipeline_exports_every_metric_the_dashboards_use(exported):
    series, histograms = exported
    names = {base_name(n, histograms) for n in series}
    absent = []
    for name, where, expr in promql_expressions():
        for metric in metric_names(expr):
            if base_name(metric, histograms) not in names:
                absent.append(f"{name}: {where}: {metric}")
    assert not absent, "metrics the running services do not export:\n" + "\n".join(absent) + \
        "\nexported: " + ", ".join(sorted(names))


def test_label_matchers_and_groupings_match_exported_series(exported):
    series, histograms = exported
    problems = []
    for name, where, expr in promql_expressions():
        metrics = metric_names(expr)
        known_labels = {label for m in metrics for labels in series.get(m, []) for label in labels}
        for label in grouping_labels(expr) - SCRAPE_LABELS:
            if label not in known_labels:
                problems.append(f"{name}: {where}: no exported series of {sorted(metrics)} has label {label!r}")
        for metric, matchers in selectors(expr):
            for label, op, value in matchers:
                if label in SCRAPE_LABELS or "$" in value:
                    continue
                values = {labels.get(label) for labels in series.get(metric, [])}
                if label not in {k for labels in series.get(metric, []) for k in labels}:
                    problems.append(f"{name}: {where}: {metric} has no label {label!r}")
                elif op == "=" and value not in values:
                    problems.append(f"{name}: {where}: no {metric}{{{label}={value!r}}}; exported: {sorted(v for v in values if v)}")
    assert not problems, "\n".join(problems)


def test_jaeger_panels_name_real_services_and_operations(exported, pipeline):
    series, _ = exported
    methods = {f"{s['grpc_service']}/{s['grpc_method']}" for s in series.get("grpc_server_handled_total", [])}
    help_text = subprocess.run([str(bin_dir() / "payments-processor"), "--help"], capture_output=True, text=True).stdout
    topic = re.search(r"--topic <TOPIC>.*?\[default: ([^\]]+)\]", help_text, re.S).group(1)
    # The processor names its batch span `process {topic}` (services/processor/src/batch_span.rs).
    assert 'otel.name = format!("process {topic}")' in (REPO / "services/processor/src/batch_span.rs").read_text()
    for name, title, target in jaeger_targets():
        # OTEL_SERVICE_NAME defaults to the binary's name; compose sets the same names.
        assert target["service"] in SERVICES, f"{name}: {title!r}: service {target['service']}"
        operation = target.get("operation")
        if operation:
            assert operation in methods or operation == f"process {topic}", f"{name}: {title!r}: operation {operation!r}"


def test_sql_panels_run_against_the_processors_table(pipeline):
    if not pipeline.pg_db:
        missing("PostgreSQL is not answering on 127.0.0.1:5432 (scripts/start-test-servers)")
    for name, title, sql in sql_targets():
        runnable = re.sub(
            r"\$__timeFilter\((\w+)\)",
            r"\1 BETWEEN now() - interval '1 hour' AND now() + interval '1 minute'",
            sql,
        )
        assert "$" not in runnable, f"{name}: {title!r}: a Grafana macro this test does not expand: {runnable}"
        rows = psql(pipeline.pg_db, runnable).strip().splitlines()
        assert rows, f"{name}: {title!r} returned no rows"


def expand_grafana_vars(expr: str) -> str:
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    # Multi-value template variables (All) become "match anything".
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def test_every_expression_evaluates_with_data_in_prometheus(pipeline):
    if not pipeline.prometheus_port:
        missing("prometheus is not installed (apt-get install -y prometheus)")
    empty, failed = [], []
    for name, where, expr in promql_expressions():
        if where.startswith("variable"):
            continue
        query = expand_grafana_vars(expr)
        url = f"http://127.0.0.1:{pipeline.prometheus_port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
        status, body = http_get(url)
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            failed.append(f"{name}: {where}: {answer.get('error', body)}\n  {query}")
        elif not answer["data"]["result"]:
            empty.append(f"{name}: {where}: {query}")
    assert not failed, "expressions Prometheus refused:\n" + "\n".join(failed)
    assert not empty, "expressions with no data after a pipeline run:\n" + "\n".join(empty)
