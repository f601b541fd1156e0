"""A sample bureau for trying the bot (``branchbot demo``)."""
