"""Turn what members type on their phones into hours, dates, counts and clean text.

Pure functions: no I/O, no platform imports. Anything that cannot be read raises
:class:`InvalidInput`, whose text (from the catalogue) says what *is* accepted, so a dialog can
send ``error.text(ctx.t)`` straight back to the user and ask again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Literal

from handlers.core.i18n import DEFAULT_TEXTS, Translator

MIN_YEAR = 2000
MAX_YEAR = 2100
_MIN_DATE = date(MIN_YEAR, 1, 1)
_MAX_DATE = date(MAX_YEAR, 12, 31)

_MINUS_SIGNS = ("-", "−", "负")  # NFKC maps the full-width "－" to "-", but leaves U+2212 alone


class InvalidInput(ValueError):
    """Raised with a catalogue key and params. ``text(t)`` is the user-facing message in the
    user's language; ``str(e)`` (``message``) the same in the default one, for logs."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        self.message = DEFAULT_TEXTS(key, **params)
        super().__init__(self.message)

    def text(self, t: Translator) -> str:
        return t(self.key, **self.params)


def normalize(text: str) -> str:
    """NFKC (full-width digits, letters and punctuation become ASCII), strip, collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _compact(text: str) -> str:
    """Normalized, lower-cased and without any spaces: "1 小时 30 分" reads like "1小时30分".

    Full-width digits read as digits, but superscript, subscript, circled and fraction digits
    (Unicode "other numbers": ², ①, ½) do not: "1²" is not 12. Such a text is left as it is, so
    no pattern reads it.
    """
    normalized = normalize(text)
    if normalized != text and any(unicodedata.category(c) in _OTHER_NUMBERS and c not in _CN_ZEROS
                                  for c in text):
        return text
    return normalized.replace(" ", "").lower()


_OTHER_NUMBERS = frozenset(("No", "Nl"))


# --- Chinese numerals -------------------------------------------------------------------------

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_ZEROS = "零〇"
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "[零〇一二两三四五六七八九十百千]+"


def _cn_int(text: str) -> int | None:
    """Read a Chinese numeral from 零 to 9999 ("十二", "二十", "一百零五"); None if malformed.

    Two digits in a row ("两三", a range) are rejected. A last digit right after 百/千 is the
    colloquial shorthand for the next unit down ("一百五" = 150, "两千三" = 2300).
    """
    if len(text) == 1 and text in _CN_ZEROS:
        return 0
    total = 0
    digit: int | None = None
    last_unit = 10_000
    after_zero = False
    for char in text:
        if char in _CN_DIGITS:
            if digit is not None:
                return None
            digit = _CN_DIGITS[char]
        elif char in _CN_ZEROS:
            if digit is not None or total == 0 or after_zero:
                return None
            after_zero = True
        elif char in _CN_UNITS:
            unit = _CN_UNITS[char]
            if unit >= last_unit:
                return None
            if digit is None:
                if total or unit != 10:  # only a leading 十 may drop its 一
                    return None
                digit = 1
            total += digit * unit
            digit, last_unit, after_zero = None, unit, False
        else:
            return None
    if digit is None:
        return None if after_zero else total
    if after_zero or last_unit <= 10 or total == 0:
        return total + digit
    return total + digit * last_unit // 10


def _int_value(text: str) -> int | None:
    """ASCII digits or a Chinese numeral as an int; None if unreadable."""
    return int(text) if text.isascii() else _cn_int(text)


# --- hours --------------------------------------------------------------------------------------

_CN_DECIMAL_DIGITS = {"零": "0", "〇": "0", **{k: str(v) for k, v in _CN_DIGITS.items() if k != "两"}}
_NUM = rf"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+|{_CN_NUM}(?:点[零〇一二三四五六七八九]+)?)"
_HOUR_UNIT = "(?:小时|钟头|hours|hour|hrs|hr|h)"
_MINUTE_UNIT = "(?:分钟|分|minutes|minute|mins|min|m)"
_DURATION_PATTERNS = (
    # "1.5小时", "两个小时", "一个半小时", "半小时", "1小时30分", "一小时二十", "1小时半", "1h30m"
    re.compile(
        rf"(?:(?P<h>{_NUM})个?(?P<h_half>半)?|(?P<half>半)个?){_HOUR_UNIT}"
        rf"(?:(?P<tail_half>半)|(?P<m>{_NUM}){_MINUTE_UNIT}?)?"
    ),
    re.compile(rf"(?P<m>{_NUM}){_MINUTE_UNIT}"),  # "90分钟", "二十分钟", "90min"
    re.compile(rf"(?P<h>{_NUM})(?:个(?P<h_half>半))?"),  # bare number of hours: "1.5", "两", "一个半"
)


def _number(text: str) -> float | None:
    """A float from "1.5", ".5", "2.", "十二" or "一点五"; None if the Chinese numeral is malformed."""
    if not text.startswith(tuple("0123456789.")):
        whole, _, fraction = text.partition("点")
        integer = _cn_int(whole)
        if integer is None:
            return None
        text = f"{integer}.{''.join(_CN_DECIMAL_DIGITS[c] for c in fraction)}"
    return float(text)


def _duration_hours(text: str) -> float | None:
    """The unrounded number of hours ``text`` (compacted) describes; None if it is no duration."""
    match = next((m for p in _DURATION_PATTERNS if (m := p.fullmatch(text))), None)
    if match is None:
        return None
    groups = match.groupdict()
    hours = _number(groups["h"]) if groups.get("h") else 0.0
    minutes = _number(groups["m"]) if groups.get("m") else 0.0
    if hours is None or minutes is None:
        return None
    if groups.get("half") or groups.get("h_half") or groups.get("tail_half"):
        if not hours.is_integer():  # "1.5个半小时" makes no sense
            return None
        hours += 0.5
    return hours + minutes / 60


def parse_hours(text: str, *, max_hours: float = 24.0) -> float:
    """Hours as a number rounded to 2 decimals, from "1.5", "两小时", "一个半小时", "90分钟", …

    Ranges ("两三个小时") and vague words ("半天", "很多") are rejected rather than guessed.
    """
    compact = _compact(text)
    negative = compact.startswith(_MINUS_SIGNS)
    value = _duration_hours(compact[1:] if negative else compact)
    if value is None:
        raise InvalidInput("input.hours_invalid")
    hours = round(value, 2)
    if negative or hours <= 0:
        raise InvalidInput("input.hours_not_positive")
    if hours > max_hours:
        raise InvalidInput("input.hours_too_long", max=format_hours(max_hours))
    return hours


def format_hours(h: float) -> str:
    """Hours for display: 1.5 → "1.5", 2.0 → "2", 0.33 → "0.33"."""
    return f"{h:.2f}".rstrip("0").rstrip(".")


# --- dates --------------------------------------------------------------------------------------

_RELATIVE_DAYS = {
    "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3,
    "明天": 1, "明日": 1, "后天": 2, "大后天": 3,
}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEK_OFFSETS = {"上": -7, "本": 0, "这": 0, "下": 7}
_DAY_NUM = rf"(?:[0-9]{{1,2}}|{_CN_NUM})"

_DAYS_AGO_RE = re.compile(rf"(?P<n>[0-9]{{1,6}}|{_CN_NUM})[天日](?P<dir>前|以前|之前|后|以后|之后)")
_WEEKDAY_RE = re.compile(r"(?:(?P<week>[上本这下])个?)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])")
_FULL_DATE_PATTERNS = (
    re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})"),
    re.compile(rf"(?P<y>[0-9]{{4}}|[零〇一二三四五六七八九]{{4}})年(?P<m>{_DAY_NUM})月(?P<d>{_DAY_NUM})[日号]?"),
)
_MONTH_DAY_PATTERNS = (
    re.compile(r"(?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"),
    re.compile(rf"(?P<m>{_DAY_NUM})月(?P<d>{_DAY_NUM})[日号]?"),
)
_DAY_RE = re.compile(rf"(?P<d>{_DAY_NUM})[日号]")


def _shift(today: date, days: int) -> date:
    ordinal = today.toordinal() + days
    if not _MIN_DATE.toordinal() <= ordinal <= _MAX_DATE.toordinal():
        raise InvalidInput("input.date_year_range", min_year=MIN_YEAR, max_year=MAX_YEAR)
    return date.fromordinal(ordinal)


def _year(text: str) -> int:
    """A year from "2023" or "二〇二三" (read digit by digit, as years are)."""
    return int(text if text.isascii() else "".join(_CN_DECIMAL_DIGITS[c] for c in text))


def _nearest(candidates: Iterable[tuple[int, int, int]], today: date, past: bool) -> date:
    """The first real (year, month, day) among ``candidates`` on the preferred side of ``today``.

    Candidates run away from today and stay within the supported years. Running out of them
    means no such day within those years on that side: "没有这一天" when some candidate was no
    day at all (2月29日 after 2096-03-01: 2097–2100 are common years), else the years' range.
    """
    skipped = False
    for year, month, day in candidates:
        try:
            found = date(year, month, day)
        except ValueError:  # 31号 in a 30-day month, 2月29日 in a common year
            skipped = True
            continue
        if (found <= today) if past else (found >= today):
            return found
    if skipped:
        raise InvalidInput("input.date_impossible")
    raise InvalidInput("input.date_year_range", min_year=MIN_YEAR, max_year=MAX_YEAR)


def _months_from(today: date, step: int) -> Iterator[tuple[int, int]]:
    """(year, month) from today's month onwards in the direction of ``step``, within the years."""
    index = today.year * 12 + today.month - 1
    while MIN_YEAR <= index // 12 <= MAX_YEAR:
        yield index // 12, index % 12 + 1
        index += step


