"""A newcomer's path: `bridge demo --keep DIR` leaves a config and a store that every printed
command works on; empty stores are explained; status says which clock its times are on."""

from __future__ import annotations

import csv
import io
import shlex
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.config import load_config
from bridge.demo import DEMO_SEARCH
from bridge.playground import DEMO_SITE
from bridge.store import LedgerState, RunStatus, Store
from bridge.words import time_label

CATEGORY = "innovation-sociale-estrie"
REAL_SITE = "https://passerelles.encommun.io"


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env={"DISCOURSE_API_KEY": ""}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def printed_commands(out: str) -> list[list[str]]:
    """The `bridge …` lines the demo prints, as arguments (what a person pastes)."""
    return [
        shlex.split(line.strip().split("    (")[0])[1:]
        for line in out.splitlines()
        if line.startswith("  bridge --config ")
    ]


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "à explorer"
    code, out, err = run(["--config", str(folder / "absent.yaml"), "demo", "--keep", str(folder)])
    assert code == 0, err
    return folder, out


def test_the_kept_config_names_the_store_and_the_site_its_rows_carry(kept: tuple[Path, str]):
    folder, out = kept
    config = load_config(folder / "config.yaml", env={})
    assert config.store_path == folder / "bridge.db"
    assert config.site == DEMO_SITE
    assert config.discourse.api_key is None
    assert "sandbox-staff-key" not in (folder / "config.yaml").read_text(encoding="utf-8")
    assert Store.file_scopes(folder / "bridge.db") == [(DEMO_SITE, CATEGORY)]
    assert f"Base locale : {folder / 'bridge.db'}, et sa configuration" in out


def test_every_printed_command_works_on_the_kept_demo(kept: tuple[Path, str]) -> None:
    folder, out = kept
    commands = printed_commands(out)
    assert [c[2] for c in commands] == ["search", "export", "status", "browse"]
    for args in commands[:3]:
        code, stdout, stderr = run(args)
        assert code == 0, stderr
        assert "ne contient encore rien" not in stderr
    code, stdout, _ = run(commands[0])
    assert stdout.startswith("[")
    assert f"{DEMO_SITE}/t/" in stdout
    rows = list(
        csv.reader(io.StringIO((folder / "cartographie.csv").read_text("utf-8-sig")), delimiter=";")
    )
    assert len(rows) == 1 + 8
    # browse opens the store the config names (Datasette itself is an optional extra).
    assert commands[3][:2] == ["--config", str(folder / "config.yaml")]


def test_the_readme_search_examples_find_something_in_the_demo(kept: tuple[Path, str]) -> None:
    folder, _ = kept
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    examples = [
        shlex.split(line[2:])[2:]
        for line in readme.splitlines()
        if line.startswith("$ bridge search ")
    ]
    assert ["search", DEMO_SEARCH] in [["search", *e] for e in examples]
    for words in examples:
        code, out, err = run(["--config", str(folder / "config.yaml"), "search", *words])
        assert code == 0, err
        assert out.startswith("["), f"bridge search {' '.join(words)} : {out}"


def test_the_kept_store_holds_no_time_that_has_not_come(kept: tuple[Path, str]) -> None:
    folder, out = kept
    now = datetime.now(UTC)
    store = Store.open(folder / "bridge.db", DEMO_SITE, CATEGORY)
    try:
        runs = store.last_runs()
        assert {r.job for r in runs} == {"sync", "announce", "digest", "welcome"}
        assert all(r.started_at <= now and r.status is RunStatus.OK for r in runs)
        keys = [e.key for e in store.ledger_entries(LedgerState.DONE)]
    finally:
        store.close()
    # The reminder went out on the simulated eve, in a private copy: here it is still ahead.
    assert "avec 1 rappel(s)" in out
    assert not [k for k in keys if "rappel" in k]
    code, dry, _ = run(["--config", str(folder / "config.yaml"), "announce", "--dry-run"])
    assert code == 0
    assert ": rappel 1 jour avant, en réponse dans le sujet" in dry
    assert "Aperçu : 0 étape(s) maintenant, 2 à venir" in dry


