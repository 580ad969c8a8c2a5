"""The `bridge` command line: each command loads the config, builds the parts, runs one job.

Errors meant for people (`BridgeError`) become one line on stderr and an exit code: 2 for bad
input (config, templates, job files, a refused key), 1 for a job that failed. No traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bridge import __version__
from bridge.cli_base import BridgeGroup, TopicProgress, setup_logging
from bridge.config import ENV_CONFIG, Config, load_config
from bridge.errors import ConfigError, UsageError, os_error_words

if TYPE_CHECKING:
    from bridge.wiring import Parts

log = logging.getLogger("bridge")


@click.group(cls=BridgeGroup, subcommand_metavar="COMMANDE [ARGUMENTS]...")
@click.version_option(__version__, prog_name="bridge", help="Afficher la version et quitter.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FICHIER",
    envvar=ENV_CONFIG,
    default="config.yaml",
    show_default=True,
    help="Le fichier de configuration (ou la variable BRIDGE_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="Plus de détails dans le journal (-vv : tout).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, verbose: int) -> None:
    """La passerelle entre la CdP 2isE et son forum En Commun (Discourse)."""
    setup_logging(verbose)
    ctx.obj = {"config_path": config_path}


def _config(ctx: click.Context) -> Config:
    return load_config(ctx.obj["config_path"])


@cli.command()
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FICHIER",
    help="Garder la base du miroir à cet endroit (par défaut : un dossier temporaire).",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DOSSIER",
    help="Laisser dans ce dossier config.yaml et sa base, à explorer ensuite.",
)
def demo(store_path: Path | None, keep: Path | None) -> None:
    """Un cycle complet contre le bac à sable intégré : aucun serveur, aucune clé."""
    from bridge.demo import run_demo

    run_demo(store_path=store_path, keep=keep, echo=click.echo)


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8700,
    show_default=True,
    metavar="N",
    help="Le port local (0 : n'importe quel port libre).",
)
@click.option(
    "--world",
    type=click.Choice(["small", "large"]),
    default="small",
    show_default=True,
    help="small : le petit monde de la démo; large : 2 000 sujets sur un an.",
)
@click.option(
    "--config-out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FICHIER",
    help="Écrire la configuration prête dans ce fichier (sinon : l'afficher).",
)
def sandbox(port: int, world: str, config_out: Path | None) -> None:
    """Sert le bac à sable jusqu'à Ctrl-C, avec une configuration prête et sa clé."""
    from bridge.sandboxcmd import serve

    serve(port=port, world=world, config_out=config_out, echo=click.echo)


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Vérifie la configuration, les gabarits, les annonces et l'accès au forum; n'écrit rien."""
    config = _config(ctx)
    from bridge.checks import run_check
    from bridge.wiring import Parts

    with Parts.build(config, readonly=True) as parts:
        problems = run_check(parts, echo=click.echo, warn=lambda line: click.echo(line, err=True))
        if problems:
            ctx.exit(2)


@cli.command()
@click.option("--full", is_flag=True, help="Relire toute la catégorie (réconciliation complète).")
@click.pass_context
def sync(ctx: click.Context, full: bool) -> None:
    """Une passe de mise à jour du miroir local de la catégorie."""
    config = _config(ctx)
    from bridge.runs import run_sync
    from bridge.wiring import Parts

    with Parts.build(config) as parts:
        if sys.stderr.isatty():
            progress = TopicProgress()
            try:
                summary = run_sync(
                    parts, full=full, on_topic=progress.tick, on_start=progress.start
                )
            finally:
                progress.finish()
        else:
            summary = run_sync(parts, full=full)
        click.echo(summary.describe())
        for line in summary.failures:
            click.echo(f"Erreur : {line}", err=True)
        if not summary.ok:
            ctx.exit(1)


@cli.command()
@click.option(
    "--details", is_flag=True, help="Lister aussi chaque publication du registre, avec sa clé."
)
@click.option("--json", "as_json", is_flag=True, help="Pour la supervision (forme stable).")
@click.pass_context
def status(ctx: click.Context, details: bool, as_json: bool) -> None:
    """Dernières et prochaines exécutions, échecs et état des publications."""
    try:
        config = _config(ctx)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (un service déjà lancé garde sa configuration)") from None
    from bridge.status import render_status
    from bridge.wiring import Parts

    with Parts.build(config, readonly=True) as parts:
        if as_json:
            from bridge.servicestatus import service_data

            click.echo(json.dumps(service_data(parts), ensure_ascii=False, indent=2))
            return
        _explain_empty(parts)
        click.echo(render_status(parts, details=details))


@cli.command("run")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Niveau du journal (par défaut : info, une ligne par tâche).",
)
@click.pass_context
def run_service(ctx: click.Context, log_level: str | None) -> None:
    """Le service : chaque tâche à son heure (section schedule: de config.yaml)."""
    config = _config(ctx)
    from bridge.service import Service, hook_from_env

    root = logging.getLogger()
    root.setLevel(log_level.upper() if log_level else min(root.level, logging.INFO))
    path = ctx.obj["config_path"]
    ctx.exit(Service(config, path, on_step=hook_from_env()).serve())


@cli.command()
@click.argument("target", metavar="CHEMIN", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, target: Path) -> None:
    """Copie la base locale dans CHEMIN, sans arrêter le service (API de sauvegarde SQLite)."""
    config = _config(ctx)
    from bridge.store import backup as copy_store

    if not config.store_path.exists():
        raise UsageError(f"{config.store_path} : aucune base locale à copier")
    if target.resolve() == config.store_path.resolve():
        raise UsageError(f"{target} : c'est la base elle-même ; choisissez un autre chemin")
    if not target.parent.resolve().is_dir():
        raise UsageError(f"{target} : le dossier {target.parent} n'existe pas ; créez-le d'abord")
    from bridge.store import Store

    # An older copy is replaced (that is how copies rotate); any other file is someone's.
    if target.exists() and Store.file_scopes(target) is None:
        raise UsageError(
            f"{target} existe déjà et n'est pas une copie de la base : rien n'est écrasé ; "
            "choisissez un autre nom"
        )
    size = copy_store(config.store_path, target)
    click.echo(f"Copie écrite : {target} ({size / 1_000_000:.1f} Mo).")


@cli.command()
@click.argument("query", nargs=-1, required=True, metavar="MOTS...")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    default=20,
    show_default=True,
    help="Nombre maximal de résultats (1 ou plus).",
)
@click.pass_context
def search(ctx: click.Context, query: tuple[str, ...], limit: int) -> None:
    """Cherche dans les sujets, la boîte à outils et la cartographie du miroir local."""
    config = _config(ctx)
    from bridge.wiring import Parts

    with Parts.build(config, readonly=True) as parts:
        if _explain_empty(parts):
            return
        results = parts.store.search(" ".join(query), limit=limit)
        if not results:
            click.echo("Aucun résultat.")
            return
        for hit in results:
            click.echo(f"[{hit.kind}] {hit.title}\n    {hit.url}\n    {hit.snippet}")


@cli.command()
@click.argument("kind", type=click.Choice(["toolbox", "cartography", "member"]))
@click.argument("who", required=False, metavar="[NOM]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json", "geojson"]),
    default="csv",
    show_default=True,
    help="csv, xlsx (un vrai classeur), json ou geojson (la cartographie sur une carte).",
)
@click.option(
    "--delimiter",
    type=click.Choice([";", ",", "tab"]),
    help="Séparateur du CSV (par défaut « ; » en français, « , » en anglais).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FICHIER",
    help="Écrire dans ce fichier (par défaut : la sortie standard).",
)
@click.pass_context
def export(
    ctx: click.Context,
    kind: str,
    who: str | None,
    fmt: str,
    delimiter: str | None,
    output: Path | None,
) -> None:
    """Exporte la boîte à outils, la cartographie, ou ce que la base garde d'une personne."""
    config = _config(ctx)
    from bridge.export import CsvStyle, entries_of, render_export
    from bridge.privacy import member_export
    from bridge.wiring import Parts

    if kind == "member" or who:
        _write(member_export(config, kind, who), output)
        return
    if fmt == "xlsx" and output is None:
        raise UsageError("le format xlsx s'écrit dans un fichier : ajoutez --output FICHIER.xlsx")
    if fmt == "geojson" and kind != "cartography":
        raise UsageError("le format geojson ne vaut que pour la cartographie")
    with Parts.build(config, readonly=True) as parts:
        if _explain_empty(parts):
            return
        rows = entries_of(parts.store, kind)
        style = CsvStyle.for_locale(
            config.community.locale, "\t" if delimiter == "tab" else delimiter
        )
        content = render_export(kind, fmt, rows, config.community.tz, style)
    if fmt == "geojson" and isinstance(content, str):
        unplaced = content.count('"geometry": null')
        if unplaced:
            click.echo(
                f"{unplaced} fiche(s) sans coordonnées ni territoire reconnu : gardées sans "
                "position (voir bridge status)",
                err=True,
            )
    if _write(content, output):
        click.echo(f"Écrit : {output} ({len(rows)} entrée(s))", err=True)


