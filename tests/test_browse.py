"""`bridge browse` as a service manager or `kill` stops it: Datasette stops with it. Run for
real, in a process of its own, with a stand-in `datasette` module (Datasette itself is an
optional extra, not installed for the tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Says where it is, then serves "forever" (until stopped).
FAKE_DATASETTE = """\
import os, sys, time
from pathlib import Path
metadata = sys.argv[sys.argv.index("--metadata") + 1]
Path(os.environ["FAKE_DATASETTE_SAYS"]).write_text(f"{os.getpid()}\\n{metadata}")
time.sleep(300)
"""


def wait_for(condition, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Poll a real process's state (not a sleeping test: nothing here has a clock to inject)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"toujours pas : {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for good; only its parent has not read its status yet.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_browse_stops_datasette(tmp_path: Path, stop: signal.Signals) -> None:
    fake = tmp_path / "fake" / "datasette"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__main__.py").write_text(FAKE_DATASETTE, encoding="utf-8")
    (tmp_path / "bridge.db").write_bytes(b"")
    config = tmp_path / "config.yaml"
    config.write_text(
        "discourse:\n  url: http://127.0.0.1:9\n  api_username: animation-2ise\n"
        "community:\n  name: CdP 2isE\n  category: innovation-sociale-estrie\n"
        "  group: cdp-2ise\nstore:\n  path: bridge.db\n",
        encoding="utf-8",
    )
    says = tmp_path / "datasette.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(ROOT)]),
        "FAKE_DATASETTE_SAYS": str(says),
    }
    bridge = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--config", str(config), "browse"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: says.exists() and "\n" in says.read_text(), "Datasette démarré")
        pid_text, metadata = says.read_text().split("\n")
        pid = int(pid_text)
        assert alive(pid) and Path(metadata).exists()

        bridge.send_signal(stop)
        code = bridge.wait(timeout=20)

        wait_for(lambda: not alive(pid), "Datasette arrêté")
        assert code == 128 + stop
        assert not Path(metadata).exists()  # its temporary folder is cleaned up too
        assert b"Traceback" not in bridge.stderr.read()  # type: ignore[union-attr]
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait()