def test_a_second_demo_on_the_same_folder_starts_clean(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert run(["demo", "--keep", str(folder)])[0] == 0
    first = Store.open(folder / "bridge.db", DEMO_SITE, CATEGORY)
    counts, ledger = first.counts(), first.ledger_summary()
    first.close()
    code, out, err = run(["demo", "--keep", str(folder)])
    assert code == 0, err
    again = Store.open(folder / "bridge.db", DEMO_SITE, CATEGORY)
    try:
        assert again.counts() == counts
        assert again.ledger_summary() == ledger == {LedgerState.DONE: 5}
        assert len(again.cards()) == counts.cartography_cards
    finally:
        again.close()
    assert "Message de démonstration : « La passerelle En Commun est branchée » publié → " in out


def test_the_demo_never_writes_into_a_store_in_service(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    store = Store.open(path, REAL_SITE, CATEGORY)
    store.run_finished(
        store.run_started("sync", datetime.now(UTC)), datetime.now(UTC), RunStatus.OK
    )
    store.close()
    before = path.read_bytes()
    code, out, err = run(["demo", "--store", str(path)])
    assert code == 2
    assert err.strip().splitlines() == [
        f"Erreur : {path} contient les données de {REAL_SITE} : le bac à sable n'écrit jamais "
        "dans une base en service (choisissez un autre fichier ou un autre dossier)"
    ]
    assert path.read_bytes() == before
    assert Store.file_scopes(path) == [(REAL_SITE, CATEGORY)]
    assert out == ""


def test_the_demo_keeps_a_config_a_person_wrote_and_any_other_file(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("discourse:\n  url: https://x.ca\n", encoding="utf-8")
    code, _, err = run(["demo", "--keep", str(tmp_path)])
    assert code == 2
    assert "n'a pas été écrit par la passerelle : il n'est pas remplacé" in err
    assert (tmp_path / "config.yaml").read_text(encoding="utf-8").startswith("discourse:")
    assert not (tmp_path / "bridge.db").exists()

    notes = tmp_path / "notes.db"
    notes.write_text("mes notes", encoding="utf-8")
    code, _, err = run(["demo", "--store", str(notes)])
    assert code == 2
    assert "n'est pas une base de la passerelle" in err
    assert notes.read_text(encoding="utf-8") == "mes notes"


# --- empty stores and times ---------------------------------------------------------------


def write_config(tmp_path: Path, site: str = REAL_SITE) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"discourse:\n  url: {site}\n  api_username: animation-2ise\n"
        f"community:\n  name: CdP 2isE\n  category: {CATEGORY}\n  group: cdp-2ise\n"
        "store:\n  path: bridge.db\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "args", [["search", "atelier"], ["export", "toolbox"], ["status"]], ids=lambda a: a[0]
)
def test_an_empty_store_is_explained_and_exits_0(tmp_path: Path, args: list[str]) -> None:
    config = write_config(tmp_path)
    code, out, err = run(["--config", str(config), *args])
    assert code == 0
    assert err.splitlines()[0] == (
        f"La base locale {tmp_path / 'bridge.db'} ne contient encore rien pour {REAL_SITE} "
        f"(catégorie « {CATEGORY} ») : lancez d'abord « bridge sync »."
    )
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "bridge.db").exists()
    if args[0] == "status":
        assert "Dernières exécutions :\n  aucune pour l'instant" in out
    else:
        assert out == ""


@pytest.mark.parametrize("command", ["search", "export", "status"])
def test_a_store_holding_another_site_says_which(
    kept: tuple[Path, str], tmp_path: Path, command: str
) -> None:
    folder, _ = kept
    config = write_config(tmp_path)
    (tmp_path / "bridge.db").write_bytes((folder / "bridge.db").read_bytes())
    args = {"search": ["search", "atelier"], "export": ["export", "toolbox"]}.get(
        command, [command]
    )
    code, _, err = run(["--config", str(config), *args])
    assert code == 0
    assert err.splitlines()[1] == (
        f"Elle contient les données de : {DEMO_SITE} ({CATEGORY}). Vérifiez discourse.url et "
        f"community.category dans {config}."
    )


def test_status_times_name_their_zone() -> None:
    toronto = ZoneInfo("America/Toronto")
    assert time_label(datetime(2026, 12, 3, 13, 0, tzinfo=UTC), toronto) == (
        "3 déc. 2026 à 08 h 00 (HNE)"
    )
    assert time_label(datetime(2026, 7, 3, 13, 0, tzinfo=UTC), toronto) == (
        "3 juill. 2026 à 09 h 00 (HAE)"
    )
    assert time_label(datetime(2026, 7, 3, 13, 0, tzinfo=UTC), ZoneInfo("UTC")) == (
        "3 juill. 2026 à 13 h 00 (UTC)"
    )


def test_status_shows_its_runs_with_their_zone(kept: tuple[Path, str]) -> None:
    folder, _ = kept
    code, out, _ = run(["--config", str(folder / "config.yaml"), "status"])
    assert code == 0
    runs = out.split("Dernières exécutions :\n")[1].split("\n\n")[0].splitlines()
    assert len(runs) == 4  # sync, announce, digest, welcome
    assert all(line.split("(")[1][:3] in ("HNE", "HAE") for line in runs)


def test_a_folder_named_relative_to_where_one_stands_works_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # « bridge demo --keep essai » from one's own folder: config.yaml reads its paths from
    # its own folder, so the ones it holds must not be relative to where the demo ran.
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["demo", "--keep", "essai"])
    assert code == 0
    code, found, err = run(["--config", "essai/config.yaml", "search", DEMO_SEARCH])
    assert code == 0 and "Aucun résultat" not in found + err and "http" in found
    code, member, _ = run(["--config", "essai/config.yaml", "export", "member", "rosalie.nadeau"])
    assert code == 0 and '"rosalie.nadeau"' in member
    assert not (tmp_path / "essai" / "essai").exists()
