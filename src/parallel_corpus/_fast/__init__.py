"""Measured fast paths that mirror a maintained library, each behind a
parity test that compares it with that library; nothing else lives here."""
