"""The reports' SQL: every figure (``figures``), the ledgers' rows, 组织生活's counts, what the
planner reads. Each figure is defined once, with its definition, in ``figures``."""
