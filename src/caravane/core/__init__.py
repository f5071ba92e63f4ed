"""Shared kernel: identifiers, scoped querysets, actions and events used by every app."""
