"""The console's HTTP API (JSON under /api) and the static web console."""
