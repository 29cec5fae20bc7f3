"""Classroom safety: upload cap, XSRF, no eval/exec, weights-only model loading, bind address, `make run`."""

import ast
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for d in ("app", "classroom", "lessons", "pages", "benchmarks") for p in (ROOT / d).rglob("*.py")] + [ROOT / "streamlit_app.py"]


def calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            yield node


def call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return f"{f.value.id}.{f.attr}"
    return ""


def test_config_caps_uploads_keeps_xsrf_and_sends_no_usage_stats():
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert 1 <= config["server"]["maxUploadSize"] <= 16  # phone photos are 3-12 MB
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"


def test_no_eval_or_exec_anywhere():
    offenders = [f"{p.relative_to(ROOT)}:{n.lineno}" for p in CODE for n in calls(p) if call_name(n) in {"eval", "exec"}]
    assert not offenders, offenders


def test_models_are_loaded_weights_only():
    loads = [(p, n) for p in CODE for n in calls(p) if call_name(n) == "torch.load"]
    for path, node in loads:
        kw = {k.arg: k.value for k in node.keywords}
        ok = isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True
        assert ok, f"{path.relative_to(ROOT)}:{node.lineno} calls torch.load without weights_only=True"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def healthy(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def serve(cmd: list[str], host: str, port: int, extra_env: dict) -> subprocess.Popen:
    env = {**os.environ, **extra_env, "STREAMLIT_SERVER_PORT": str(port), "STREAMLIT_SERVER_ADDRESS": host}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not healthy(host, port):
        time.sleep(0.5)
    return proc


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_server_binds_where_streamlit_server_address_says():
    host = "127.0.0.2"  # still loopback, but not 127.0.0.1
    port = free_port(host)
    proc = serve([sys.executable, "-m", "streamlit", "run", "streamlit_app.py"], host, port, {})
    try:
        assert healthy(host, port), "the server did not come up on STREAMLIT_SERVER_ADDRESS"
        assert not healthy("127.0.0.1", port), "the server also listens on 127.0.0.1"
    finally:
        stop(proc)


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".venv/.app").exists(), reason="make run's venv is not set up (run `make test`)")
def test_make_run_serves_on_the_port_given():
    port = free_port("127.0.0.1")
    proc = serve(["make", "--no-print-directory", "run"], "127.0.0.1", port, {})
    try:
        assert healthy("127.0.0.1", port), "`make run` did not serve on STREAMLIT_SERVER_PORT"
    finally:
        stop(proc)
