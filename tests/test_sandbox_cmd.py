"""`bridge sandbox` as a person runs it: a real process on a free port, its printed config and
key used by `bridge check` and `bridge sync`, then Ctrl-C (SIGINT) or SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bridge.cli import cli
from bridge.store import Store


def start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """The process, and what it printed up to its ready line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "sandbox", "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DISCOURSE_API_KEY": ""},
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Prêt sur "):
            return process, lines
    process.kill()
    raise AssertionError(
        f"no ready line: {lines} {process.stderr.read() if process.stderr else ''}"
    )


def stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=10)
    return process.returncode, out, err


@pytest.fixture
def cleanup() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def run(args: list[str], key: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env={"DISCOURSE_API_KEY": key})
    return result.exit_code, result.stdout, result.stderr


def test_the_printed_config_and_key_work_then_ctrl_c_stops_it(
    tmp_path: Path, cleanup: list[subprocess.Popen[str]]
) -> None:
    process, lines = start([], tmp_path)
    cleanup.append(process)
    url = lines[0].split(" sur ")[1].split(" ")[0]
    config_text = "\n".join(lines[lines.index("# --- début ---") : lines.index("# --- fin ---")])
    assert "key" not in yaml.safe_load(config_text)["discourse"]
    assert yaml.safe_load(config_text)["discourse"]["url"] == url
    config = tmp_path / "bac-a-sable.yaml"
    config.write_text(config_text, encoding="utf-8")
    export = [line.strip() for line in lines if line.strip().startswith("export ")]
    assert export == ["export DISCOURSE_API_KEY=sandbox-staff-key"]
    key = export[0].split("=", 1)[1]

    code, out, err = run(["--config", str(config), "check"], key)
    assert code == 0, out + err
    assert f"voit la catégorie « Impact et innovation sociale en Estrie » sur {url}" in out
    code, out, err = run(["--config", str(config), "sync"], key)
    assert code == 0, err
    assert out.startswith("Synchronisation : 23 sujet(s) mis à jour")
    store = Store.open(tmp_path / "bac-a-sable.db", url, "innovation-sociale-estrie")
    assert store.counts().topics == 23
    store.close()

    code, out, err = stop(process, signal.SIGINT)
    assert code == 0, err
    assert out == "Bac à sable arrêté.\n"
    assert err == ""


def test_sigterm_stops_it_cleanly_and_config_out_writes_the_file(
    tmp_path: Path, cleanup: list[subprocess.Popen[str]]
) -> None:
    config = tmp_path / "essai" / "config.yaml"
    process, lines = start(["--config-out", str(config), "--world", "large"], tmp_path)
    cleanup.append(process)
    assert f"Configuration écrite : {config}" in lines
    written = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert written["store"]["path"] == "bac-a-sable.db"
    assert written["paths"]["jobs"] == "annonces-bac-a-sable"
    assert (config.parent / "annonces-bac-a-sable").is_dir()
    code, out, err = run(["--config", str(config), "check"], "sandbox-staff-key")
    assert code == 0, out + err
    code, out, err = stop(process, signal.SIGTERM)
    assert code == 0, err
    assert out == "Bac à sable arrêté.\n"


def test_a_busy_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["sandbox", "--port", str(port), "--config-out", str(tmp_path / "c.yaml")]
        )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Erreur : le port {port} n'est pas libre")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.yaml").exists()


def test_config_out_never_replaces_a_config_a_person_wrote(tmp_path: Path) -> None:
    mine = tmp_path / "config.yaml"
    mine.write_text("discourse:\n  url: https://passerelles.encommun.io\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sandbox", "--port", "0", "--config-out", str(mine)])
    assert result.exit_code == 2
    assert "n'a pas été écrit par la passerelle" in result.stderr
    assert mine.read_text(encoding="utf-8").startswith("discourse:")
