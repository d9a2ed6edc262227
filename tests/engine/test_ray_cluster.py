"""`--engine ray` against a Ray cluster started apart from the build, as the
docs tell a user to reach one, and the one-line refusals when Ray cannot be
used (docs/benchmarks.md, "Workers and Ray").

The cluster is real: a head node and a second node, each a `ray start
--block` of this machine on free ports, with its temp folder under the
test's and token authentication on (Ray's default for a new cluster). They
are stopped through their own process groups, not `ray stop`, which ends
every Ray process of the user on the machine, other builds' included.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

import parallel_corpus
from conftest import free_port
from parallel_corpus.cli.commands import main
from synthetic import make_corpus

N = 40
# The cluster's Python imports the package under test, as an editable
# install on the same machine would give it.
PACKAGE_PARENT = str(Path(parallel_corpus.__file__).resolve().parents[1])


def parquet_files(build_dir: Path) -> dict[str, bytes]:
    files = {str(p.relative_to(build_dir)): p.read_bytes() for p in sorted((build_dir / "data").rglob("*.parquet"))}
    assert files, f"{build_dir}: no Parquet written"
    return files


def ray_command() -> str:
    command = Path(sys.executable).with_name("ray")
    if not command.exists():
        pytest.skip("the `ray` command is absent: pip install -c constraints.txt -e '.[distributed]'")
    return str(command)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "corpus"
    make_corpus(N, path, seed=11)
    return path


@pytest.fixture(scope="module")
def local_build(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("local") / "build"
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--out", str(out), "--annotations", str(out.parent / "none"), "-q"])
    assert result.exit_code == 0, result.output
    return parquet_files(out)


def _stop(nodes: list[subprocess.Popen]) -> None:
    """End each node's process group (raylet, GCS, workers), gently first."""
    for node in reversed(nodes):
        try:
            os.killpg(node.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for node in reversed(nodes):
        try:
            node.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait(timeout=30)


def _wait_for_cpus(ray: str, gcs: str, env: dict[str, str], cpus: int, nodes: list[subprocess.Popen], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for node in nodes:
            assert node.poll() is None, f"a Ray node exited with {node.returncode}: see its log under the test's temp folder"
        status = subprocess.run([ray, "status", f"--address={gcs}"], env=env, capture_output=True, text=True, timeout=60)
        if status.returncode == 0 and f"/{cpus}.0 CPU" in status.stdout:
            return
        time.sleep(1)
    pytest.fail(f"the Ray cluster at {gcs} did not show {cpus} CPUs within {timeout:.0f} s")


@dataclass
class Cluster:
    gcs: str  # HOST:PORT, for a driver on one of its nodes
    client: str  # ray://HOST:PORT, Ray Client's address
    env: dict[str, str]  # holds the cluster's token


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A head node and one more node on this machine, 1 CPU each: the
    addresses a user would be given, and the environment that holds the
    cluster's token."""
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install -c constraints.txt -e '.[distributed]'")
    ray = ray_command()
    root = tmp_path_factory.mktemp("ray")
    env = dict(
        os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32), RAY_USAGE_STATS_ENABLED="0",
        PYTHONPATH=os.pathsep.join([PACKAGE_PARENT, *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    gcs_port, client_port = free_port(), free_port()
    gcs = f"127.0.0.1:{gcs_port}"

    def node_options() -> list[str]:
        return [
            "--block", "--num-cpus=1", "--object-store-memory=200000000", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
            f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
        ]

    nodes: list[subprocess.Popen] = []
    try:
        for name, options in (
            ("head", ["--head", f"--port={gcs_port}", f"--ray-client-server-port={client_port}", "--include-dashboard=false", f"--temp-dir={root}"]),
            ("node", [f"--address={gcs}"]),
        ):
            with open(root.parent / f"{root.name}-{name}.log", "wb") as log:
                nodes.append(subprocess.Popen([ray, "start", *options, *node_options()], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            _wait_for_cpus(ray, gcs, env, len(nodes), nodes)
        yield Cluster(gcs, f"ray://127.0.0.1:{client_port}", env)
    finally:
        _stop(nodes)


def build_on(address: str, corpus: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    # In a subprocess, as a user runs it: a Ray driver inside pytest would
    # keep the connection's threads and signal handlers after the test.
    return subprocess.run(
        [sys.executable, "-m", "parallel_corpus", "build", "--corpus", str(corpus), "--out", str(out), "--annotations", str(out.parent / "none"),
         "--engine", "ray", "--ray-address", address, "--workers", "2", "-q"],
        env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gcs", "client"])
def test_a_cluster_started_apart_builds_the_same_bytes(kind: str, cluster: Cluster, corpus: Path, local_build: dict[str, bytes], tmp_path: Path) -> None:
    done = build_on(getattr(cluster, kind), corpus, tmp_path / "build", cluster.env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert parquet_files(tmp_path / "build") == local_build
    assert "Traceback" not in done.stderr


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gcs", "client"])
def test_a_cluster_without_its_token_is_one_line(kind: str, cluster: Cluster, corpus: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in cluster.env.items() if not k.startswith("RAY_AUTH")}
    done = build_on(getattr(cluster, kind), corpus, tmp_path / "build", env)
    assert done.returncode == 1
    # Ray's C++ core logs its own attempts (GCS address) before giving up;
    # what the build says is its last line, and no traceback.
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"error: cannot use the Ray cluster at {getattr(cluster, kind)}: ") and "RAY_AUTH_TOKEN" in last, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "build").exists()


# -- refusals in one line ---------------------------------------------------------------


def error_of(*args: str) -> str:
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exit_code == 1, result.output + repr(result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_address_nobody_answers_is_one_line_and_quick(scheme: str, corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    address = f"{scheme}127.0.0.1:{free_port()}"
    started = time.monotonic()
    line = error_of("--corpus", str(corpus), "--out", str(tmp_path / "out"), "--engine", "ray", "--ray-address", address)
    assert line.startswith(f"error: nothing answers at {address} ("), line
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()


def test_a_missing_extra_is_one_line(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)  # Ray without ray[client]
    pytest.importorskip("ray")
    line = error_of("--corpus", str(corpus), "--out", str(tmp_path / "out"), "--engine", "ray", "--ray-address", "ray://127.0.0.1:10001")
    assert "needs ray[client]" in line and "[distributed]" in line, line
    monkeypatch.setitem(sys.modules, "ray", None)  # no Ray at all
    line = error_of("--corpus", str(corpus), "--out", str(tmp_path / "out"), "--engine", "ray")
    assert line.startswith("error: --engine ray needs Ray: ") and "[distributed]" in line, line


def test_an_address_without_the_ray_engine_is_refused(corpus: Path, tmp_path: Path) -> None:
    assert error_of("--corpus", str(corpus), "--out", str(tmp_path / "out"), "--ray-address", "127.0.0.1:6379") == "error: --ray-address goes with --engine ray"
