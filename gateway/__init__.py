"""The edge of podium: the `podium` CLI, the database it runs on, and the HTTP gateway."""
