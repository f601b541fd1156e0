"""How a meeting reads in chat: one line in a list, and the full card with attendance."""

from __future__ import annotations

from handlers.core.formats import month_day
from handlers.core.i18n import Translator
from handlers.meetings.rules import musts_text
from storage.models import Meeting
from storage.repositories.meetings import Seat


def headline(meeting: Meeting) -> str:
    """"11月20日 支部党员大会《学习二十大精神》"."""
    topic = f"《{meeting.topic}》" if meeting.topic else ""
    return f"{month_day(meeting.day)} {meeting.kind}{topic}"


def line(t: Translator, n: int, meeting: Meeting, seats: list[Seat]) -> str:
    present = sum(s.present for s in seats)
    mark = "✅" if musts_text(t, meeting) == t("meeting.musts_ok") else "⚠️"
    return t("meeting.list_line", n=n, meeting=headline(meeting), present=present,
             total=len(seats), mark=mark)


def card(t: Translator, meeting: Meeting, seats: list[Seat], made_up: set[int]) -> str:
    absent = [s for s in seats if not s.present]
    lines = [t("meeting.card_head", meeting=headline(meeting)),
             t("meeting.card_time", starts=meeting.starts or "—", ends=meeting.ends or "—",
               place=meeting.place or "—"),
             t("meeting.card_people", host=meeting.host or "—", recorder=meeting.recorder or "—",
               lecturer=meeting.lecturer or "—"),
             t("meeting.card_count", present=sum(s.present for s in seats), total=len(seats),
               guests=sum(s.guest for s in seats)),
             musts_text(t, meeting)]
    if absent:
        lines.append(t("meeting.card_makeups_head"))
        lines += [t("meeting.card_makeup_line", name=s.name, reason=s.reason or "—",
                    state=t("meeting.made_up" if s.member_id in made_up else "meeting.not_made_up"))
                  for s in absent]
    return "\n".join(lines)
