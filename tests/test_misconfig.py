"""`bridge check` catches what the jobs would fail on, and a misconfiguration is one French line
and exit code 2 whichever command meets it: check, sync, digest, announce (the real CLI against
the sandbox)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sandboxcli import write_config as sandbox_config

from bridge.cli import cli
from bridge.sandbox import Sandbox, seed_world

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
JOB = """\
kind: webinaire
title: Webinaire sur la mesure d'impact social
start: 2099-05-15 12:00
publish: 2025-04-01 09:00
link: https://rencontre.example/webinaire
description: Une heure pour partager nos façons de mesurer l'impact de nos projets.
"""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=lambda: NOW) as sb:
        yield sb


def write_config(tmp_path: Path, url: str, **options: Any) -> Path:
    path = sandbox_config(tmp_path, url, facilitators="animation-2ise", **options)
    (tmp_path / "jobs" / "webinaire.yaml").write_text(JOB, encoding="utf-8")
    return path


def run(config: Path, *args: str, key: str) -> tuple[int, str, str]:
    # The clock of the CLI is the real one: the job's publication date is long past.
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"DISCOURSE_API_KEY": key}
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("Erreur : ")]


def same_line_everywhere(sandbox: Sandbox, config: Path, expected: str) -> None:
    """`check` says `expected` (and exits 2); each job says the same line, exits 2, posts
    nothing."""
    code, _, err = run(config, "check", key=sandbox.api_key)
    assert code == 2
    assert error_lines(err) == [f"Erreur : {expected}"]
    for command in ("sync", "digest", "announce"):
        code, _, err = run(config, command, key=sandbox.api_key)
        assert (command, code) == (command, 2), err
        assert error_lines(err) == [f"Erreur : {expected}"], command
    assert not [m for m, _ in sandbox.requests if m != "GET"]


def test_a_missing_category_is_the_same_line_and_exit_2_everywhere(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url, category="innovation-sociale")
    same_line_everywhere(
        sandbox,
        config,
        f"{config}, community.category : la catégorie « innovation-sociale » est introuvable "
        f"sur {sandbox.url} (ou le compte « animation-2ise » ne peut pas la voir) : indiquez "
        "son id, ou son chemin « parent/enfant » pour une sous-catégorie",
    )


@pytest.mark.parametrize("key", ["toolbox", "cartography", "welcome", "announcements"])
def test_a_missing_subcategory_is_the_same_line_and_exit_2_everywhere(
    tmp_path: Path, sandbox: Sandbox, key: str
) -> None:
    config = write_config(tmp_path, sandbox.url, community=f"  subcategories:\n    {key}: outils\n")
    same_line_everywhere(
        sandbox,
        config,
        f"{config}, community.subcategories.{key} : la sous-catégorie « outils » n'est pas "
        f"dans la catégorie « innovation-sociale-estrie » sur {sandbox.url} (ou le compte "
        "« animation-2ise » ne peut pas la voir) : indiquez le slug ou l'id d'une de ses "
        "sous-catégories",
    )


def test_a_default_subcategory_the_category_lacks_is_a_warning_only(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # A community may have no toolbox: only a subcategory written in config.yaml must exist.
    config = write_config(tmp_path, sandbox.url, category="general")
    code, _, err = run(config, "check", key=sandbox.api_key)
    assert code == 0, err
    assert (
        f"Avertissement : {config}, community.subcategories.toolbox n'est pas donné et il n'y a "
        "pas de sous-catégorie « boite-a-outils » (la valeur par défaut) dans la catégorie "
        f"« general » sur {sandbox.url} : indiquez le slug ou l'id de la bonne, si elle existe"
    ) in err.splitlines()
    code, _, err = run(config, "sync", key=sandbox.api_key)
    assert code == 0, err


def test_a_missing_group_is_the_same_line_and_exit_2_everywhere(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url, group="cdp-2is")
    expected = (
        f"{config}, community.group : le groupe « cdp-2is » est introuvable sur {sandbox.url} "
        "(ou le compte « animation-2ise » ne peut pas le voir)"
    )
    code, _, err = run(config, "check", key=sandbox.api_key)
    assert (code, error_lines(err)) == (2, [f"Erreur : {expected}"])
    code, _, err = run(config, "sync", key=sandbox.api_key)
    assert (code, error_lines(err)) == (2, [f"Erreur : {expected}"])
    # Digest and announce do not read the group: they refuse a mirror never synced (digest),
    # or publish (announce), as they would with a right group.


def test_a_group_whose_members_the_key_cannot_read_is_exit_2_in_check_and_sync(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url)
    # Every read but the group's members, which Discourse lists only in groups:manage_groups
    # (and global:read).
    scopes = ["categories:show", "categories:list", "topics:read_lists", "topics:read"]
    key = sandbox.scoped_key("animation-2ise", [*scopes, "users:show", "groups:administer_groups"])
    expected = (
        f"Erreur : {config}, community.group : le compte « animation-2ise » ne peut pas lire "
        f"les membres du groupe « cdp-2ise » sur {sandbox.url} (403) : le réglage « Qui peut "
        "voir les membres » du groupe le lui interdit, ou la clé n'a pas la portée global:read"
    )
    for command in ("check", "sync"):
        code, _, err = run(config, command, key=key)
        assert (code, expected in error_lines(err)) == (2, True), err


def test_an_unwritable_store_folder_is_the_same_line_and_exit_2_everywhere(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    (tmp_path / "data").write_text("un fichier, pas un dossier", encoding="utf-8")
    config = write_config(tmp_path, sandbox.url, store="data/bridge.db")
    same_line_everywhere(
        sandbox,
        config,
        f"{config}, store.path : la base locale {tmp_path / 'data' / 'bridge.db'} ne peut pas "
        f"être écrite dans {tmp_path / 'data'} (un élément du chemin n'est pas un dossier)",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_read_only_store_folder_is_found_by_check(tmp_path: Path, sandbox: Sandbox) -> None:
    folder = tmp_path / "lecture-seule"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        config = write_config(tmp_path, sandbox.url, store="lecture-seule/bridge.db")
        code, _, err = run(config, "check", key=sandbox.api_key)
        assert code == 2
        assert f"ne peut pas être écrite dans {folder} (permission refusée)" in err
    finally:
        folder.chmod(0o755)


def test_a_wrong_key_is_exit_2_in_check_sync_and_announce(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    for command in ("check", "sync", "announce"):
        code, _, err = run(config, command, key="pas-la-bonne-cle")
        assert code == 2, (command, err)
        (line,) = error_lines(err)
        assert "la clé d'API a été refusée" in line
    assert not [m for m, _ in sandbox.requests if m != "GET"]


def test_a_right_config_passes_check_and_sync(tmp_path: Path, sandbox: Sandbox) -> None:
    # The reads check adds (the group's first member) pass on a right configuration.
    config = write_config(tmp_path, sandbox.url)
    code, out, err = run(config, "check", key=sandbox.api_key)
    assert code == 0, err
    code, out, err = run(config, "sync", key=sandbox.api_key)
    assert code == 0, err
