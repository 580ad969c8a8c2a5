"""The announcement key format: what `format` writes, `parse_step` reads back, and no more."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.announce.keys import StepKey, StepRole, job_of, parse_step, steps_of, topic_key

ONE_OFF = "announce:webinaire-2025-04-17"
SERIES = "announce:5-a-7:2025-05-01"

# Every form written to ledgers so far, with what it means.
WRITTEN = [
    (ONE_OFF, StepKey(ONE_OFF, StepRole.TOPIC)),
    (f"{ONE_OFF}:epingle:2025-04-18", StepKey(ONE_OFF, StepRole.PIN, "2025-04-18")),
    (f"{ONE_OFF}:desepingle", StepKey(ONE_OFF, StepRole.UNPIN)),
    (f"{ONE_OFF}:rappel-7j", StepKey(ONE_OFF, StepRole.REMINDER, "7j")),
    (f"{ONE_OFF}:rappel-20250514-0900", StepKey(ONE_OFF, StepRole.REMINDER, "20250514-0900")),
    (f"{ONE_OFF}:modif:2:1af93491", StepKey(ONE_OFF, StepRole.EDIT, "1af93491", 2)),
    (
        f"{ONE_OFF}:changement:1:2025-04-17T13:00",
        StepKey(ONE_OFF, StepRole.CHANGE, "2025-04-17T13:00", 1),
    ),
    (f"{ONE_OFF}:annulation", StepKey(ONE_OFF, StepRole.CANCEL)),
    (f"{SERIES}:epingle:2025-05-02", StepKey(SERIES, StepRole.PIN, "2025-05-02")),
]
# Forms older versions wrote, still read.
LEGACY = [
    (f"{ONE_OFF}:epingle", StepKey(ONE_OFF, StepRole.PIN)),
    (f"{ONE_OFF}:modif:1af93491", StepKey(ONE_OFF, StepRole.EDIT, "1af93491")),
]


@pytest.mark.parametrize(("key", "step"), WRITTEN + LEGACY)
def test_each_key_reads_as_its_step_and_writes_back_the_same(key: str, step: StepKey) -> None:
    assert parse_step(step.topic, key) == step
    assert step.format() == key


def test_topic_keys() -> None:
    assert topic_key("webinaire-2025-04-17") == ONE_OFF
    assert topic_key("5-a-7", "2025-05-01") == SERIES
    assert job_of(ONE_OFF) == "webinaire-2025-04-17"
    assert job_of(f"{SERIES}:rappel-2h") == "5-a-7"
    assert job_of("digest:2025-W16") is None


@pytest.mark.parametrize(
    "key",
    [
        "announce:5-a-7:2025-06-05",  # another date of the series: another topic
        "announce:5-a-7:2025-06-05:rappel-2h",
        "announce:5-a-7",  # the series' own name is no topic of this date
        "digest:2025-W16",
        f"{SERIES}x:rappel-2h",
        f"{SERIES}:rappel-",
        f"{SERIES}:desepingle:2025-05-02",
        f"{SERIES}:inconnu",
    ],
)
def test_keys_of_other_topics_or_forms_are_not_this_topics(key: str) -> None:
    assert parse_step(SERIES, key) is None


def test_an_unreadable_revision_is_said_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bridge.announce.keys"):
        assert parse_step(SERIES, f"{SERIES}:modif:deux:") is None
    assert caplog.messages == [
        f"clé d'annonce illisible dans le registre, ignorée : {SERIES}:modif:deux:"
    ]


def test_steps_of_keeps_the_topics_own() -> None:
    done = [key for key, _ in WRITTEN] + ["digest:2025-W16"]
    assert [s.role for s in steps_of(SERIES, done)] == [StepRole.PIN]
    assert len(steps_of(ONE_OFF, done)) == len(WRITTEN) - 1


_LABEL = st.from_regex(r"[0-9]{1,3}(j|h|min)", fullmatch=True)
_TAG = st.from_regex(r"[0-9a-f]{8}|2025-0[1-9]-[0-2][0-9]T[0-2][0-9]:[0-5][0-9]", fullmatch=True)
_JOB = st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True)


@given(
    job=_JOB,
    date=st.sampled_from(["", "2025-05-01", "2026-12-31"]),
    role=st.sampled_from(list(StepRole)),
    label=_LABEL,
    tag=_TAG,
    revision=st.integers(min_value=1, max_value=999),
)
def test_format_then_parse_is_the_identity(
    job: str, date: str, role: StepRole, label: str, tag: str, revision: int
) -> None:
    topic = topic_key(job, date)
    if role is StepRole.REMINDER:
        step = StepKey(topic, role, label)
    elif role in (StepRole.EDIT, StepRole.CHANGE):
        step = StepKey(topic, role, tag, revision)
    elif role is StepRole.PIN:
        step = StepKey(topic, role, "2025-05-02")
    else:
        step = StepKey(topic, role)
    key = step.format()
    assert parse_step(topic, key) == step
    assert job_of(key) == job
