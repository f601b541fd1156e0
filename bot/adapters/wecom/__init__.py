"""The WeCom adapter (企业微信自建应用): ``callback`` checks and parses callbacks (with ``crypto``),
``bot`` answers them, ``render`` shapes replies as WeCom messages, ``api`` calls WeCom,
``sender`` sends the outbox, ``run`` serves the callback URL."""

PLATFORM = "wecom"
