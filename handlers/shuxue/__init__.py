"""述学: the weekly prompt's dialog, the branch's rhythm (/schedule), the reminder sent again."""
