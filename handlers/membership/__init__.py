"""Membership: joining a branch with its invite code, the roster, /start /help /cancel, the group chat."""
