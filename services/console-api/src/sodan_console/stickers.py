"""The stickers a counsellor may send: a small curated set, checked at start-up.

Only LINE's free standard stickers can be sent by an official account; the
console never loads their pictures (offline desk), it shows the labels.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sodan_shared.events.line import StickerRef

CATALOGUE = Path(__file__).with_name("stickers.json")


class Sticker(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: str = Field(min_length=1, max_length=30)
    package_id: str = Field(pattern=r"^[0-9]{1,12}$")
    sticker_id: str = Field(pattern=r"^[0-9]{1,12}$")

    @property
    def ref(self) -> StickerRef:
        return StickerRef(package_id=self.package_id, sticker_id=self.sticker_id)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True)
    stickers: list[Sticker] = Field(min_length=1, max_length=40)

    @field_validator("stickers")
    @classmethod
    def _unique(cls, stickers: list[Sticker]) -> list[Sticker]:
        keys = [s.key for s in stickers]
        refs = [(s.package_id, s.sticker_id) for s in stickers]
        if len(set(keys)) != len(keys) or len(set(refs)) != len(refs):
            raise ValueError("sticker keys and package/sticker ids must be unique")
        return stickers

    def by_key(self, key: str) -> Sticker | None:
        return next((s for s in self.stickers if s.key == key), None)

    def by_ref(self, package_id: str, sticker_id: str) -> Sticker | None:
        return next(
            (s for s in self.stickers if (s.package_id, s.sticker_id) == (package_id, sticker_id)),
            None,
        )


def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Catalogue.model_validate({"stickers": data["stickers"]})


@cache
def catalogue() -> Catalogue:
    return load_catalogue()
