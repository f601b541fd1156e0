"""WeCom 智能机器人 (AI bot) over its long connection (WebSocket).

The transport: ``connection.AiBotConnection`` connects, subscribes and keeps the connection;
``events`` are the callbacks it yields, ``outgoing`` the frames it sends (the wire format and
its sources in PROTOCOL.md beside this file). The adapter: ``render`` shapes replies as
markdown and template cards, ``bot`` answers events through the core, ``run`` holds the one
live connection (standing by while another process holds it) and sends the outbox.
"""

PLATFORM = "wecom_bot"
