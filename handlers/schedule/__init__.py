"""What the bot sends on its own: when (times), what and to whom (planner), into the outbox."""
