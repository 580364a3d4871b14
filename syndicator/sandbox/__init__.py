"""Faithful local simulators of every channel (ARCHITECTURE.md section 6)."""
