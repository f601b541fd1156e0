"""DingTalk (钉钉) enterprise internal app robot: Stream mode events and the robot OpenAPI.

The wire format and its sources are in PROTOCOL.md beside this file."""
PLATFORM = "dingtalk"