def _write(content: str | bytes, output: Path | None) -> bool:
    if output is None:
        click.echo(content, nl=False)
        return False
    try:
        output.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{output} : écriture impossible ({os_error_words(exc)})") from None
    return True


@cli.command()
@click.argument("who", metavar="NOM")
@click.option("--dry-run", is_flag=True, help="Dire ce qui serait retiré; n'écrit rien.")
@click.pass_context
def forget(ctx: click.Context, who: str, dry_run: bool) -> None:
    """Retire de la base locale les données d'une personne, à sa demande (droit à l'oubli)."""
    from bridge.privacy import run_forget

    click.echo(run_forget(_config(ctx), who, dry_run=dry_run))


def _explain_empty(parts: Parts) -> bool:
    """Say so, and what to run, when the store holds nothing for this site and community."""
    from bridge.status import empty_store_lines

    lines = empty_store_lines(parts)
    for line in lines:
        click.echo(line, err=True)
    return bool(lines)


@cli.command()
@click.option(
    "--port", default=8001, show_default=True, metavar="N", help="Le port local de Datasette."
)
@click.pass_context
def browse(ctx: click.Context, port: int) -> None:
    """Ouvre le miroir local dans Datasette (extra facultatif : pip install '.[browse]')."""
    config = _config(ctx)
    from bridge.browse import run_datasette

    ctx.exit(run_datasette(config.store_path, port=port))