def _weekday(match: re.Match[str], today: date, past: bool) -> date:
    weekday = _WEEKDAYS[match["wd"]]
    if match["week"]:  # a day of a named Monday–Sunday week
        return _shift(today, _WEEK_OFFSETS[match["week"]] + weekday - today.weekday())
    if past:
        return _shift(today, -((today.weekday() - weekday) % 7))
    return _shift(today, (weekday - today.weekday()) % 7)


def _calendar_date(text: str, today: date, past: bool) -> date | None:
    """A date written with a day number (and maybe month and year); None if no such form."""
    for pattern in _FULL_DATE_PATTERNS:
        if match := pattern.fullmatch(text):
            month, day = _int_value(match["m"]), _int_value(match["d"])
            if month is None or day is None:
                return None
            year = _year(match["y"])
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise InvalidInput("input.date_year_range", min_year=MIN_YEAR, max_year=MAX_YEAR)
            try:
                return date(year, month, day)
            except ValueError:
                raise InvalidInput("input.date_impossible") from None
    step = -1 if past else 1
    for pattern in _MONTH_DAY_PATTERNS:
        if match := pattern.fullmatch(text):
            month, day = _int_value(match["m"]), _int_value(match["d"])
            if month is None or day is None:
                return None
            try:
                date(2000, month, day)  # a leap year: is there ever such a day?
            except ValueError:
                raise InvalidInput("input.date_impossible") from None
            years = range(today.year, MIN_YEAR - 1 if past else MAX_YEAR + 1, step)
            return _nearest(((year, month, day) for year in years), today, past)
    if match := _DAY_RE.fullmatch(text):
        day = _int_value(match["d"])
        if day is None:
            return None
        if not 1 <= day <= 31:
            raise InvalidInput("input.date_impossible")
        return _nearest(((y, m, day) for y, m in _months_from(today, step)), today, past)
    return None


