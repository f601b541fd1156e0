"""The parts of bench/scaleout.py: a PostgreSQL database, webhook workers behind a round-robin
proxy, members tapping ahead, the faults, and the check of what was saved."""
