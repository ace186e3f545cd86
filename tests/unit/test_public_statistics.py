"""Property tests of the statistics release: no small cell published, no suppressed cell recoverable."""

from hypothesis import given, settings
from hypothesis import strategies as st

from services.monitoring.domain.statistics import OTHER, THRESHOLD, Cell, recoverable_cells, release, rounded

COLUMNS = ["2026-07", "2026-08", "2026-09"]


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[Cell, int], list[str], list[str]]:
    rows = [f"row-{number}" for number in range(draw(st.integers(min_value=1, max_value=7)))]
    columns = COLUMNS[: draw(st.integers(min_value=1, max_value=3))]
    counts = st.one_of(st.integers(min_value=0, max_value=25), st.integers(min_value=0, max_value=400))
    return {(row, column): draw(counts) for row in rows for column in columns}, rows, columns


def merged(counts: dict[Cell, int], grouped: list[str]) -> dict[Cell, int]:
    result: dict[Cell, int] = {}
    for (row, column), value in counts.items():
        key = (OTHER if row in grouped else row, column)
        result[key] = result.get(key, 0) + value
    return result


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_published_cell_or_total_is_under_the_threshold(
    table: tuple[dict[Cell, int], list[str], list[str]],
) -> None:
    published = release(*table)
    values = [*published.cells.values(), *published.row_totals.values(), *published.column_totals.values(),
              published.grand_total]  # fmt: skip
    assert all(value is None or value >= THRESHOLD for value in values)
    assert all(value is None or value % 5 == 0 for value in values)


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_suppressed_cell_can_be_worked_out_from_the_published_margins(
    table: tuple[dict[Cell, int], list[str], list[str]],
) -> None:
    counts, rows, columns = table
    published = release(counts, rows, columns)
    truth = merged(counts, published.grouped_as_other)
    truth = {
        (row, column): truth.get((row, column), 0) for row in published.rows for column in published.columns
    }
    assert recoverable_cells(published, truth) == []


def test_a_lone_small_cell_in_a_row_gets_a_complementary_suppression() -> None:
    counts = {("QC", "2026-07"): 5, ("QC", "2026-08"): 40, ("QC", "2026-09"): 50,
              ("ON", "2026-07"): 60, ("ON", "2026-08"): 70, ("ON", "2026-09"): 80}  # fmt: skip
    published = release(counts, ["QC", "ON"], COLUMNS)
    kinds = {suppression.cell: suppression.kind for suppression in published.suppressions}
    assert kinds[("QC", "2026-07")] == "primary"
    assert "complementary" in kinds.values()
    assert published.row_totals["QC"] == 95


def test_rare_categories_are_grouped_as_other() -> None:
    counts = {("labour", "2026-07"): 120, ("organ_removal", "2026-07"): 2, ("forced_marriage", "2026-07"): 3}
    published = release(counts, ["labour", "organ_removal", "forced_marriage"], ["2026-07"])
    assert published.rows == ["labour", OTHER]
    assert sorted(published.grouped_as_other) == ["forced_marriage", "organ_removal"]


def test_counts_are_rounded_to_base_five() -> None:
    assert [rounded(n) for n in (20, 22, 23, 27, 28)] == [20, 20, 25, 25, 30]