def parse_date(text: str, *, today: date, prefer: Literal["past", "future"] = "past") -> date:
    """A date from "今天", "3天前", "周五", "上周五", "11月9日", "9号", "2023-11-09", …

    ``prefer`` settles forms that name no week or year: "周五", "11月9日" and "9号" mean the
    nearest such day on that side of ``today`` (today itself included). Future dates are not
    rejected here; callers use :func:`require_not_future` / :func:`require_not_past`.
    """
    compact = _compact(text)
    past = prefer == "past"
    if compact in _RELATIVE_DAYS:
        return _shift(today, _RELATIVE_DAYS[compact])
    if match := _DAYS_AGO_RE.fullmatch(compact):
        days = _int_value(match["n"])
        if days is not None:
            return _shift(today, -days if "前" in match["dir"] else days)
    elif match := _WEEKDAY_RE.fullmatch(compact):
        return _weekday(match, today, past)
    elif found := _calendar_date(compact, today, past):
        return found
    raise InvalidInput("input.date_invalid")


def require_not_future(d: date, *, today: date) -> date:
    """``d`` unless it is after ``today`` (things already done, like study, cannot be later)."""
    if d > today:
        raise InvalidInput("input.date_future", today=today.isoformat())
    return d


def require_not_past(d: date, *, today: date) -> date:
    """``d`` unless it is before ``today`` (deadlines)."""
    if d < today:
        raise InvalidInput("input.date_past", today=today.isoformat())
    return d


