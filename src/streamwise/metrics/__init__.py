"""Metrics: pure functions of derived facts, a period and filters, returning typed results."""
