"""The command line as people use it: demo, check, status, search, export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sandboxcli import write_config

from bridge.cli import cli
from bridge.sandbox import Sandbox, seed_world

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=lambda: NOW) as sb:
        yield sb


def run(args: list[str], key: str | None = None) -> tuple[int, str, str]:
    env = {"DISCOURSE_API_KEY": key} if key else {"DISCOURSE_API_KEY": ""}
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_demo_runs_a_full_cycle_without_config_or_key(tmp_path: Path) -> None:
    store = tmp_path / "demo.db"
    code, out, err = run(["--config", str(tmp_path / "absent.yaml"), "demo", "--store", str(store)])
    assert code == 0, err
    assert "Bac à sable Discourse démarré" in out
    assert "Miroir : " in out and " sujets, " in out
    assert "Message de démonstration : « La passerelle En Commun est branchée » publié → " in out
    assert "rien en double" in out
    assert (
        "Annonce : « Webinaire : mesurer l'impact social de nos projets » publiée et épinglée, "
        "avec 1 rappel(s)" in out
    )
    assert "Tâches : announce réussie, digest réussie, sync réussie, welcome réussie." in out
    assert "Accueil : « Bienvenue à rosalie.nadeau dans la CdP 2isE (" in out
    assert (
        "En service (bridge run), la passerelle ferait : sync toutes les 10 minutes, welcome "
        "après sync, announce toutes les 5 minutes, digest lundi 08:00." in out
    )
    assert "Résumé : « CdP 2isE : résumé de la semaine du " in out
    assert "  | Bonjour l'équipe d'animation ! Voici la semaine du " in out
    assert f"Base locale : {store}" in out
    assert store.exists()


def test_check_passes_against_the_sandbox(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    code, out, err = run(["--config", str(config), "check"], key=sandbox.api_key)
    assert code == 0, out + err
    assert "voit la catégorie « Impact et innovation sociale en Estrie »" in out
    assert not [m for m, _ in sandbox.requests if m != "GET"]


def test_check_with_a_wrong_key_is_one_line_and_exit_2(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    code, out, err = run(["--config", str(config), "check"], key="pas-la-bonne-cle")
    assert code == 2
    errors = [line for line in (out + err).splitlines() if line.startswith("Erreur")]
    assert len(errors) == 1
    assert "la clé d'API a été refusée" in errors[0]
    assert "DISCOURSE_API_KEY" in errors[0]
    assert "pas-la-bonne-cle" not in out + err
    assert "Traceback" not in out + err


def test_sync_without_a_key_says_how_to_give_it(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    code, out, err = run(["--config", str(config), "sync"])
    assert code == 2
    assert err.strip().startswith("Erreur : DISCOURSE_API_KEY n'est pas défini")
    assert len(err.strip().splitlines()) == 1


def test_status_search_and_export_after_a_sync(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    code, out, err = run(["--config", str(config), "sync"], key=sandbox.api_key)
    assert code == 0, err
    assert out.startswith("Synchronisation : ")

    code, out, _ = run(["--config", str(config), "status"])
    assert code == 0
    assert "sync" in out and " réussie " in out
    assert "Publications :\n  aucune pour l'instant" in out
    assert "Fiches de la cartographie à compléter (1) :" in out
    assert "  « Collectif Jeunesse engagée » par " in out
    assert "    - Champ obligatoire manquant : territoire" in out

    # Accents folded: « theorie » finds « théorie ».
    code, out, _ = run(["--config", str(config), "search", "theorie", "changement"])
    assert code == 0
    assert "[outil] Canevas de théorie du changement (version Estrie)" in out
    assert f"{sandbox.url}/t/" in out

    code, out, _ = run(["--config", str(config), "search", "mot-introuvable-xyz"])
    assert out.strip() == "Aucun résultat."

    # French Canada's Excel: « ; » between columns, decimal commas.
    code, out, _ = run(["--config", str(config), "export", "cartography", "--format", "csv"])
    assert code == 0
    assert out.startswith("\ufeffOrganisation;Territoire;Thématiques")
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 8
    by_org = {r["Organisation"]: r for r in rows}
    assert by_org["Table de développement social du Granit"]["Territoire"] == "Le Granit"
    placed = [r for r in rows if r["Latitude"]]
    assert placed and all("," in r["Latitude"] and "." not in r["Latitude"] for r in placed)
    code, out, _ = run(
        ["--config", str(config), "export", "cartography", "--delimiter", ",", "--format", "csv"]
    )
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert len(rows) == 8 and all("," not in r["Latitude"] for r in rows)

    target = tmp_path / "carte.geojson"
    code, _, err = run(
        ["--config", str(config), "export", "cartography", "--format", "geojson", "-o", str(target)]
    )
    assert code == 0
    geo = json.loads(target.read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection"
    positions = {f["properties"]["organisation"]: f for f in geo["features"]}
    granit = positions["Table de développement social du Granit"]
    assert granit["geometry"]["coordinates"] == [-70.88, 45.58]
    assert granit["properties"]["approximate"] is True
    assert granit["properties"]["position"] == "approximative (territoire)"
    # What a map's pop-up shows.
    shown = granit["properties"]
    assert shown["titre"] and shown["description"] and shown["auteur"]
    assert shown["lien_forum"].startswith(f"{sandbox.url}/t/")
    assert shown["derniere_activite"].endswith(("-04:00", "-05:00"))  # local time, with its zone
    exact = [f for f in geo["features"] if f["properties"].get("approximate") is False]
    assert exact and exact[0]["properties"]["position"] == "exacte"
    # The card without a territory nor coordinates stays, without a position, and is counted;
    # it claims no precision at all.
    unplaced = positions["Collectif Jeunesse engagée"]
    assert unplaced["geometry"] is None
    assert unplaced["properties"]["position"] == "inconnue"
    assert "approximate" not in unplaced["properties"]
    assert "1 fiche(s) sans coordonnées ni territoire reconnu" in err

    code, out, _ = run(["--config", str(config), "export", "toolbox", "--format", "json"])
    entries = json.loads(out)
    assert len(entries) == 6
    assert all(e["url"].startswith(sandbox.url) for e in entries)


def test_geojson_is_refused_for_the_toolbox(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    code, _, err = run(["--config", str(config), "export", "toolbox", "--format", "geojson"])
    assert code == 2
    assert "geojson ne vaut que pour la cartographie" in err


def test_check_status_search_and_export_create_no_store(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    for args in (["check"], ["status"], ["search", "outil"], ["export", "toolbox"]):
        code, _, err = run(["--config", str(config), *args], key=sandbox.api_key)
        assert code == 0, (args, err)
    assert not (tmp_path / "bridge.db").exists()
    assert not list(tmp_path.glob("bridge.db*"))


def test_check_leaves_an_existing_store_untouched(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    run(["--config", str(config), "sync"], key=sandbox.api_key)
    store = tmp_path / "bridge.db"
    before = store.read_bytes()
    code, out, err = run(["--config", str(config), "check"], key=sandbox.api_key)
    assert code == 0, err
    assert store.read_bytes() == before


def test_check_warns_when_the_account_is_not_a_moderator(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    text = config.read_text(encoding="utf-8").replace(
        "api_username: animation-2ise", "api_username: catherine.lafleur"
    )
    config.write_text(text, encoding="utf-8")
    code, out, err = run(
        ["--config", str(config), "check"], key=sandbox.member_key("catherine.lafleur")
    )
    assert code == 2
    assert err.strip() == (
        f"Erreur : le compte « catherine.lafleur » n'est pas modérateur sur {sandbox.url} : "
        "il ne pourra pas épingler les annonces, sera soumis aux limites de publication "
        "(et de mentions : l'accueil collectif nomme chaque membre) et ne pourra pas lire "
        "l'état des comptes (/admin/users) pour ne pas accueillir un compte suspendu"
    )


def test_check_rejects_a_job_in_an_unknown_category_once_synced(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url)
    run(["--config", str(config), "sync"], key=sandbox.api_key)
    job = tmp_path / "jobs" / "webinaire.yaml"
    job.write_text(
        "kind: webinaire\n"
        'title: "Webinaire : mesurer notre impact social"\n'
        "start: 2099-05-15 12:00\n"
        "link: https://visio.exemple.ca/cdp\n"
        "category: nexiste-pas\n",
        encoding="utf-8",
    )
    code, out, err = run(["--config", str(config), "check"], key=sandbox.api_key)
    assert code == 2
    [line] = [x for x in err.splitlines() if x.startswith("Erreur")]
    assert "webinaire.yaml, ligne 5, category : catégorie inconnue" in line


def test_export_to_a_missing_folder_is_one_line_and_exit_2(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url)
    run(["--config", str(config), "sync"], key=sandbox.api_key)
    target = tmp_path / "absent" / "outils.csv"
    code, out, err = run(["--config", str(config), "export", "toolbox", "-o", str(target)])
    assert code == 2
    assert err == (f"Erreur : {target} : écriture impossible (fichier ou dossier introuvable)\n")


def test_browse_without_datasette_says_how_to_install_it(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    config = write_config(tmp_path, sandbox.url)
    run(["--config", str(config), "sync"], key=sandbox.api_key)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "datasette" else real(name, *a),
    )
    code, _, err = run(["--config", str(config), "browse"])
    assert code == 2
    assert err.strip() == (
        "Erreur : Datasette n'est pas installé : pip install -e '.[browse]' (extra facultatif)"
    )


def test_browse_runs_datasette_from_this_environment_with_french_titles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import bridge.browse as browse

    store = tmp_path / "bridge.db"
    store.write_bytes(b"")
    seen: dict[str, object] = {}

    def fake_serve(command: list[str]) -> int:
        seen["command"] = command
        seen["metadata"] = json.loads(Path(command[command.index("--metadata") + 1]).read_text())
        return 3

    monkeypatch.setattr(browse.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(browse, "_serve", fake_serve)

    assert browse.run_datasette(store, port=8123) == 3
    command = seen["command"]
    assert isinstance(command, list) and command[:4] == [
        sys.executable,
        "-m",
        "datasette",
        str(store),
    ]
    assert "--port" in command and "8123" in command
    tables = seen["metadata"]["databases"]["bridge"]["tables"]  # type: ignore[index]
    assert tables["cartography_cards"]["title"] == "Cartographie"
    # The temporary metadata file is gone afterwards.
    assert not Path(command[command.index("--metadata") + 1]).exists()


def test_announce_dry_run_creates_no_store(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox.url)
    (tmp_path / "jobs" / "webinaire.yaml").write_text(
        "kind: webinaire\n"
        'title: "Webinaire : mesurer notre impact social"\n'
        "start: 2099-05-15 12:00\n"
        "link: https://visio.exemple.ca/cdp\n",
        encoding="utf-8",
    )
    code, out, err = run(["--config", str(config), "announce", "--dry-run"])
    assert code == 0, err
    assert "── maintenant : l'annonce, nouveau sujet dans « annonces »" in out
    assert not list(tmp_path.glob("bridge.db*"))


def test_publishing_after_a_sync_resolves_categories_from_the_mirror(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    from bridge.config import load_config
    from bridge.wiring import Parts

    config_path = write_config(tmp_path, sandbox.url)
    run(["--config", str(config_path)] + ["sync"], key=sandbox.api_key)
    config = load_config(config_path, env={"DISCOURSE_API_KEY": sandbox.api_key})
    parts = Parts.build(config, now=lambda: NOW)
    sandbox.reset_requests()

    assert parts.category_id("annonces") == 14
    assert sandbox.requests == []  # no /categories.json read: the mirror knows it
    # Unknown to the mirror: one read of that category settles it.
    assert parts.category_id("general") == 2
    assert [path for _, path in sandbox.requests] == ["/c/general/show.json"]


TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def test_the_log_goes_to_stderr_with_times_and_levels_only_when_verbose(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url)
    code, out, err = run(["--config", str(config), "sync"], key=sandbox.api_key)
    assert code == 0, err
    assert out.startswith("Synchronisation : ") and len(out.splitlines()) == 1
    assert not TIMESTAMP.search(out + err)

    code, out, err = run(["--config", str(config), "-v", "sync", "--full"], key=sandbox.api_key)
    assert code == 0, err
    # What the command prints is alone on stdout; the log, timed and French, on stderr.
    assert out.startswith("Synchronisation : ") and len(out.splitlines()) == 1
    assert not TIMESTAMP.search(out)
    logged = [line for line in err.splitlines() if " bridge.mirror : " in line]
    assert logged and TIMESTAMP.match(logged[0]), err
    assert " info bridge.mirror : Synchronisation : " in logged[0]
    assert not re.search(r"\b(INFO|WARNING|DEBUG)\b", err)


def test_a_warning_in_the_log_is_one_plain_line_by_default(tmp_path: Path) -> None:
    import logging

    @click.command()
    def warns() -> None:
        logging.getLogger("bridge.test").warning("clé illisible, ignorée : %s", "x")

    cli.add_command(warns)
    try:
        result = CliRunner().invoke(cli, ["warns"])
    finally:
        del cli.commands["warns"]
    assert result.stderr == "clé illisible, ignorée : x\n"
    assert result.stdout == ""