# --- counts and free text -----------------------------------------------------------------------

_NONE_WORDS = ("没有", "无")
_MEASURE = "(?:个|次|项|条|件|人|户|家|位|名|篇|场)"
_COUNT_RE = re.compile(rf"(?P<n>[0-9]+|{_CN_NUM}){_MEASURE}?")
_DECIMAL_COUNT_RE = re.compile(rf"(?:[0-9]+\.[0-9]*|\.[0-9]+){_MEASURE}?")


def parse_count(text: str, *, max_value: int = 1000) -> int:
    """A non-negative whole number: "3", "３", "三个", "十二", "0", "没有"."""
    compact = _compact(text)
    if compact in _NONE_WORDS:
        return 0
    negative = compact.startswith(_MINUS_SIGNS)
    body = compact[1:] if negative else compact
    match = _COUNT_RE.fullmatch(body)
    if match is None:
        decimal = _DECIMAL_COUNT_RE.fullmatch(body)
        raise InvalidInput("input.count_not_integer" if decimal else "input.count_invalid")
    digits = match["n"]
    # Compare lengths first: int() refuses strings of more than 4300 digits.
    too_long = digits.isascii() and len(digits.lstrip("0")) > len(str(max_value))
    value = max_value + 1 if too_long else _int_value(digits)
    if value is None:
        raise InvalidInput("input.count_invalid")
    if negative:
        raise InvalidInput("input.count_negative")
    if value > max_value:
        raise InvalidInput("input.count_too_large", max=max_value)
    return value


# Characters that show nothing: spaces, format controls (U+200B–U+200F, U+202A–U+202E, U+2060,
# U+FEFF …), and the letters that are blank by design (Hangul fillers, the blank braille pattern).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_EDGE_CATEGORIES = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf"))
_UNSEEN_CATEGORIES = _EDGE_CATEGORIES | {"Mn", "Me", "Cs", "Cn"}  # marks alone show no letter


def _edge_blank(char: str) -> bool:
    return char in _BLANK_LETTERS or unicodedata.category(char) in _EDGE_CATEGORIES


def _visible(char: str) -> bool:
    return char not in _BLANK_LETTERS and unicodedata.category(char) not in _UNSEEN_CATEGORIES


def clean_text(text: str | None, *, max_len: int, field: str) -> str:
    """``text`` without blank edges, refusing one with nothing visible in it (only spaces,
    direction marks, fillers …) or longer than ``max_len`` characters (as both databases count).

    Inner newlines and full-width punctuation are kept as typed: this is content, not a number.
    """
    text = text or ""
    start, end = 0, len(text)
    while start < end and _edge_blank(text[start]):
        start += 1
    while end > start and _edge_blank(text[end - 1]):
        end -= 1
    cleaned = text[start:end]
    if not any(_visible(c) for c in cleaned):
        raise InvalidInput("input.empty", field=field)
    if len(cleaned) > max_len:
        raise InvalidInput("input.too_long", field=field, max_len=max_len, length=len(cleaned))
    return cleaned


def parse_name(text: str, *, max_len: int, field: str) -> str:
    """A person's name (or a few, "张三、李四"): clean text with at least one letter in it, so a
    number or a symbol typed there is asked again instead of becoming somebody's name."""
    cleaned = clean_text(text, max_len=max_len, field=field)
    if not any(unicodedata.category(c).startswith("L") and c not in _BLANK_LETTERS for c in cleaned):
        raise InvalidInput("input.name_letters", field=field)
    return " ".join(cleaned.split())
