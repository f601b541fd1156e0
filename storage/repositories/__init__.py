"""Data access: each repository takes the event's AsyncSession."""
