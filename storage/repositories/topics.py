"""调研课题: a branch's research topics and their owners."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ResearchTopic


class TopicRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_branch(self, org_id: int) -> list[ResearchTopic]:
        return list(await self.session.scalars(
            select(ResearchTopic).where(ResearchTopic.org_id == org_id, ResearchTopic.deleted_at.is_(None))
            .order_by(ResearchTopic.id)))

    async def get(self, topic_id: int, org_id: int) -> ResearchTopic | None:
        """The branch's live topic with this id (None: gone, or another branch's)."""
        return await self.session.scalar(select(ResearchTopic).where(
            ResearchTopic.id == topic_id, ResearchTopic.org_id == org_id, ResearchTopic.deleted_at.is_(None)))

    async def by_title(self, org_id: int, title: str) -> ResearchTopic | None:
        return await self.session.scalar(select(ResearchTopic).where(
            ResearchTopic.org_id == org_id, ResearchTopic.title == title, ResearchTopic.deleted_at.is_(None)))

    async def put(self, org_id: int, title: str, *, owner_id: int | None, owner_name: str,
                  due: date | None) -> bool:
        """Add the topic, or set its owner and date; True when it is new."""
        topic = await self.session.scalar(select(ResearchTopic).where(
            ResearchTopic.org_id == org_id, ResearchTopic.title == title))
        new = topic is None
        if topic is None:
            topic = ResearchTopic(org_id=org_id, title=title, owner_name=owner_name)
            self.session.add(topic)
        topic.owner_id, topic.owner_name, topic.due, topic.deleted_at = owner_id, owner_name, due, None
        await self.session.flush()
        return new
