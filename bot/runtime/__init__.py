"""What runs the bot whatever the platform: the app (settings → engine → core), the scheduled pushes, the outbox deliverer."""
