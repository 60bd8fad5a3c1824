"""What gateway/routes.py imports of the log view until it imports
projections.event_view itself (then this module goes)."""

from __future__ import annotations

from projections.event_view import LogView

LogReads = LogView
session_page = LogView.session_page
