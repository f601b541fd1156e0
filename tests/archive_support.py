"""A branch's term of records with files, for the archive's tests."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.files.attachments import AttachmentRepository
from storage.files.catalog import FileCatalog
from storage.files.limits import FileLimits
from storage.models import (
    AttachmentOwner,
    Commitment,
    CommitmentReport,
    Meeting,
    MeetingAttendance,
    Problem,
    ProblemEvent,
    ProblemEvidence,
    ProblemStatus,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.queries.scope import DateRange
from storage.repositories.members import MemberRepository
from tests import file_samples as samples
from tests.conftest import Branch

PERIOD = DateRange(date(2026, 9, 1), date(2026, 11, 30))
AT = datetime(2026, 10, 10, 2, 0, tzinfo=ZoneInfo("UTC"))


async def fill(app: App, branch: Branch) -> dict[str, set[int]]:
    """A branch's term of records, with files; the ids of each kind that belong in the archive."""
    store = app.files.store
    limits = FileLimits.default()
    photos = [samples.image("JPEG", (640, 480), (30 * n, 90, 160)) for n in range(3)]
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        absent = await members.add(branch.org, "刘洋")
        catalog, attachments = FileCatalog(session), AttachmentRepository(session)

        async def kept(content: bytes) -> int:
            return await catalog.add(await store.put(content, limits=limits))

        meeting = Meeting(org_id=branch.org.id, kind="支部党员大会", day=date(2026, 10, 9),
                          starts="14:30", ends="16:30", place="三楼会议室", topic="学习贯彻党的二十大精神",
                          host="王书记", recorder="王书记", procedure="1.传达学习 2.交流发言",
                          record_file_id="tg-1", created_by_id=branch.secretary.id, created_at=AT)
        deleted = Meeting(org_id=branch.org.id, kind="支委会", day=date(2026, 10, 1),
                          created_by_id=branch.secretary.id, deleted_at=AT)
        outside = Meeting(org_id=branch.org.id, kind="支委会", day=date(2026, 12, 5),
                          created_by_id=branch.secretary.id)
        session.add_all([meeting, deleted, outside])
        await session.flush()
        session.add_all([MeetingAttendance(meeting_id=meeting.id, member_id=branch.secretary.id,
                                           present=True),
                         MeetingAttendance(meeting_id=meeting.id, member_id=absent.id,
                                           present=False, absence_reason="病假")])
        files = [{"file_id": "tg-1", "name": "会议现场.jpg", "stored": await kept(photos[0])},
                 {"file_id": "tg-2", "name": "签到表.pdf", "stored": await kept(samples.PDF)},
                 {"file_id": "tg-3", "name": None, "stored": await kept(photos[1])},
                 {"file_id": "tg-4", "name": "还在下载.jpg"}]  # not fetched yet: listed, not copied
        await attachments.attach(AttachmentOwner.meeting_record, meeting.id,
                                 branch.secretary.id, "telegram", files)
        session.add(StudyRecord(member_id=absent.id, org_id=branch.org.id, form="自学",
                                study_date=date(2026, 10, 12), minutes=120, content="补学会议精神",
                                makeup_for_id=meeting.id))

        problem = Problem(reporter_id=branch.roster_only.id, org_id=branch.org.id,
                          description="企业招工信息发布渠道少", source="走访", kind="需上级协调",
                          owner_name="李娜", deadline=date(2026, 11, 1), measures="举办专场招聘会",
                          status=ProblemStatus.closed, created_at=AT)
        session.add(problem)
        await session.flush()
        event = ProblemEvent(problem_id=problem.id, actor_id=branch.secretary.id,
                             action="approve", from_status=ProblemStatus.closure_requested,
                             to_status=ProblemStatus.closed, note="同意销号", at=AT)
        session.add(event)
        await session.flush()
        evidence = ProblemEvidence(problem_id=problem.id, event_id=event.id, platform="wecom",
                                   file_id="m1", file_name="招聘会.jpg",
                                   uploaded_by_id=branch.roster_only.id)
        session.add(evidence)
        await session.flush()
        await attachments.attach(AttachmentOwner.problem_evidence, evidence.id,
                                 branch.roster_only.id, "wecom",
                                 [{"file_id": "m1", "name": "招聘会.jpg",
                                   "stored": await kept(photos[2])},
                                  {"file_id": "m2", "name": "说明.docx",
                                   "stored": await kept(samples.word_document())},
                                  {"file_id": "m3", "name": "会议现场.jpg",  # the same photo again
                                   "stored": await kept(photos[0])}])

        answer = ShuxueAnswer(member_id=branch.roster_only.id, org_id=branch.org.id,
                              period_start=date(2026, 10, 5), self_study="读《习近平著作选读》",
                              research="走访两家企业", deeds="协调招工", answered_at=AT)
        commitment = Commitment(member_id=branch.roster_only.id, org_id=branch.org.id,
                                content="每月走访企业两家", created_at=AT)
        session.add_all([answer, commitment])
        await session.flush()
        report = CommitmentReport(commitment_id=commitment.id, member_id=branch.roster_only.id,
                                  report_date=date(2026, 10, 20), text="已走访4家企业", kept=True)
        visit = Visit(member_id=branch.roster_only.id, org_id=branch.org.id, kind="走访",
                      visit_date=date(2026, 10, 8), place="城南街道", whom="两家企业", heard="用工难")
        session.add_all([report, visit])
        await session.flush()
        study = await session.scalars(select(StudyRecord.id))
        return {t("archive.kind_meeting"): {meeting.id}, t("archive.kind_problem"): {problem.id},
                t("archive.kind_shuxue"): {answer.id}, t("archive.kind_commitment"): {commitment.id},
                t("archive.kind_commitment_report"): {report.id},
                t("archive.kind_study"): set(study), t("archive.kind_visit"): {visit.id}}
