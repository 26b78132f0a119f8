"""Event schemas, one module per producing service."""

from sodan_shared.events.envelope import Envelope, Payload, Sealed

__all__ = ["Envelope", "Payload", "Sealed"]
