"""The demo's sample evidence (issue 18): photos of a meeting and a problem's progress photo and
note, kept in the file store like those members send, so 📎 照片和文件, 查看材料 and
``branchbot archive`` have something to show."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image, ImageDraw
from sqlalchemy import select

from storage.db import Session
from storage.files.attachments import AttachmentRepository
from storage.files.catalog import FileCatalog
from storage.files.limits import FileLimits
from storage.files.store import FileStore
from storage.models import AttachmentOwner, Meeting, Problem, ProblemEvent, ProblemStatus
from storage.repositories.members import MemberRepository
from storage.repositories.problems import ProblemRepository


def sample_photo(seed: int, size: tuple[int, int] = (800, 600)) -> bytes:
    """A made-up "photo": a room with a table and people, in colours that differ by ``seed``."""
    image = Image.new("RGB", size, (235, 228 - seed * 9 % 40, 210))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((0, int(height * 0.65), width, height), fill=(150, 110, 80))  # the floor
    draw.rectangle((int(width * 0.2), int(height * 0.5), int(width * 0.8), int(height * 0.62)),
                   fill=(120, 70, 40))  # the table
    draw.rectangle((int(width * 0.3), int(height * 0.08), int(width * 0.7), int(height * 0.25)),
                   fill=(190, 20, 30))  # a red banner
    for n in range(6):
        x = int(width * (0.22 + n * 0.11))
        draw.ellipse((x, int(height * 0.36), x + 40, int(height * 0.36) + 40),
                     fill=(60 + 20 * ((n + seed) % 5), 50, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


async def add_sample_evidence(session: Session, store: FileStore, received_at: datetime) -> None:
    """Two photos for 机关第一党支部's latest meeting; a photo and a report with the closure
    request of its closed problem (the drafts' appendix shows closed problems' evidence)."""
    limits, catalog = FileLimits.default(), FileCatalog(session)
    attachments = AttachmentRepository(session)
    (secretary,) = await MemberRepository(session).by_name("王建国")
    at = received_at.isoformat()

    async def entry(name: str, content: bytes) -> dict[str, object]:
        stored = await store.put(content, limits=limits)
        return {"file_id": f"demo-{stored.sha256[:12]}", "name": name, "platform": "console",
                "at": at, "stored": await catalog.add(stored)}

    meeting = await session.scalar(select(Meeting).where(Meeting.org_id == secretary.org_id)
                                   .order_by(Meeting.day.desc(), Meeting.id.desc()).limit(1))
    if meeting is not None:
        await attachments.attach(AttachmentOwner.meeting_record, meeting.id, secretary.id,
                                 "console", [await entry("会议现场1.jpg", sample_photo(1)),
                                             await entry("会议现场2.jpg", sample_photo(2))])
        meeting.record_file_id = meeting.record_file_id or "demo-photo"
    closed = await session.scalar(select(Problem).where(
        Problem.org_id == secretary.org_id, Problem.status == ProblemStatus.closed).order_by(Problem.id).limit(1))
    if closed is None:
        return
    asked = await session.scalar(select(ProblemEvent).where(
        ProblemEvent.problem_id == closed.id, ProblemEvent.action == "request_closure")
        .order_by(ProblemEvent.id.desc()).limit(1))
    owner = await MemberRepository(session).get(closed.owner_id or closed.reporter_id)
    if asked is None or owner is None:
        return
    await ProblemRepository(session).add_evidence(asked, [
        await entry("整改后现场.jpg", sample_photo(3)),
        await entry("整改报告.txt", "一、明确责任人；二、完成整改方案；三、整改到位，申请销号。".encode())],
        platform="console", by=owner)
