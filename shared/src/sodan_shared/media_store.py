"""Where emergency-mode media live: one JetStream object store bucket.

Why the object store and not PostgreSQL or the event: media are up to tens of
megabytes; chunked objects keep them out of the databases (and their dumps),
out of event payloads, and readable by console-api without a call into ingress
(services share no schema). Every object is sealed with its client's data key
(purpose ``media.content``), so erasing the client's key (crypto-shredding)
makes it unreadable wherever a copy survives; unsends delete it outright.
"""

from __future__ import annotations

from uuid import UUID

from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BucketNotFoundError
from nats.js.object_store import ObjectStore

MEDIA_BUCKET = "sodan-media"
MEDIA_PURPOSE = "media.content"


def media_object_name(client_id: UUID, line_message_id: str) -> str:
    """By client and LINE id: an unsend (which names the LINE id) finds it."""
    return f"{client_id}/{line_message_id}"


async def media_store(js: JetStreamContext, *, create: bool = True) -> ObjectStore:
    """The bucket, created on first use by whichever service starts first."""
    try:
        return await js.object_store(MEDIA_BUCKET)
    except BucketNotFoundError:
        if not create:
            raise
    return await js.create_object_store(
        MEDIA_BUCKET,
        ObjectStoreConfig(
            description="Emergency-mode media, sealed per client (media.content)",
            storage=StorageType.FILE,
        ),
    )
