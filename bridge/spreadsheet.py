"""The toolbox and the cartography as a real spreadsheet (XLSX, through openpyxl).

French headings in bold and frozen, dates as dates (local time: a spreadsheet has no time
zones), links clickable, columns as wide as what they hold (within reason), and members' text
that starts like a formula kept as text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_LINK_COLUMNS = {"url", "website"}
_MAX_WIDTH = 60


def to_xlsx(title: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> bytes:
    """`columns` are (key, heading) pairs; each row holds one value per column: text, numbers,
    or naive local datetimes."""
    book = Workbook()
    sheet = book.active
    if sheet is None:  # a new Workbook always has one sheet; openpyxl types it optional
        sheet = book.create_sheet()
    sheet.title = title
    sheet.append([heading for _, heading in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [len(heading) for _, heading in columns]
    for number, row in enumerate(rows, start=2):
        for index, ((key, _), value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = sheet.cell(row=number, column=index)
            cell.value = value
            if isinstance(value, str):
                # openpyxl would store « =HYPERLINK(…) » as a formula.
                cell.data_type = "s"
                if key in _LINK_COLUMNS and value.startswith(("http://", "https://")):
                    cell.hyperlink = value
                    cell.style = "Hyperlink"
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            shown = 16 if isinstance(value, datetime) else len(str(value or ""))
            widths[index - 1] = max(widths[index - 1], min(shown, _MAX_WIDTH))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