@cli.command()
@click.argument(
    "files",
    nargs=-1,
    metavar="[FICHIER.yaml]...",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--now", "now_flag", is_flag=True, help="Publier tout de suite l'annonce nommée.")
@click.option(
    "--dry-run", is_flag=True, help="Montrer ce qui serait publié, et quand; n'écrit rien."
)
@click.pass_context
def announce(ctx: click.Context, files: tuple[Path, ...], now_flag: bool, dry_run: bool) -> None:
    """Publie les annonces et les rappels du comité qui sont dus (jobs/*.yaml)."""
    config = _config(ctx)
    from bridge.runs import run_announce
    from bridge.wiring import Parts

    # A dry run reads a private copy of the store: it creates and changes nothing.
    with Parts.build(config, readonly=dry_run) as parts:
        report = run_announce(
            parts,
            files=list(files) or None,
            now_flag=now_flag,
            dry_run=dry_run,
            echo=click.echo,
            warn=lambda line: click.echo(line, err=True),
        )
        ctx.exit(report.exit_code)


@cli.command()
@click.option(
    "--week",
    metavar="SEMAINE",
    help="La semaine ISO, comme 2025-W16 (par défaut : la dernière complète).",
)
@click.option("--dry-run", is_flag=True, help="Afficher le résumé en Markdown; n'écrit rien.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FICHIER",
    help="Écrire le résumé dans ce fichier, sans rien publier.",
)
@click.pass_context
def digest(ctx: click.Context, week: str | None, dry_run: bool, output: Path | None) -> None:
    """Publie le résumé hebdomadaire de l'équipe d'animation (une fois par semaine)."""
    config = _config(ctx)
    from bridge.runs import run_digest
    from bridge.wiring import Parts

    # Previewing reads a private copy of the store: it creates and changes nothing.
    with Parts.build(config, readonly=dry_run or output is not None) as parts:
        report = run_digest(parts, week=week, dry_run=dry_run, output=output, echo=click.echo)
        ctx.exit(report.exit_code)


@cli.command()
@click.pass_context
def webhooks(ctx: click.Context) -> None:
    """Écoute les webhooks de Discourse : le miroir se met à jour en quelques secondes."""
    config = _config(ctx)
    from bridge.webhooks.standalone import listen_and_sync

    listen_and_sync(config, echo=lambda line: click.echo(line, err=True))


@cli.command()
@click.option(
    "--now", "now_flag", is_flag=True, help="Accueillir sans attendre la fin de la vague."
)
@click.option("--dry-run", is_flag=True, help="Afficher les textes d'accueil; n'écrit rien.")
@click.pass_context
def welcome(ctx: click.Context, now_flag: bool, dry_run: bool) -> None:
    """Accueille les nouveaux membres du groupe, puis relance ceux qui n'ont rien publié."""
    config = _config(ctx)
    from bridge.welcome.run import run_welcome
    from bridge.wiring import Parts

    with Parts.build(config, readonly=dry_run) as parts:
        report = run_welcome(parts, dry_run=dry_run, now_flag=now_flag, echo=click.echo)
        ctx.exit(report.exit_code)
