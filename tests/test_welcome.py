"""`bridge welcome` end to end: the CLI, the store, the publisher and the sandbox on loopback,
with an injected clock."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sandboxcli import ROOT, Clock, Crash, bridge, enter_workdir, ok
from sandboxcli import write_config as sandbox_config

from bridge.config import load_config
from bridge.discourse import DiscourseClient
from bridge.drafts import Draft
from bridge.errors import ConfigError
from bridge.publish import Publisher, StepHook
from bridge.sandbox import STAFF_USERNAME, Sandbox, Topic
from bridge.welcome.people import person_key
from bridge.welcome.run import WelcomeReport, run_welcome
from bridge.wiring import Parts

T0 = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)


FACILITATORS, STORE = "animation-2ise", "data/bridge.db"


def write_config(workdir: Path, url: str, welcome: str = "") -> None:
    sandbox_config(
        workdir,
        url,
        facilitators=FACILITATORS,
        store=STORE,
        extra=f"welcome: {{{welcome}}}\n" if welcome else "",
    )


HOOK: dict[str, StepHook] = {}


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, clock: Clock
) -> Path:
    enter_workdir(monkeypatch, tmp_path, sandbox.url, clock, facilitators=FACILITATORS, store=STORE)
    publisher = Parts.publisher

    def publisher_with_hook(self: Parts, on_step: StepHook | None = None) -> Publisher:
        return publisher(self, on_step or HOOK.get("hook"))

    monkeypatch.setattr(Parts, "publisher", publisher_with_hook)
    HOOK.clear()
    return tmp_path


def welcomes(sandbox: Sandbox) -> list[Topic]:
    world = sandbox.world
    with world.lock:
        return [
            t
            for t in world.topics.values()
            if t.deleted_at is None
            and t.user.username == STAFF_USERNAME
            and (t.is_private_message or t.category_id == world.category("bienvenue").id)
        ]


def first_raw(sandbox: Sandbox, topic: Topic) -> str:
    with sandbox.world.lock:
        return sandbox.world.posts[topic.post_ids[0]].raw


def stored(workdir: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(workdir / "data" / "bridge.db") as conn:
        return conn.execute(query).fetchall()


def join(sandbox: Sandbox, clock: Clock, username: str, name: str | None = None) -> Any:
    return sandbox.world.add_member(username, name, clock.now)


def first_pass(sandbox: Sandbox, clock: Clock) -> None:
    ok("sync")
    result = ok("welcome")
    assert "première passe" in result.output
    assert welcomes(sandbox) == []


WEBINAR = """\
kind: webinaire
title: "Webinaire : mesurer l'impact social"
start: 2025-05-15 12:00
link: https://zoom.us/j/123456
description: Un webinaire sur l'évaluation de l'impact social.
pin: non
"""


def test_the_first_pass_welcomes_nobody_and_a_newcomer_is_welcomed_after_quiet_minutes(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "guidelines_url: 'https://exemple.ca/regles'")
    (workdir / "jobs" / "webinaire.yaml").write_text(WEBINAR, encoding="utf-8")
    ok("announce")
    first_pass(sandbox, clock)
    clock.advance(minutes=5)
    join(sandbox, clock, "rosalie.nadeau", "Rosalie [Nadeau] @everyone")
    clock.advance(minutes=1)
    ok("sync")
    held = ok("welcome")
    assert (
        "1 nouveau(x) membre(s) en attente : accueil à partir du lundi 21 avril 2025 à 9 h 35"
        in (held.output)
    )
    assert welcomes(sandbox) == []

    clock.advance(minutes=30)
    ok("welcome")
    (topic,) = welcomes(sandbox)
    assert topic.title == "Bienvenue à rosalie.nadeau dans la CdP 2isE (21 avril 2025)"
    site, world = sandbox.url, sandbox.world
    with world.lock:
        webinar = next(
            t for t in world.topics.values() if t.title.startswith("Webinaire : mesurer")
        )
    toolbox, cards = world.category("boite-a-outils").id, world.category("cartographie").id
    assert first_raw(sandbox, topic) == (
        "Bonjour @rosalie.nadeau, et bienvenue dans la CdP 2isE !\n\n"
        "La CdP 2isE est une communauté de pratique : des personnes de l'Estrie qui portent des "
        "projets d'impact et d'innovation sociale et qui apprennent les unes des autres. On y "
        "partage des outils, des expériences, des questions, et on s'y entraide.\n\n"
        "Ce qu'elle n'est pas : un organisme de services, une table de décision, un lobby ni une "
        "boîte à idées. Ce qui s'y passe vient de ses membres, de vous aussi.\n\n"
        "**Pour commencer**\n\n"
        f"- La [boîte à outils]({site}/c/boite-a-outils/{toolbox}) : les outils que les membres "
        "ont partagés.\n"
        f"- La [cartographie]({site}/c/cartographie/{cards}) : les initiatives et organisations "
        f"de la région. [Ajoutez la fiche de la vôtre]({site}/new-topic?category_id={cards}) "
        "(organisation, territoire, description).\n"
        f"- Prochaine activité : [Webinaire : mesurer l'impact social]({site}/t/{webinar.slug}/"
        f"{webinar.id}), jeudi 15 mai 2025 à 12 h 00.\n"
        "- Nos [règles de participation](https://exemple.ca/regles).\n\n"
        "**Présentez-vous !** Répondez à ce sujet : votre nom, votre organisation, votre "
        "territoire, ce qui vous intéresse et un projet que vous portez.\n\n"
        "Au plaisir de vous lire,\nL'équipe d'animation"
    )
    # Once only, whatever reruns.
    clock.advance(minutes=30)
    ok("welcome")
    assert len(welcomes(sandbox)) == 1
    keys = [k for (k,) in stored(workdir, "select key from ledger where key like 'welcome:%'")]
    assert len(keys) == 1 and "rosalie" not in keys[0]
    assert re.fullmatch(r"welcome:[0-9a-f]{16}:20250421", keys[0])
    # The keyed hash of her id under the store's own secret: nothing to read without it (an
    # id's digits may of course turn up in a hex string by chance: no substring test here).
    (secret,) = [row[0] for row in stored(workdir, "select secret from welcome_secrets")]
    user_id = world.user("rosalie.nadeau").id
    assert keys[0].split(":")[1] == person_key(bytes.fromhex(secret), user_id)
    assert keys[0].split(":")[1] != person_key(b"another secret", user_id)


def test_a_wave_of_40_gives_one_collective_topic_naming_all(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    first_pass(sandbox, clock)
    names = [f"membre{i:02d}" for i in range(40)]
    for i, name in enumerate(names):
        clock.advance(minutes=1.5)
        join(sandbox, clock, name, f"Membre {i}")
        if i % 5 == 4:
            ok("sync")
            ok("welcome")  # every few minutes, as the service does
    assert welcomes(sandbox) == []
    held = json.loads(ok("status", "--json").stdout)["counts"]
    assert (held["welcomes_done"], held["welcomes_pending"]) == (0, 40)
    clock.advance(minutes=31)
    ok("sync")
    sandbox.reset_requests()
    ok("welcome")
    # What it costs: one read per newcomer (what staff see of the account), one write.
    assert sum(p.startswith("/admin/users/") for _, p in sandbox.requests) == 40
    assert [r for r in sandbox.requests if r[0] != "GET"] == [("POST", "/posts.json")]
    (topic,) = welcomes(sandbox)
    assert topic.title.startswith("Bienvenue aux 40 nouveaux membres de la CdP 2isE (21 avril 2025")
    raw = first_raw(sandbox, topic)
    for name in names:
        assert f"- @{name}\n" in raw
    assert raw.count("@") == 40
    clock.advance(days=1)
    ok("welcome")
    assert len(welcomes(sandbox)) == 1
    # Counted by member: one collective topic, forty people welcomed.
    counts = json.loads(ok("status", "--json").stdout)["counts"]
    assert (counts["welcomes_done"], counts["welcomes_pending"]) == (40, 0)


def test_at_most_the_threshold_gives_individual_topics(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    first_pass(sandbox, clock)
    for name in ("anne.a", "bruno.b", "chloe.c"):
        join(sandbox, clock, name)
    clock.advance(minutes=31)
    ok("sync")
    ok("welcome")
    titles = sorted(t.title for t in welcomes(sandbox))
    assert titles == [
        f"Bienvenue à {n} dans la CdP 2isE (21 avril 2025)"
        for n in ("anne.a", "bruno.b", "chloe.c")
    ]


def test_mode_message_sends_a_private_message_with_the_facilitators(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "mode: message, quiet_minutes: 0")
    first_pass(sandbox, clock)
    join(sandbox, clock, "denis.d")
    ok("sync")
    ok("welcome")
    (pm,) = welcomes(sandbox)
    assert pm.is_private_message
    assert pm.title == "Bienvenue dans la CdP 2isE, denis.d"
    assert sorted(u.username for u in pm.allowed_users) == [STAFF_USERNAME, "denis.d"]
    assert [g.name for g in pm.allowed_groups] == ["animation-2ise"]
    assert "Répondez à ce message ou ouvrez un sujet dans [Bienvenue]" in first_raw(sandbox, pm)


def test_accounts_that_must_not_be_welcomed_are_skipped(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0")
    first_pass(sandbox, clock)
    world = sandbox.world
    later = clock.now + timedelta(days=30)
    join(sandbox, clock, "suspendu").suspended_till = later
    join(sandbox, clock, "silencieux").silenced_till = later
    join(sandbox, clock, "invite").staged = True
    join(sandbox, clock, "inactif").active = False
    join(sandbox, clock, "bienvenu.e")
    world.add_member(STAFF_USERNAME, None, clock.now)
    with world.lock:
        bot = world.add_user("discobot", "Discobot")
        world.users.pop(bot.id)
        bot.id = -2
        world.users[-2] = bot
        world.group("cdp-2ise").members[-2] = world.group("cdp-2ise").members.get(-2) or (
            __import__("bridge.sandbox.model", fromlist=["Membership"]).Membership(bot, clock.now)
        )
    ok("sync")
    result = ok("welcome")
    (topic,) = welcomes(sandbox)
    assert "bienvenu.e" in topic.title
    for line in (
        "Pas d'accueil pour suspendu : compte suspendu",
        "Pas d'accueil pour silencieux : compte réduit au silence",
        "Pas d'accueil pour invite : compte de courriel seulement (staged)",
        "Pas d'accueil pour inactif : compte non activé",
    ):
        assert line in result.output
    # Only the due members' accounts were read, the bot's and the bridge's never.
    reads = [p for m, p in sandbox.requests if p.startswith("/admin/users/")]
    assert len(reads) == 5
    states = dict(
        stored(workdir, "select reason, state from welcome_members where state = 'skipped'")
    )
    assert states.keys() >= {"un robot", "la passerelle elle-même", "compte suspendu"}


def test_follow_up_only_to_the_silent_and_not_after_leaving(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0, follow_up_days: 7")
    first_pass(sandbox, clock)
    join(sandbox, clock, "silencieuse", "Sœur @everyone [b]Lune[/b]")
    for name in ("bavarde", "partie"):
        join(sandbox, clock, name)
    ok("sync")
    ok("welcome")
    assert len(welcomes(sandbox)) == 3
    clock.advance(days=2)
    world = sandbox.world
    with world.lock:
        topic = next(t for t in world.topics.values() if "bavarde" in t.title)
    world.add_reply(
        topic.id, "bavarde", "Bonjour ! Je suis Bavarde, de Magog, et je porte un projet de jardin."
    )
    world.remove_member("partie")
    clock.advance(days=5, minutes=1)
    ok("sync", "--full")
    ok("welcome")
    pms = [t for t in welcomes(sandbox) if t.is_private_message]
    assert [t.title for t in pms] == ["CdP 2isE : quelques portes d'entrée, silencieuse"]
    (pm,) = pms
    assert sorted(u.username for u in pm.allowed_users) == [STAFF_USERNAME, "silencieuse"]
    assert [g.name for g in pm.allowed_groups] == ["animation-2ise"]
    site, cards = sandbox.url, world.category("cartographie").id
    head, rest = first_raw(sandbox, pm).split("Des discussions actives en ce moment :\n")
    listed, tail = rest.split("\n\n", 1)
    # Her display name is copied, but mentions nobody and opens no BBCode.
    assert head == (
        "Bonjour Sœur @\u200beveryone \\[\u200bb\\]Lune\\[\u200b/b\\],\n\n"
        "Vous avez rejoint la CdP 2isE il y a quelques jours : voici quelques portes d'entrée, "
        "si le cœur vous en dit.\n\n"
    )
    lines = listed.splitlines()
    assert len(lines) == 3 and all(re.fullmatch(r"- \[.+\]\(http\S+/t/\S+/\d+\)", x) for x in lines)
    assert f"- [{topic.title}]({site}/t/{topic.slug}/{topic.id})" in lines
    assert tail == (
        f"La [boîte à outils]({site}/c/boite-a-outils/{world.category('boite-a-outils').id}) "
        "rassemble les outils partagés par les membres ; la "
        f"[cartographie]({site}/c/cartographie/{cards}) attend la fiche de votre organisation "
        f"([l'ajouter]({site}/new-topic?category_id={cards})).\n\n"
        "Une question ? Répondez simplement à ce message : l'équipe d'animation le lira."
    )
    clock.advance(days=7)
    ok("welcome")
    assert len([t for t in welcomes(sandbox) if t.is_private_message]) == 1


def test_a_member_who_rejoins_within_rejoin_days_is_not_welcomed_again(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0, follow_up_days: 0")
    first_pass(sandbox, clock)
    join(sandbox, clock, "yoyo")
    ok("sync")
    ok("welcome")
    assert len(welcomes(sandbox)) == 1
    clock.advance(days=20)
    sandbox.world.remove_member("yoyo")
    ok("sync", "--full")
    clock.advance(days=20)
    join(sandbox, clock, "yoyo")
    ok("sync", "--full")
    ok("welcome")
    assert len(welcomes(sandbox)) == 1
    # After rejoin_days, welcomed again, under a title of its own.
    sandbox.world.remove_member("yoyo")
    clock.advance(days=400)
    ok("sync", "--full")
    join(sandbox, clock, "yoyo")
    ok("sync", "--full")
    ok("welcome")
    assert len(welcomes(sandbox)) == 2


@pytest.mark.parametrize("where", ["after_response", "during_write"])
def test_a_crash_between_the_write_and_the_ledger_does_not_welcome_twice(
    workdir: Path, sandbox: Sandbox, clock: Clock, where: str
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0")
    first_pass(sandbox, clock)
    join(sandbox, clock, "fragile")
    ok("sync")
    if where == "after_response":

        def die(step: str, draft: Draft) -> None:
            if step == "after_response":
                raise Crash

        HOOK["hook"] = die
        with pytest.raises(Crash):
            bridge("welcome")
        HOOK.clear()
    else:
        sandbox.faults.crash_after_write = 1
        assert bridge("welcome").exit_code == 1
    assert len(welcomes(sandbox)) == 1
    result = ok("welcome")
    assert "retrouvé après une interruption" in result.output
    assert len(welcomes(sandbox)) == 1
    assert stored(workdir, "select state from welcome_members where state = 'welcomed'") == [
        ("welcomed",)
    ]


def test_dry_run_prints_the_texts_and_writes_nothing(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0")
    first_pass(sandbox, clock)
    join(sandbox, clock, "curieuse")
    ok("sync")
    before = (workdir / "data" / "bridge.db").read_bytes()
    sandbox.reset_requests()
    result = ok("welcome", "--dry-run")
    assert "Titre : Bienvenue à curieuse dans la CdP 2isE (21 avril 2025)" in result.output
    assert "Bonjour @curieuse, et bienvenue" in result.output
    assert sandbox.requests == []
    assert (workdir / "data" / "bridge.db").read_bytes() == before
    assert welcomes(sandbox) == []


def test_two_overlapping_runs_welcome_once(workdir: Path, sandbox: Sandbox, clock: Clock) -> None:
    # The service and a command typed by hand: the second starts while the first is writing.
    write_config(workdir, sandbox.url, "quiet_minutes: 0")
    first_pass(sandbox, clock)
    join(sandbox, clock, "pressee")
    ok("sync")
    config = load_config(workdir / "config.yaml")
    reports: dict[str, WelcomeReport] = {}
    second = threading.Thread(target=lambda: run("second"))

    def pause(step: str, draft: Draft) -> None:
        if step == "before_write" and not second.is_alive() and "second" not in reports:
            second.start()
            second.join(timeout=1.0)  # time for it to write, if nothing stops it

    def run(name: str) -> None:
        with Parts.build(config) as parts:
            reports[name] = run_welcome(parts, echo=lambda line: None)

    HOOK["hook"] = pause
    first = threading.Thread(target=lambda: run("first"))
    first.start()
    first.join(timeout=30)
    second.join(timeout=30)
    assert [reports["first"].welcomed, reports["second"].welcomed] == [1, 0]
    assert len(welcomes(sandbox)) == 1


def test_check_renders_the_welcome_templates_and_names_the_line(
    workdir: Path, sandbox: Sandbox
) -> None:
    templates = workdir / "templates"
    templates.mkdir()
    for template in (ROOT / "templates").glob("*.j2"):
        (templates / template.name).write_text(template.read_text(encoding="utf-8"))
    broken = templates / "welcome-collective.md.j2"
    lines = broken.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("- {{ m.username"))
    lines[number - 1] = lines[number - 1].replace("m.username", "m.pseudo")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = (workdir / "config.yaml").read_text(encoding="utf-8")
    (workdir / "config.yaml").write_text(
        config.replace(str(ROOT / "templates"), str(templates)), encoding="utf-8"
    )
    result = bridge("check")
    assert result.exit_code == 2
    [line] = [x for x in result.stderr.splitlines() if "welcome" in x]
    assert line.startswith(f"Erreur : {broken}, ligne {number}: ") and "pseudo" in line


def test_a_non_staff_account_is_refused_with_the_reason(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0")
    first_pass(sandbox, clock)
    join(sandbox, clock, "patiente")
    ok("sync")
    config = load_config(workdir / "config.yaml")
    client = DiscourseClient(
        sandbox.url, "mgagnon", sandbox.member_key("mgagnon"), requests_per_minute=0
    )
    with Parts.build(config) as parts:
        parts._client = client
        with pytest.raises(ConfigError) as info:
            run_welcome(parts, echo=lambda line: None)
    assert "l'accueil demande un compte modérateur" in str(info.value)
    assert welcomes(sandbox) == []
    # Nothing was lost: the newcomer is still waiting for a staff account's pass.
    assert len(ok("welcome").output) and len(welcomes(sandbox)) == 1


def test_a_follow_up_discourse_keeps_refusing_is_given_up_not_counted_as_sent(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    write_config(workdir, sandbox.url, "quiet_minutes: 0, follow_up_days: 7")
    first_pass(sandbox, clock)
    join(sandbox, clock, "silencieuse")
    ok("sync")
    ok("welcome")
    clock.advance(days=7, minutes=1)
    ok("sync")
    outputs = []
    for _ in range(3):  # the publisher tries a refused draft three times, one run each
        sandbox.faults.fail_paths["/posts.json"] = 422
        outputs.append(bridge("welcome").output)
    assert all("0 suivi(s)" in out for out in outputs), outputs
    # The next run gives it up (three refusals are enough), without a request, and says so.
    sandbox.reset_requests()
    gave_up = bridge("welcome").output
    assert "0 suivi(s)" in gave_up and "abandonné" in gave_up, gave_up
    assert [r for r in sandbox.requests if r[0] != "GET"] == []
    assert [t for t in welcomes(sandbox) if t.is_private_message] == []
    (state,) = [
        s for (s,) in stored(workdir, "select follow_up from welcome_members where follow_up != ''")
    ]
    assert state == "given_up"
    ok("welcome")  # given up: never tried again
    assert [t for t in welcomes(sandbox) if t.is_private_message] == []
