"""Where a label is stored: the durable SQLite event log (labels, undos, decisions, claims, the kept learning curve) and safe text for what leaves it (CSV, terminal)."""
