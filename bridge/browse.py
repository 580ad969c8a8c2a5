"""`bridge browse`: the store in Datasette, with French titles and descriptions."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bridge.errors import UsageError
from bridge.store import HIDDEN_TABLES, TABLE_TITLES


def metadata(db_name: str) -> dict[str, Any]:
    return {
        "title": "Miroir de la CdP 2isE",
        "databases": {
            db_name: {
                "tables": {
                    **{
                        name: {"title": title, "description": description}
                        for name, (title, description) in TABLE_TITLES.items()
                    },
                    **{name: {"hidden": True} for name in HIDDEN_TABLES},
                }
            }
        },
    }


def datasette_command(store_path: Path, metadata_path: Path, port: int) -> list[str]:
    """Datasette from this interpreter's environment, whether or not its folder is on PATH."""
    if importlib.util.find_spec("datasette") is None:
        raise UsageError(
            "Datasette n'est pas installé : pip install -e '.[browse]' (extra facultatif)"
        )
    return [
        sys.executable,
        "-m",
        "datasette",
        str(store_path),
        "--metadata",
        str(metadata_path),
        "--port",
        str(port),
        "--open",
    ]


def run_datasette(store_path: Path, *, port: int) -> int:
    """Serve the store until interrupted; return Datasette's exit code."""
    if not store_path.exists():
        raise UsageError(f"{store_path} : pas encore de base locale (lancez d'abord bridge sync)")
    with tempfile.TemporaryDirectory(prefix="bridge-browse-") as folder:
        meta = Path(folder) / "metadata.json"
        meta.write_text(json.dumps(metadata(store_path.stem), ensure_ascii=False), "utf-8")
        command = datasette_command(store_path, meta, port)
        return _serve(command)


def _serve(command: list[str]) -> int:
    """Run Datasette until it stops; stopping the bridge (Ctrl-C, or SIGTERM from a service
    manager or `kill`) stops it too, rather than leaving it serving the store alone."""
    process = subprocess.Popen(command)
    stopped_by: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stopped_by.append(signum)
        process.terminate()

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            try:
                code = process.wait()
                break
            except KeyboardInterrupt:
                # Ctrl-C in a terminal reached Datasette too (same process group); `kill -INT`
                # reached the bridge only.
                stop(signal.SIGINT, None)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.kill()
            process.wait()
    # Stopped by a signal: the shell's convention, 128 + its number.
    if stopped_by:
        return 128 + stopped_by[0]
    return 128 - code if code < 0 else code
