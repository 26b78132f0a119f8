"""Field encryption: a data key per client, wrapped by a rotatable master key.

Every message body and LINE user id is sealed with its client's data key
(AES-256-GCM) before it is stored or published. The data keys live wrapped in
the shared ``keyring`` schema (the one table every service that needs
plaintext may read, design rule 3). Destroying a client's wrapped key makes
every copy of that client's data unreadable: tables, stream and backups.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SEALED_PREFIX = "v1."
_NONCE = 12

KEYRING_SCHEMA = "keyring"
keyring_metadata = MetaData(schema=KEYRING_SCHEMA)

client_keys = Table(
    "client_keys",
    keyring_metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("client_no", BigInteger, Identity(start=1), nullable=False, unique=True),
    Column("channel", String(64), nullable=False),
    Column("line_user_digest", LargeBinary, nullable=False, unique=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("master_key_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)

keyring_secrets = Table(
    "secrets",
    keyring_metadata,
    Column("name", String(64), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("master_key_id", String(64), nullable=False),
)


class KeyDestroyedError(LookupError):
    """The client's key was destroyed (erasure); their data can no longer be read."""


class SealedValueError(ValueError):
    """A sealed value is malformed or was not sealed with this key and purpose."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MasterKeys:
    """The operator's master keys, ``id:base64`` comma-separated; one is active."""

    def __init__(self, spec: str, active_id: str = "") -> None:
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key_id, sep, encoded = item.partition(":")
            if not sep:
                raise ValueError("master key entries must look like id:base64")
            raw = base64.b64decode(encoded)
            if len(raw) != 32:
                raise ValueError(f"master key {key_id!r} must be 32 bytes, got {len(raw)}")
            keys[key_id] = raw
        if not keys:
            raise ValueError("no master key configured (SODAN_MASTER_KEYS)")
        self._keys = keys
        self.active_id = active_id or next(iter(keys))
        if self.active_id not in keys:
            raise ValueError(f"active master key {self.active_id!r} is not configured")

    def wrap(self, secret: bytes, *, context: bytes) -> tuple[bytes, str]:
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self._keys[self.active_id]).encrypt(nonce, secret, context)
        return nonce + sealed, self.active_id

    def derive(self, key_id: str, *, info: bytes) -> bytes:
        """A 32-byte key for one purpose (HKDF-SHA256), e.g. the backup archive's;
        the master key itself never leaves this class."""
        if key_id not in self._keys:
            raise KeyError(f"master key {key_id!r} is not configured")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
            self._keys[key_id]
        )

    def unwrap(self, wrapped: bytes, *, key_id: str, context: bytes) -> bytes:
        if key_id not in self._keys:
            raise KeyError(f"master key {key_id!r} is not configured; cannot unwrap")
        return AESGCM(self._keys[key_id]).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], context)


@dataclass(frozen=True)
class ClientCipher:
    """Seals and opens one client's fields. ``purpose`` binds a value to its field."""

    client_id: UUID
    data_key: bytes

    def _aad(self, purpose: str) -> bytes:
        return f"{self.client_id}|{purpose}".encode()

    def seal(self, purpose: str, plaintext: str) -> str:
        nonce = os.urandom(_NONCE)
        ct = AESGCM(self.data_key).encrypt(nonce, plaintext.encode(), self._aad(purpose))
        return SEALED_PREFIX + _b64(nonce + ct)

    def open(self, purpose: str, sealed: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise SealedValueError("not a sealed value")
        raw = _unb64(sealed[len(SEALED_PREFIX) :])
        try:
            plain = AESGCM(self.data_key).decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(purpose))
        except Exception as exc:  # InvalidTag: wrong key, purpose or tampered
            raise SealedValueError("sealed value does not open with this client's key") from exc
        return plain.decode()

    def seal_bytes(self, purpose: str, plaintext: bytes) -> bytes:
        """Raw nonce + ciphertext for blobs (media): no base64, they never go in JSON."""
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.data_key).encrypt(nonce, plaintext, self._aad(purpose))

    def open_bytes(self, purpose: str, sealed: bytes) -> bytes:
        try:
            return AESGCM(self.data_key).decrypt(
                sealed[:_NONCE], sealed[_NONCE:], self._aad(purpose)
            )
        except Exception as exc:  # InvalidTag: wrong key, purpose or tampered
            raise SealedValueError("sealed blob does not open with this client's key") from exc


@dataclass(frozen=True)
class ClientIdentity:
    client_id: UUID
    client_no: int


