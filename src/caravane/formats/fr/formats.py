"""Formats for fr: Morocco's (see caravane.formats)."""

from caravane.formats import *  # noqa: F401,F403
