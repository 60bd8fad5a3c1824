"""podium's own logging, into the event log: WARNING and above, and lifecycle
messages, become ``SystemLogged`` entries.

A lifecycle message (podium started, stopped, the runtime's leadership, the
summarizer far behind) is logged at INFO with ``extra=LIFECYCLE``.
"""

from __future__ import annotations

LIFECYCLE = {"podium_lifecycle": True}
