"""Pipeline stages: pure functions from frames and a config section to frames (no I/O)."""
