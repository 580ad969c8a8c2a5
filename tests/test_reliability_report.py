"""The README's reliability table is the one the catalogue makes (tests/reliability.py)."""

from __future__ import annotations

from pathlib import Path

from reliability import CATALOGUE, README_END, README_START, readme_copy, table

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_holds_the_catalogues_table() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_START in text and README_END in text, "README.md : marqueurs du rapport absents"
    assert readme_copy(text) == table(), (
        "README.md : le tableau du rapport de fiabilité diffère du catalogue ; "
        "régénérez-le avec `cd tests && python -m reliability`"
    )


def test_the_table_has_one_row_per_case_and_nothing_lost_or_doubled() -> None:
    rows = table().splitlines()[2:]
    assert len(rows) == len(CATALOGUE)
    assert all(row.endswith("| rien |") for row in rows)
    assert table({"mix-sync": "réussi"}).splitlines()[2].endswith("| rien | réussi |")
