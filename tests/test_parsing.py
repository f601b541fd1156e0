"""Examples and properties for handlers.parsing: what members type, and what we make of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.core.parsing import (
    InvalidInput,
    clean_text,
    format_hours,
    normalize,
    parse_count,
    parse_date,
    parse_hours,
    require_not_future,
    require_not_past,
)

TODAY = date(2026, 11, 22)  # a Sunday
FAST = settings(max_examples=200, deadline=None)
TO_FULL_WIDTH = str.maketrans("0123456789./-", "０１２３４５６７８９．／－")


def assert_rejects(key: str, parse: Callable[..., object], *args: object, **kwargs: object) -> None:
    with pytest.raises(InvalidInput) as info:
        parse(*args, **kwargs)
    assert info.value.key == key


# --- InvalidInput and normalize ------------------------------------------------------------------


def test_invalid_input_carries_key_params_and_chinese_message() -> None:
    error = InvalidInput("input.hours_too_long", max="24")
    assert (error.key, error.params) == ("input.hours_too_long", {"max": "24"})
    assert error.message == t("input.hours_too_long", max="24") == str(error)
    assert "24" in str(error)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("１．５", "1.5"), ("  1.5   小时 ", "1.5 小时"), ("ＡＢＣ　ｄ", "ABC d"), ("a\n\tb", "a b"), ("", "")],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


# --- hours ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("1.5", 1.5),
        ("１．５", 1.5),
        ("1.5小时", 1.5),
        ("1.5h", 1.5),
        ("1.5 H", 1.5),
        ("1.5 hours", 1.5),
        ("一个半小时", 1.5),
        ("1个半小时", 1.5),
        ("两小时", 2.0),
        ("两个小时", 2.0),
        ("两个钟头", 2.0),
        ("半小时", 0.5),
        ("半个小时", 0.5),
        ("1小时半", 1.5),
        ("一个半", 1.5),
        ("90分钟", 1.5),
        ("90min", 1.5),
        ("90 分钟", 1.5),
        ("20分钟", 0.33),
        ("二十分钟", 0.33),
        ("1小时30分", 1.5),
        ("1小时30分钟", 1.5),
        ("1 小时 30 分", 1.5),
        ("1h30m", 1.5),
        ("一小时二十分钟", 1.33),
        ("一小时二十", 1.33),
        ("十小时", 10.0),
        ("十二小时", 12.0),
        ("1.5个小时", 1.5),
        ("一点五小时", 1.5),
        ("两", 2.0),
        (".5", 0.5),
        ("2.", 2.0),
        ("24", 24.0),
        ("0.01", 0.01),
    ],
)
def test_parse_hours_accepts(text: str, hours: float) -> None:
    assert parse_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "input.hours_invalid"),
        ("   ", "input.hours_invalid"),
        ("abc", "input.hours_invalid"),
        ("很多", "input.hours_invalid"),
        ("1.2.3", "input.hours_invalid"),
        ("两三个小时", "input.hours_invalid"),
        ("2-3小时", "input.hours_invalid"),
        ("半天", "input.hours_invalid"),
        ("三刻钟", "input.hours_invalid"),
        ("1.5个半小时", "input.hours_invalid"),
        ("个小时", "input.hours_invalid"),
        ("nan", "input.hours_invalid"),
        ("inf", "input.hours_invalid"),
        ("1e400", "input.hours_invalid"),
        ("-1", "input.hours_not_positive"),
        ("－１", "input.hours_not_positive"),
        ("负一小时", "input.hours_not_positive"),
        ("0", "input.hours_not_positive"),
        ("0分钟", "input.hours_not_positive"),
        ("0.001", "input.hours_not_positive"),
        ("24.01", "input.hours_too_long"),
        ("25小时", "input.hours_too_long"),
        ("9" * 400, "input.hours_too_long"),
    ],
)
def test_parse_hours_rejects(text: str, key: str) -> None:
    assert_rejects(key, parse_hours, text)


def test_parse_hours_max_is_configurable_and_named_in_message() -> None:
    assert parse_hours("30", max_hours=48) == 30.0
    with pytest.raises(InvalidInput) as info:
        parse_hours("5", max_hours=4.5)
    assert info.value.params == {"max": "4.5"}
    assert "4.5" in str(info.value)


@FAST
@given(
    hundredths=st.integers(min_value=1, max_value=2400),
    decimals=st.sampled_from([1, 2]),
    full_width=st.booleans(),
)
def test_parse_hours_round_trips_decimals(hundredths: int, decimals: int, full_width: bool) -> None:
    value = round(hundredths / 100, decimals)
    if value == 0:
        return
    text = f"{value:.{decimals}f}"
    assert parse_hours(text.translate(TO_FULL_WIDTH) if full_width else text) == value


@FAST
@given(st.text())
def test_parse_hours_raises_only_invalid_input(text: str) -> None:
    try:
        hours = parse_hours(text)
    except InvalidInput:
        return
    assert 0 < hours <= 24


@pytest.mark.parametrize(("hours", "shown"), [(1.5, "1.5"), (2.0, "2"), (0.33, "0.33"), (10.0, "10"), (0.5, "0.5")])
def test_format_hours(hours: float, shown: str) -> None:
    assert format_hours(hours) == shown


@FAST
@given(st.integers(min_value=1, max_value=2400))
def test_format_hours_round_trips_through_parse_hours(hundredths: int) -> None:
    assert parse_hours(format_hours(hundredths / 100)) == hundredths / 100


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prefer", "expected"),
    [
        ("今天", "past", date(2026, 11, 22)),
        ("今日", "past", date(2026, 11, 22)),
        ("昨天", "past", date(2026, 11, 21)),
        ("昨日", "past", date(2026, 11, 21)),
        ("前天", "past", date(2026, 11, 20)),
        ("大前天", "past", date(2026, 11, 19)),
        ("明天", "future", date(2026, 11, 23)),
        ("后天", "future", date(2026, 11, 24)),
        ("3天前", "past", date(2026, 11, 19)),
        ("三天前", "past", date(2026, 11, 19)),
        ("十天以前", "past", date(2026, 11, 12)),
        ("3天后", "future", date(2026, 11, 25)),
        # plain weekdays: the nearest one on the preferred side, today included
        ("周五", "past", date(2026, 11, 20)),
        ("星期五", "past", date(2026, 11, 20)),
        ("礼拜五", "past", date(2026, 11, 20)),
        ("周五", "future", date(2026, 11, 27)),
        ("周日", "past", date(2026, 11, 22)),
        ("星期天", "future", date(2026, 11, 22)),
        ("周一", "past", date(2026, 11, 16)),
        # weekdays of a named Monday–Sunday week
        ("上周五", "past", date(2026, 11, 13)),
        ("上星期五", "past", date(2026, 11, 13)),
        ("上个礼拜五", "past", date(2026, 11, 13)),
        ("本周一", "past", date(2026, 11, 16)),
        ("这周一", "future", date(2026, 11, 16)),
        ("这个星期六", "past", date(2026, 11, 21)),
        ("下周三", "future", date(2026, 11, 25)),
        ("下周三", "past", date(2026, 11, 25)),
        # month and day: the year that puts it on the preferred side
        ("11月9日", "past", date(2026, 11, 9)),
        ("11月9号", "past", date(2026, 11, 9)),
        ("11月9", "past", date(2026, 11, 9)),
        ("11.9", "past", date(2026, 11, 9)),
        ("11/9", "past", date(2026, 11, 9)),
        ("11-9", "past", date(2026, 11, 9)),
        ("１１月９日", "past", date(2026, 11, 9)),
        ("十一月九日", "past", date(2026, 11, 9)),
        ("十一月九号", "past", date(2026, 11, 9)),
        ("十二月二十五日", "past", date(2025, 12, 25)),
        ("12月25日", "future", date(2026, 12, 25)),
        ("11月9日", "future", date(2027, 11, 9)),
        ("11月22日", "future", date(2026, 11, 22)),
        ("11月22日", "past", date(2026, 11, 22)),
        ("2月29日", "past", date(2024, 2, 29)),
        ("2月29日", "future", date(2028, 2, 29)),
        # day of month: this month, else the adjacent month on the preferred side
        ("9日", "past", date(2026, 11, 9)),
        ("9号", "past", date(2026, 11, 9)),
        ("九号", "past", date(2026, 11, 9)),
        ("9号", "future", date(2026, 12, 9)),
        ("22号", "future", date(2026, 11, 22)),
        ("30号", "past", date(2026, 10, 30)),
        ("30号", "future", date(2026, 11, 30)),
        ("31号", "past", date(2026, 10, 31)),
        ("31号", "future", date(2026, 12, 31)),
        # with a year
        ("2023-11-09", "past", date(2023, 11, 9)),
        ("2023/11/9", "past", date(2023, 11, 9)),
        ("2023.11.9", "past", date(2023, 11, 9)),
        ("2023年11月9日", "past", date(2023, 11, 9)),
        ("2023年11月9号", "future", date(2023, 11, 9)),
        ("2023 年 11 月 9 日", "past", date(2023, 11, 9)),
        ("二〇二三年十一月九日", "past", date(2023, 11, 9)),
        ("20231109", "past", date(2023, 11, 9)),
        ("２０２３－１１－０９", "past", date(2023, 11, 9)),
        ("2030-01-01", "past", date(2030, 1, 1)),  # the future is the caller's business
        ("2000-01-01", "past", date(2000, 1, 1)),
        ("2100-12-31", "past", date(2100, 12, 31)),
    ],
)
def test_parse_date_accepts(text: str, prefer: str, expected: date) -> None:
    assert parse_date(text, today=TODAY, prefer=prefer) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "prefer", "expected"),
    [
        ("12月30日", "past", date(2025, 12, 30)),
        ("12月30日", "future", date(2026, 12, 30)),
        ("1月2日", "past", date(2026, 1, 2)),
        ("1月5日", "past", date(2025, 1, 5)),
        ("30号", "past", date(2025, 12, 30)),
        ("上周五", "past", date(2025, 12, 26)),
        ("5天前", "past", date(2025, 12, 29)),
    ],
)
def test_parse_date_around_new_year(text: str, prefer: str, expected: date) -> None:
    assert parse_date(text, today=date(2026, 1, 3), prefer=prefer) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "input.date_invalid"),
        ("abc", "input.date_invalid"),
        ("很久以前", "input.date_invalid"),
        ("上周", "input.date_invalid"),
        ("周八", "input.date_invalid"),
        ("1109", "input.date_invalid"),
        ("11月", "input.date_invalid"),
        ("23-11-09", "input.date_invalid"),
        ("2023-11/09", "input.date_invalid"),
        ("两三天前", "input.date_invalid"),
        ("2月30日", "input.date_impossible"),
        ("2023-13-01", "input.date_impossible"),
        ("2023-02-29", "input.date_impossible"),
        ("13/1", "input.date_impossible"),
        ("0号", "input.date_impossible"),
        ("32号", "input.date_impossible"),
        ("三十二日", "input.date_impossible"),
        ("1999-12-31", "input.date_year_range"),
        ("2101-01-01", "input.date_year_range"),
        ("1999年1月1日", "input.date_year_range"),
        ("999999天前", "input.date_year_range"),
    ],
)
def test_parse_date_rejects(text: str, key: str) -> None:
    assert_rejects(key, parse_date, text, today=TODAY)


def test_parse_date_month_day_outside_supported_years() -> None:
    assert_rejects("input.date_year_range", parse_date, "12月30日", today=date(2000, 1, 5))


def test_require_not_future() -> None:
    assert require_not_future(TODAY, today=TODAY) == TODAY
    assert require_not_future(date(2026, 11, 1), today=TODAY) == date(2026, 11, 1)
    with pytest.raises(InvalidInput) as info:
        require_not_future(date(2026, 11, 23), today=TODAY)
    assert info.value.key == "input.date_future"
    assert "2026-11-22" in str(info.value)


def test_require_not_past() -> None:
    assert require_not_past(TODAY, today=TODAY) == TODAY
    assert require_not_past(date(2026, 12, 1), today=TODAY) == date(2026, 12, 1)
    with pytest.raises(InvalidInput) as info:
        require_not_past(date(2026, 11, 21), today=TODAY)
    assert info.value.key == "input.date_past"
    assert "2026-11-22" in str(info.value)


SUPPORTED_DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@FAST
@given(day=SUPPORTED_DATES, today=SUPPORTED_DATES)
def test_parse_date_round_trips_written_dates(day: date, today: date) -> None:
    for text in (
        day.strftime("%Y-%m-%d"),
        day.strftime("%Y/%m/%d"),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}-{day.month}-{day.day}",
        day.strftime("%Y年%m月%d日"),
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        day.strftime("%Y-%m-%d").translate(TO_FULL_WIDTH),
    ):
        assert parse_date(text, today=today) == day, text


@FAST
@given(text=st.text(), today=SUPPORTED_DATES, prefer=st.sampled_from(["past", "future"]))
def test_parse_date_raises_only_invalid_input(text: str, today: date, prefer: str) -> None:
    try:
        parse_date(text, today=today, prefer=prefer)  # type: ignore[arg-type]
    except InvalidInput:
        pass


@FAST
@given(
    suffix=st.sampled_from(["日", "号"]),
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    today=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)),
)
def test_parse_date_without_year_lands_on_preferred_side(suffix: str, month: int, day: int, today: date) -> None:
    for text in (f"{month}月{day}{suffix}", f"{day}{suffix}"):
        try:
            past = parse_date(text, today=today, prefer="past")
            future = parse_date(text, today=today, prefer="future")
        except InvalidInput as error:
            assert error.key == "input.date_impossible"
            continue
        assert past <= today <= future
        assert past.day == future.day == day


# --- counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("3", 3),
        ("３", 3),
        ("三", 3),
        ("3个", 3),
        ("三个", 3),
        ("两个", 2),
        ("3次", 3),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("一百五", 150),
        ("一千", 1000),
        ("0", 0),
        ("零", 0),
        ("没有", 0),
        ("无", 0),
        (" 3 个 ", 3),
        ("007", 7),
    ],
)
def test_parse_count_accepts(text: str, count: int) -> None:
    assert parse_count(text) == count


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "input.count_invalid"),
        ("abc", "input.count_invalid"),
        ("很多", "input.count_invalid"),
        ("两三个", "input.count_invalid"),
        ("3-4", "input.count_invalid"),
        ("1e3", "input.count_invalid"),
        ("-1", "input.count_negative"),
        ("负三", "input.count_negative"),
        ("1.5", "input.count_not_integer"),
        ("2.0个", "input.count_not_integer"),
        ("1001", "input.count_too_large"),
        ("一千零一", "input.count_too_large"),
        ("9" * 5000, "input.count_too_large"),
    ],
)
def test_parse_count_rejects(text: str, key: str) -> None:
    assert_rejects(key, parse_count, text)


def test_parse_count_max_is_configurable() -> None:
    assert parse_count("20", max_value=20) == 20
    assert_rejects("input.count_too_large", parse_count, "21", max_value=20)


@FAST
@given(st.integers(min_value=0, max_value=1000), st.booleans())
def test_parse_count_round_trips_numbers(value: int, full_width: bool) -> None:
    text = str(value)
    assert parse_count(text.translate(TO_FULL_WIDTH) if full_width else text) == value


@FAST
@given(st.text())
def test_parse_count_raises_only_invalid_input(text: str) -> None:
    try:
        value = parse_count(text)
    except InvalidInput:
        return
    assert 0 <= value <= 1000


# --- free text ------------------------------------------------------------------------------------


def test_clean_text_strips_and_keeps_inner_newlines() -> None:
    assert clean_text("  学习了党章，\n做了笔记。 \n", max_len=100, field="学习内容") == "学习了党章，\n做了笔记。"


def test_clean_text_counts_characters_not_bytes() -> None:
    assert clean_text("学" * 10, max_len=10, field="学习内容") == "学" * 10


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t", "\u200b", "\ufeff \u3000"])
def test_clean_text_rejects_empty_naming_the_field(text: str | None) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_text(text, max_len=10, field="学习内容")
    assert info.value.key == "input.empty"
    assert "学习内容" in str(info.value)


def test_clean_text_rejects_too_long_with_lengths() -> None:
    with pytest.raises(InvalidInput) as info:
        clean_text("学" * 11, max_len=10, field="学习内容")
    assert info.value.key == "input.too_long"
    assert info.value.params == {"field": "学习内容", "max_len": 10, "length": 11}
    assert "学习内容" in str(info.value) and "10" in str(info.value) and "11" in str(info.value)


@FAST
@given(text=st.one_of(st.none(), st.text()), max_len=st.integers(min_value=1, max_value=20))
def test_clean_text_result_is_never_empty_or_too_long(text: str | None, max_len: int) -> None:
    try:
        cleaned = clean_text(text, max_len=max_len, field="内容")
    except InvalidInput as error:
        assert error.key in ("input.empty", "input.too_long")
        return
    assert 0 < len(cleaned) <= max_len
    assert cleaned.strip()


def test_a_day_no_year_in_range_has_is_impossible_not_out_of_range() -> None:
    """Found by hypothesis: from 2096-03-01 the next 2月29日 would be in 2104."""
    for text in ("2月29日", "2月29号"):
        with pytest.raises(InvalidInput) as refused:
            parse_date(text, today=date(2096, 3, 1), prefer="future")
        assert refused.value.key == "input.date_impossible"
    assert parse_date("2月29日", today=date(2096, 3, 1), prefer="past") == date(2096, 2, 29)
    with pytest.raises(InvalidInput) as refused:  # a real day, past the supported years
        parse_date("3月1日", today=date(2100, 6, 1), prefer="future")
    assert refused.value.key == "input.date_year_range"


@pytest.mark.parametrize("text", ["²", "1²", "①", "½", "²小时", "三²"])
def test_other_number_signs_are_not_digits(text: str) -> None:
    """A superscript or circled digit is not read as one ("1²" is not 12 hours)."""
    for parse in (parse_hours, parse_count):
        with pytest.raises(InvalidInput):
            parse(text)
    with pytest.raises(InvalidInput):
        parse_date(f"11月{text}日", today=date(2024, 1, 1))
