"""The write side of podium: events, aggregates and the application service.

Pure Python, eventsourcing and msgspec. Nothing here knows about HTTP, the
Claude Agent SDK or the read models; the adapters at the edge import this
package, never the other way round.
"""
