import pytest
from hypothesis import given
from hypothesis import strategies as st
from sodan_reporting.monthly import staff_label
from sodan_reporting.suppression import suppress


def _shown(rows: list[tuple[str, int]], threshold: int = 3) -> dict[str, str]:
    table = suppress(rows, total=sum(v for _, v in rows), threshold=threshold)
    return {c.label: c.display(threshold) for c in table.cells} | {
        "合計": table.total_display(threshold)
    }


def test_small_cells_show_as_below_threshold_and_zero_stays_zero() -> None:
    assert _shown([("北勢", 5), ("中勢", 1), ("伊賀", 2), ("東紀州", 0)]) == {
        "北勢": "5",
        "中勢": "3未満",
        "伊賀": "3未満",
        "東紀州": "0",
        "合計": "8",
    }


def test_one_hidden_cell_hides_the_smallest_other_so_subtraction_gives_nothing() -> None:
    # 9 - 4 - 3 would give back 伊賀's 2 if it were the only hidden cell
    assert _shown([("北勢", 4), ("中勢", 3), ("伊賀", 2)]) == {
        "北勢": "4",
        "中勢": "3未満",
        "伊賀": "3未満",
        "合計": "9",
    }


def test_one_small_cell_among_zeros_hides_a_zero_too() -> None:
    assert _shown([("20代", 2), ("30代", 0), ("未回答", 0)]) == {
        "20代": "3未満",
        "30代": "0",
        "未回答": "3未満",
        "合計": "2",
    }


def test_a_one_row_table_hides_its_total() -> None:
    assert _shown([("20代", 1)]) == {"20代": "3未満", "合計": "3未満"}


def test_threshold_is_a_setting() -> None:
    assert _shown([("a", 4), ("b", 9)], threshold=5) == {
        "a": "5未満",
        "b": "5未満",
        "合計": "13",
    }
    assert _shown([("a", 1), ("b", 2)], threshold=1) == {"a": "1", "b": "2", "合計": "3"}


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        suppress([("a", 1)], total=1, threshold=0)
    with pytest.raises(ValueError, match="negative"):
        suppress([("a", -1)], total=1)


@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=8))
def test_no_small_cell_is_ever_recoverable_from_the_total(values: list[int]) -> None:
    rows = [(str(i), v) for i, v in enumerate(values)]
    table = suppress(rows, total=sum(values))
    hidden = [c for c in table.cells if c.suppressed]
    assert all(c.suppressed for c in table.cells if 0 < c.value < 3)
    # never exactly one hidden cell next to a shown total
    assert len(hidden) != 1 or table.total_suppressed


def test_counsellors_are_lettered() -> None:
    assert [staff_label(i) for i in (0, 1, 25, 26, 27)] == [
        "相談員A",
        "相談員B",
        "相談員Z",
        "相談員AA",
        "相談員AB",
    ]


def test_free_text_labels_seen_fewer_than_threshold_times_merge_into_other() -> None:
    from collections import Counter

    from sodan_reporting.monthly import _ordered

    counter = Counter({"家族": 5, "佐藤さんのこと": 1, "職場": 2, "未回答": 4})
    assert _ordered(counter, (), merge_below=3) == [("家族", 5), ("その他", 3), ("未回答", 4)]
    assert _ordered(Counter({"20代": 1}), ("20代", "30代"), merge_below=3) == [
        ("20代", 1),
        ("30代", 0),
        ("未回答", 0),
    ]
