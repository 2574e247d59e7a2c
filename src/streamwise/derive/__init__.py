"""Derived facts: per-item and per-deployment figures, recomputed only for what changed."""
