"""A dashboard table: shown as HTML and exported as CSV from the same rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

Cell = str | int

#: A cell starting with one of these is read as a formula by spreadsheet programs;
#: the unanswered questions are user text, so they could carry one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """One table of the dashboard. ``name`` is also its CSV file's name."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]

    def csv(self) -> str:
        """The table as CSV text (header row first), safe to open in a spreadsheet.

        It starts with a byte-order mark: without one, Excel reads UTF-8 as Latin-1
        and "Organización" arrives garbled.
        """
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.headers)
        for row in self.rows:
            writer.writerow([_inert(cell) for cell in row])
        return buffer.getvalue()


def _inert(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
