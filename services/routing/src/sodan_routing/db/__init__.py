"""Routing's own schema ``routing``: cases, counsellors, idempotency, outbox."""
