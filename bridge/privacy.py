"""A person's rights over what the bridge keeps of them (Québec's Law 25): `bridge export
member` answers an access request, `bridge forget` an erasure request.

Forgetting happens in the store (`bridge.store.forget`); here it is run, its search documents
rebuilt, the index compacted and the file purged, and what was removed said in French.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bridge.config import Config
from bridge.errors import UsageError
from bridge.reindex import refresh_entries
from bridge.store import FORGOTTEN_NAME, ForgetCounts, MemberRecord, Person, Store, iso
from bridge.wiring import Parts


def _unknown(who: str) -> UsageError:
    return UsageError(
        f"« {who} » : personne de ce nom dans la base locale (ni profil, ni membre du groupe, "
        "ni auteur·e d'un message)"
    )


def _day(parts: Parts, when: datetime) -> str:
    return when.astimezone(parts.config.community.tz).date().isoformat()


def _find(parts: Parts, who: str) -> Person | str:
    """The person `who` names, or the line saying they were forgotten on that day."""
    if not who.strip().lstrip("@"):
        raise UsageError("donnez le nom d'utilisateur·rice de la personne (ou son numéro)")
    person = parts.store.find_person(who)
    if person is not None:
        return person
    when = parts.store.forgotten_on(who)
    if when is None:
        raise _unknown(who)
    return (
        f"« {who} » a été oublié·e le {_day(parts, when)} : la base locale ne garde plus rien "
        "de cette personne, sinon une empreinte chiffrée qui empêche de la réinscrire."
    )


def run_forget(config: Config, who: str, *, dry_run: bool = False) -> str:
    """`bridge forget`: a dry run works on a private copy of the store."""
    with Parts.build(config, readonly=dry_run) as parts:
        said = forget(parts, who, dry_run=dry_run)
    return said + _other_communities(config)


def _other_communities(config: Config) -> str:
    """Forgetting is per community (each has its own keys and secret): a file shared with
    other communities is said, so that nobody believes the whole file is clean."""
    here = (config.site, config.community.category)
    others = [scope for scope in Store.file_scopes(config.store_path) or [] if scope != here]
    if not others:
        return ""
    names = ", ".join(f"« {community} » ({site})" for site, community in others)
    return (
        f"\nAttention : {config.store_path} garde aussi les données d'autres communautés "
        f"({names}) ; cette personne n'y est pas oubliée : relancez bridge forget avec la "
        "configuration de chacune."
    )


def forget(parts: Parts, who: str, *, dry_run: bool = False) -> str:
    """Forget the person `who` names; say what went."""
    store = parts.store
    with store.exclusive("jobs", wait=parts.job_wait):
        found = _find(parts, who)
        if isinstance(found, str):
            return found
        counts = store.forget_person(found, parts.now())
        reindexed = refresh_entries(store, parts.config, counts.topic_ids)
        with store.atomic():
            store.compact_search_index()
        purged = store.purge_free_pages()
    return _forget_words(found, counts, reindexed, purged=purged, dry_run=dry_run)


def _forget_words(
    person: Person, counts: ForgetCounts, reindexed: int, *, purged: bool, dry_run: bool
) -> str:
    who = ", ".join(person.usernames) or f"n° {person.user_id}"
    lines = [
        f"Essai, rien n'est écrit. Oublier « {who} » retirerait :"
        if dry_run
        else f"« {who} » est oublié·e. Retiré de la base locale :",
        f"- profil : {counts.profile}",
        f"- adhésion au groupe : {counts.memberships}",
        f"- nom sur ses messages : {counts.posts} (le texte reste, signé « {FORGOTTEN_NAME} »)",
        f"- nom comme dernier·ère à écrire dans un sujet : {counts.topics}",
        f"- nom d'auteur·e d'un outil ou d'une fiche : {counts.entries}",
        f"- mentions par d'autres : {counts.mentions} message(s) réécrit(s)",
        f"- nom complet dans un texte ou un titre : {counts.full_names}",
        f"- nom dans le registre ou le journal de la passerelle : {counts.own_words}",
        f"- index de recherche : {reindexed} document(s) refait(s), puis compacté",
    ]
    if dry_run:
        return "\n".join(lines)
    lines.append(
        "Ajouté·e à la liste d'oubli (une empreinte, pas un nom) : les prochaines "
        "synchronisations garderont ses messages sans son nom et l'accueil ne l'accueillera "
        "plus."
    )
    if not purged:
        lines.append(
            "Attention : un autre processus lit la base ; le journal bridge.db-wal sera vidé "
            "quand il la fermera (ou relancez « bridge forget » service arrêté)."
        )
    lines.append(
        "Son compte existe toujours sur le forum : seul·e l'administrateur·rice du site peut "
        "le supprimer ou l'anonymiser."
    )
    return "\n".join(lines)


def member_export(config: Config, kind: str, who: str | None) -> str:
    """`bridge export member NOM`, on a private copy of the store."""
    if kind != "member" or not who:
        raise UsageError(
            "« bridge export member » prend un nom d'utilisateur·rice ; "
            "« toolbox » et « cartography », aucun"
        )
    with Parts.build(config, readonly=True) as parts:
        return export_member(parts, who)


def export_member(parts: Parts, who: str) -> str:
    """Everything the store holds about the person `who` names, as readable JSON."""
    found = _find(parts, who)
    request = {"personne": who, "site": parts.config.site, "exporté le": iso(parts.now())}
    if isinstance(found, str):
        return _json({"demande": request, "données": None, "note": found})
    record = parts.store.member_record(found, parts.now())
    return _json({"demande": request, **_record_words(record)})


def _record_words(record: MemberRecord) -> dict[str, Any]:
    welcome = record.welcome
    return {
        "numéro d'utilisateur·rice": record.person.user_id,
        "noms d'utilisateur·rice": list(record.person.usernames),
        "profil": record.profile,
        "adhésions": record.memberships,
        "messages": [
            {
                "lien": link,
                "écrit le": iso(post.created_at),
                "modifié le": iso(post.updated_at),
                "supprimé": post.deleted,
                "texte": post.raw,
            }
            for post, link in record.posts
        ],
        "outils et fiches": record.entries,
        "mentions par d'autres": record.mentions,
        "accueil": None
        if welcome is None
        else {
            "état": welcome.state.value,
            "arrivée": iso(welcome.joined_at),
            "accueilli·e le": iso(welcome.welcomed_at),
            "relance": welcome.follow_up.value if welcome.follow_up else None,
        },
        "publications de la passerelle à son sujet": [
            {"clé": e.key, "état": e.state.value, "titre": e.title, "le": iso(e.created_at)}
            for e in record.ledger
        ],
        "note": (
            "La base locale ne garde ni adresse courriel ni mot de passe : le compte lui-même "
            "est sur le forum, que son administrateur·rice peut exporter."
        ),
    }


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
