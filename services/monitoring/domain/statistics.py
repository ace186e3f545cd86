"""Public statistics that identify nobody: small cells suppressed, suppressions protected, counts rounded.

For each two-way table (a category by month):
1. rare categories (a total under the threshold) are grouped as ``other``;
2. every cell under the threshold is suppressed (primary suppression), zeros included;
3. more cells are suppressed (complementary suppression) until no suppressed cell can be worked
   out exactly from the published cells and totals: each is checked against the linear system that
   the published row, column and grand totals form;
4. a total under the threshold is suppressed too;
5. what is published is rounded to base 5; a suppression report says what was withheld and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

THRESHOLD = 20
BASE = 5
OTHER = "other"
Cell = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Suppression:
    cell: Cell
    kind: str  # "primary" (under the threshold) or "complementary" (protects another)


@dataclass
class PublishedTable:
    rows: list[str]
    columns: list[str]
    cells: dict[Cell, int | None]  # None: suppressed
    row_totals: dict[str, int | None]
    column_totals: dict[str, int | None]
    grand_total: int | None
    grouped_as_other: list[str] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)


def rounded(count: int, base: int = BASE) -> int:
    """To the nearest multiple of ``base``, halves up."""
    return int((count + base // 2) // base * base)


def release(
    counts: dict[Cell, int], rows: list[str], columns: list[str], threshold: int = THRESHOLD
) -> PublishedTable:
    """Make a table safe to publish; see the module's steps."""
    rows, counts, grouped = _group_rare(rows, columns, counts, threshold)
    full = {(row, column): counts.get((row, column), 0) for row in rows for column in columns}
    suppressed: dict[Cell, str] = {cell: "primary" for cell, value in full.items() if value < threshold}
    row_totals = {row: sum(full[(row, column)] for column in columns) for row in rows}
    column_totals = {column: sum(full[(row, column)] for row in rows) for column in columns}
    grand = sum(full.values())
    hidden_rows = {row for row, total in row_totals.items() if total < threshold}
    hidden_columns = {column for column, total in column_totals.items() if total < threshold}
    hide_grand = grand < threshold
    while True:
        exposed = _first_recoverable(
            full, rows, columns, set(suppressed), hidden_rows, hidden_columns, hide_grand
        )
        if exposed is None:
            break
        complement = _complement_for(exposed, full, rows, columns, suppressed)
        if complement is None:  # nothing left to hide beside it: withhold its totals instead
            hidden_rows.add(exposed[0])
            hidden_columns.add(exposed[1])
            hide_grand = True
            continue
        suppressed[complement] = "complementary"
    return PublishedTable(
        rows=rows, columns=columns,
        cells={cell: None if cell in suppressed else rounded(value) for cell, value in full.items()},
        row_totals={row: None if row in hidden_rows else rounded(total) for row, total in row_totals.items()},
        column_totals={c: None if c in hidden_columns else rounded(total) for c, total in column_totals.items()},
        grand_total=None if hide_grand else rounded(grand), grouped_as_other=grouped,
        suppressions=[Suppression(cell, kind) for cell, kind in sorted(suppressed.items())],
    )  # fmt: skip


def _group_rare(
    rows: list[str], columns: list[str], counts: dict[Cell, int], threshold: int
) -> tuple[list[str], dict[Cell, int], list[str]]:
    totals = {row: sum(counts.get((row, column), 0) for column in columns) for row in rows}
    rare = [row for row in rows if totals[row] < threshold and row != OTHER]
    if len(rare) < 2 and not (rare and OTHER in rows):
        return rows, counts, []
    kept = [row for row in rows if row not in rare and row != OTHER] + [OTHER]
    merged: dict[Cell, int] = {}
    for (row, column), value in counts.items():
        target = OTHER if row in rare or row == OTHER else row
        merged[(target, column)] = merged.get((target, column), 0) + value
    return kept, merged, rare


def _complement_for(
    exposed: Cell, full: dict[Cell, int], rows: list[str], columns: list[str], suppressed: dict[Cell, str]
) -> Cell | None:
    """The published cell whose suppression best protects ``exposed``: in its row or column, the
    smallest count, preferring one that shares a line with other suppressions.
    """
    row, column = exposed
    candidates = [(row, other) for other in columns if other != column] + [
        (other, column) for other in rows if other != row
    ]
    open_cells = [cell for cell in candidates if cell not in suppressed]
    if not open_cells:
        return None

    def cost(cell: Cell) -> tuple[int, int]:
        shared = sum(1 for other in suppressed if other[0] == cell[0] or other[1] == cell[1])
        return full[cell], -shared

    return min(open_cells, key=cost)


def _first_recoverable(
    full: dict[Cell, int],
    rows: list[str],
    columns: list[str],
    suppressed: set[Cell],
    hidden_rows: set[str],
    hidden_columns: set[str],
    hide_grand: bool,
) -> Cell | None:
    """A suppressed cell that the published totals determine exactly, if there is one."""
    unknowns = sorted(suppressed)
    if not unknowns:
        return None
    equations = [[1 if cell[0] == row else 0 for cell in unknowns] for row in rows if row not in hidden_rows]
    equations += [
        [1 if cell[1] == column else 0 for cell in unknowns]
        for column in columns
        if column not in hidden_columns
    ]
    if not hide_grand:
        equations.append([1] * len(unknowns))
    equations = [equation for equation in equations if any(equation)]
    if not equations:
        return None
    rank = _rank(equations)
    for index, cell in enumerate(unknowns):
        probe = [1 if position == index else 0 for position in range(len(unknowns))]
        if _rank([*equations, probe]) == rank:
            return cell
    return None


def recoverable_cells(table: PublishedTable, true_counts: dict[Cell, int]) -> list[Cell]:
    """Every suppressed cell that the published totals of ``table`` pin down exactly (for tests)."""
    suppressed = {cell for cell, value in table.cells.items() if value is None}
    hidden_rows = {row for row, value in table.row_totals.items() if value is None}
    hidden_columns = {column for column, value in table.column_totals.items() if value is None}
    found: list[Cell] = []
    remaining = set(suppressed)
    while True:
        cell = _first_recoverable(
            true_counts,
            table.rows,
            table.columns,
            remaining,
            hidden_rows,
            hidden_columns,
            table.grand_total is None,
        )
        if cell is None or cell not in remaining:
            return found
        found.append(cell)
        remaining.discard(cell)


def _rank(matrix: list[list[int]]) -> int:
    """The rank of an integer matrix, by exact Gaussian elimination."""
    rows = [[Fraction(value) for value in row] for row in matrix]
    rank, width = 0, len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((index for index in range(rank, len(rows)) if rows[index][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for index in range(len(rows)):
            if index != rank and rows[index][column] != 0:
                factor = rows[index][column] / rows[rank][column]
                rows[index] = [a - factor * b for a, b in zip(rows[index], rows[rank], strict=True)]
        rank += 1
    return rank
