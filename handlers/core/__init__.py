"""The shared core every feature uses: events in and replies out, the router, texts, parsing."""
