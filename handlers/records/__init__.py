"""A member's own records (/mine): each record kind, listed, changed or deleted."""
