"""WeCom 智能机器人 (AI bot) over its long connection (WebSocket): the transport.

``connection.AiBotConnection`` connects, subscribes and keeps the connection; ``events`` are the
callbacks it yields, ``outgoing`` the frames it sends. The wire format and its sources are in
PROTOCOL.md beside this file.
"""
