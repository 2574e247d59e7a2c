"""Connectors: each speaks one tool and turns its payloads into neutral records."""
