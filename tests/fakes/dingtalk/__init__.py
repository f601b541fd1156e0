"""A fake DingTalk on loopback for tests: see :mod:`tests.fakes.dingtalk.server`."""

from tests.fakes.dingtalk.gateway import Ack
from tests.fakes.dingtalk.openapi import Sent
from tests.fakes.dingtalk.server import (
    CLIENT_ID, CLIENT_SECRET, ROBOT_CODE, TEMPLATE_ID, FakeDingTalk, Pushed,
)

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "ROBOT_CODE", "TEMPLATE_ID", "Ack", "FakeDingTalk",
           "Pushed", "Sent"]
