"""How a meeting reads in chat: one line in a list, its attendance, and the full card."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.formats import month_day
from handlers.core.i18n import Translator
from handlers.meetings.rules import credits_hours, missing_musts, musts_text
from storage.models import Meeting
from storage.repositories.meetings import Seat


def headline(meeting: Meeting) -> str:
    """"11月20日 支部党员大会《学习二十大精神》", "11月21日 党小组会（第一党小组）"."""
    group = f"（{meeting.party_group}）" if meeting.party_group else ""
    topic = f"《{meeting.topic}》" if meeting.topic else ""
    return f"{month_day(meeting.day)} {meeting.kind}{group}{topic}"


@dataclass(frozen=True)
class Turnout:
    """实到 of 应到, and 列席 (guests, never part of 应到)."""

    present: int
    expected: int
    guests: int
    absent: int

    @classmethod
    def of(cls, seats: list[Seat]) -> Turnout:
        expected = [s for s in seats if not s.guest]
        present = sum(s.present for s in expected)
        return cls(present, len(expected), len(seats) - len(expected), len(expected) - present)

    def text(self, t: Translator) -> str:
        """"实到 4/应到 6，列席 1" (no 列席 part without guests)."""
        shown = t("meeting.turnout", present=self.present, expected=self.expected)
        return shown + (t("meeting.turnout_guests", guests=self.guests) if self.guests else "")


def line(t: Translator, n: int, meeting: Meeting, seats: list[Seat], org: str = "") -> str:
    """One meeting of the /meeting list (``org``: its branch, in the office's list)."""
    mark = "✅" if not missing_musts(t, meeting) else "⚠️"
    return t("meeting.list_line", n=n, org=f"{org} " if org else "", meeting=headline(meeting),
             turnout=Turnout.of(seats).text(t), mark=mark)


def card(t: Translator, meeting: Meeting, seats: list[Seat], made_up: set[int]) -> str:
    absent = [s for s in seats if not s.present]
    credited = credits_hours(meeting.kind, meeting.study_item)
    lines = [t("meeting.card_head", meeting=headline(meeting)),
             t("meeting.card_time", starts=meeting.starts or "—", ends=meeting.ends or "—",
               place=meeting.place or "—"),
             t("meeting.card_people", host=meeting.host or "—", recorder=meeting.recorder or "—",
               lecturer=meeting.lecturer or "—")]
    if meeting.study_item:
        lines.append(t("meeting.card_study", item=meeting.study_item))
    lines += [Turnout.of(seats).text(t), musts_text(t, meeting)]
    if not credited:
        lines.append(t("meeting.no_credit"))
    guests = [s.name for s in seats if s.guest]
    if guests:
        lines.append(t("meeting.card_guests", names="、".join(guests)))
    if absent and credited:
        lines.append(t("meeting.card_makeups_head"))
        lines += [t("meeting.card_makeup_line", name=s.name, reason=s.reason or "—",
                    state=t("meeting.made_up" if s.member_id in made_up else "meeting.not_made_up"))
                  for s in absent]
    elif absent:
        lines.append(t("meeting.card_absent", names="、".join(
            t("meeting.absent_name", name=s.name, reason=s.reason or "—") for s in absent)))
    return "\n".join(lines)
