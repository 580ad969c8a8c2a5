"""The pieces that read members' cards never fail on what members write, and read in linear time.

`parse_card` and `parse_toolbox` as a whole: `tests/test_entries.py::test_member_content_never_
raises` (1,000 cases). Here, each piece alone on 1,000 messy posts (derandomized: CI sees the
same cases every run): HTML turned to Markdown, labelled fields, prose cut from greetings and
signatures, territories and coordinates. Then linearity: `benchmarks/bench_parsers.py` measured
at a small size, every shape of content at n, 2n and 4n.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import card_text, hostile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import HOSTILE, Case, cases

from bridge.cardhtml import html_as_markdown
from bridge.cardprose import description_text
from bridge.cardtext import Labels, plain_text, read_fields
from bridge.config import DEFAULT_CARD_LABELS, DEFAULT_EXTRA_CARD_LABELS
from bridge.territories import (
    find_territories,
    in_estrie,
    load_territories,
    names_whole_region,
    parse_coordinates,
)

ROOT = Path(__file__).resolve().parents[1]
CASES = settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MESSY = st.one_of(card_text, hostile)
LABELS = Labels(DEFAULT_CARD_LABELS, DEFAULT_EXTRA_CARD_LABELS)
TERRITORIES = load_territories()


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-fields"))
@pytest.mark.slow
@CASES
@given(raw=MESSY)
def test_reading_fields_never_fails(case: Case, raw: str) -> None:
    markdown = html_as_markdown(raw)
    assert isinstance(markdown, str)
    reading = read_fields(raw, LABELS)
    for field in reading.fields:
        assert all(isinstance(t, str) for t in field.texts)
    assert isinstance(plain_text(raw), str)


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-description"))
@pytest.mark.slow
@CASES
@given(raw=MESSY, names=st.lists(st.one_of(st.text(max_size=12), hostile), max_size=3))
def test_description_never_fails(case: Case, raw: str, names: list[str]) -> None:
    text = description_text(raw, names)
    assert isinstance(text, str) and len(text) <= len(raw) + 1


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-territories"))
@pytest.mark.slow
@CASES
@given(raw=MESSY)
def test_territories_and_coordinates_never_fail(case: Case, raw: str) -> None:
    found = find_territories(raw, TERRITORIES)
    assert set(found) <= set(TERRITORIES)
    assert isinstance(names_whole_region(raw), bool)
    position = parse_coordinates(raw)
    if position is not None:
        latitude, longitude = position
        assert -90 <= latitude <= 90 and -180 <= longitude <= 180
        assert isinstance(in_estrie(latitude, longitude), bool)