class Keyring:
    """Finds or creates clients' data keys; caches unwrapped keys briefly in memory."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        master: MasterKeys,
        *,
        cache_size: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._master = master
        self._cache: OrderedDict[UUID, ClientCipher] = OrderedDict()
        # LINE-id digest -> identity. A client_keys row is never deleted or renumbered
        # (erasure only drops its wrapped key), so a cached identity cannot go stale.
        self._identities: OrderedDict[bytes, ClientIdentity] = OrderedDict()
        self._cache_size = cache_size
        self._pepper: bytes | None = None

    async def _lookup_pepper(self, session: AsyncSession) -> bytes:
        """A random secret for the LINE-id digest, stored wrapped so it survives rotation."""
        if self._pepper is not None:
            return self._pepper
        wrapped, key_id = self._master.wrap(os.urandom(32), context=b"lookup-pepper")
        await session.execute(
            pg_insert(keyring_secrets)
            .values(name="lookup_pepper", wrapped=wrapped, master_key_id=key_id)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = (
            await session.execute(
                select(keyring_secrets.c.wrapped, keyring_secrets.c.master_key_id).where(
                    keyring_secrets.c.name == "lookup_pepper"
                )
            )
        ).one()
        self._pepper = self._master.unwrap(
            row.wrapped, key_id=row.master_key_id, context=b"lookup-pepper"
        )
        return self._pepper

    @staticmethod
    def _digest(pepper: bytes, channel: str, line_user_id: str) -> bytes:
        return hmac.new(pepper, f"{channel}|{line_user_id}".encode(), hashlib.sha256).digest()

    def _remember_identity(self, digest: bytes, identity: ClientIdentity) -> ClientIdentity:
        self._identities[digest] = identity
        if len(self._identities) > self._cache_size:
            self._identities.popitem(last=False)
        return identity

    async def ensure_client(self, *, channel: str, line_user_id: str) -> ClientIdentity:
        """The pseudonymous identity of a LINE user, created on first contact.

        Known identities come from memory: this runs for every webhook event. Creation
        stays in the database (INSERT ... ON CONFLICT on the digest), so replicas racing
        on a first contact still agree on one identity."""
        if self._pepper is not None:
            digest = self._digest(self._pepper, channel, line_user_id)
            cached = self._identities.get(digest)
            if cached is not None:
                self._identities.move_to_end(digest)
                return cached
        async with self._sessions() as session, session.begin():
            pepper = await self._lookup_pepper(session)
            digest = self._digest(pepper, channel, line_user_id)
            found = await self._identity_by_digest(session, digest)
            if found is not None:
                return self._remember_identity(digest, found)
            client_id = uuid4()
            data_key = AESGCM.generate_key(bit_length=256)
            wrapped, key_id = self._master.wrap(data_key, context=client_id.bytes)
            await session.execute(
                pg_insert(client_keys)
                .values(
                    client_id=client_id,
                    channel=channel,
                    line_user_digest=digest,
                    wrapped_key=wrapped,
                    master_key_id=key_id,
                )
                .on_conflict_do_nothing(index_elements=["line_user_digest"])
            )
            created = await self._identity_by_digest(session, digest)
            assert created is not None  # inserted above, or by a concurrent replica
        # Cached only once committed: a rolled-back insert must not be remembered.
        return self._remember_identity(digest, created)

    @staticmethod
    async def _identity_by_digest(session: AsyncSession, digest: bytes) -> ClientIdentity | None:
        row = (
            await session.execute(
                select(client_keys.c.client_id, client_keys.c.client_no).where(
                    client_keys.c.line_user_digest == digest
                )
            )
        ).first()
        return ClientIdentity(client_id=row.client_id, client_no=row.client_no) if row else None

    async def cipher(self, client_id: UUID) -> ClientCipher:
        cached = self._cache.get(client_id)
        if cached is not None:
            self._cache.move_to_end(client_id)
            return cached
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(client_keys.c.wrapped_key, client_keys.c.master_key_id).where(
                        client_keys.c.client_id == client_id
                    )
                )
            ).first()
        if row is None:
            raise LookupError(f"unknown client {client_id}")
        if row.wrapped_key is None:
            raise KeyDestroyedError(f"client {client_id} was erased")
        key = self._master.unwrap(
            row.wrapped_key, key_id=row.master_key_id, context=client_id.bytes
        )
        cipher = ClientCipher(client_id=client_id, data_key=key)
        self._cache[client_id] = cipher
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return cipher

    async def destroy_client(self, client_id: UUID) -> None:
        """Crypto-shred: the wrapped key is gone, so is every readable copy."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(client_keys)
                .where(client_keys.c.client_id == client_id)
                .values(wrapped_key=None, destroyed_at=datetime.now(UTC))
            )
        self._cache.pop(client_id, None)

    async def rotate(self, *, batch: int = 500) -> int:
        """Re-wrap every key under the active master key; returns how many changed."""
        changed = 0
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        client_keys.c.client_id,
                        client_keys.c.wrapped_key,
                        client_keys.c.master_key_id,
                    )
                    .where(client_keys.c.master_key_id != self._master.active_id)
                    .where(client_keys.c.wrapped_key.is_not(None))
                    .with_for_update(skip_locked=True)
                    .limit(batch)
                )
            ).all()
            for row in rows:
                key = self._master.unwrap(
                    row.wrapped_key, key_id=row.master_key_id, context=row.client_id.bytes
                )
                wrapped, key_id = self._master.wrap(key, context=row.client_id.bytes)
                await session.execute(
                    update(client_keys)
                    .where(client_keys.c.client_id == row.client_id)
                    .values(wrapped_key=wrapped, master_key_id=key_id)
                )
                changed += 1
            secret = (await session.execute(select(keyring_secrets).with_for_update())).all()
            for s in secret:
                if s.master_key_id != self._master.active_id:
                    plain = self._master.unwrap(
                        s.wrapped, key_id=s.master_key_id, context=b"lookup-pepper"
                    )
                    wrapped, key_id = self._master.wrap(plain, context=b"lookup-pepper")
                    await session.execute(
                        update(keyring_secrets)
                        .where(keyring_secrets.c.name == s.name)
                        .values(wrapped=wrapped, master_key_id=key_id)
                    )
        return changed


def migrate_keyring(database_url: str) -> None:
    """Create or upgrade the shared keyring schema (idempotent, replica-safe)."""
    from pathlib import Path

    from sodan_shared.db.migrations import upgrade

    upgrade(
        database_url=database_url,
        script_location=Path(__file__).parent / "keyring_migrations",
        schema=KEYRING_SCHEMA,
    )
