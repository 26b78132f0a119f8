import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sodan_backup.dumpfile import CHUNK, DumpEncryptor, DumpFileError, decrypt_chunks
from sodan_backup.keys import ARCHIVE_INFO, DUMP_INFO, BackupKeys
from sodan_backup.segments import (
    ArchivedEvent,
    SegmentError,
    append_record,
    encode_record,
    find_gaps,
    read_segment,
    scan_tail,
)

OLD = "old:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # 32 x "A"
NEW = "new:" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="  # 32 x "B"


def _event(seq: int) -> ArchivedEvent:
    return ArchivedEvent(
        stream="LINE_IN",
        sequence=seq,
        subject="line.in.message.v1",
        stored_at=datetime(2026, 6, 1, tzinfo=UTC),
        headers={"Nats-Msg-Id": f"id-{seq}"},
        data=b'{"secret":"plaintext-%d"}' % seq,
    )


def test_dump_encryption_round_trips_across_chunks() -> None:
    keys = BackupKeys.from_spec(OLD, info=DUMP_INFO)
    data = bytes(range(256)) * (CHUNK // 128)  # two chunks and a bit
    out = io.BytesIO()
    key_id, key = keys.active()
    enc = DumpEncryptor(out, key_id=key_id, key=key)
    enc.write(data[:1000])
    enc.write(data[1000:])
    enc.close()
    assert data[:4096] not in out.getvalue()
    assert b"".join(decrypt_chunks(io.BytesIO(out.getvalue()), keys)) == data


def test_a_truncated_or_foreign_dump_is_refused() -> None:
    keys = BackupKeys.from_spec(OLD, info=DUMP_INFO)
    out = io.BytesIO()
    key_id, key = keys.active()
    enc = DumpEncryptor(out, key_id=key_id, key=key)
    enc.write(b"x" * (CHUNK + 10))
    enc.close()
    whole = out.getvalue()
    with pytest.raises(DumpFileError, match="truncated"):
        b"".join(decrypt_chunks(io.BytesIO(whole[: len(whole) - 40]), keys))
    archive_keys = BackupKeys.from_spec(OLD, info=ARCHIVE_INFO)  # a different derived key
    with pytest.raises(DumpFileError, match="does not decrypt"):
        b"".join(decrypt_chunks(io.BytesIO(whole), archive_keys))


def test_segments_stay_readable_after_a_master_key_rotation(tmp_path: Path) -> None:
    path = tmp_path / "LINE_IN" / "2026-06-01.seg"
    before = BackupKeys.from_spec(OLD, info=ARCHIVE_INFO)
    append_record(
        path, encode_record(_event(1), key=before.key("old")), key_id="old", stream="LINE_IN"
    )
    after = BackupKeys.from_spec(f"{NEW},{OLD}", info=ARCHIVE_INFO)
    assert after.active_id == "new"
    assert [e.sequence for e in read_segment(path, after)] == [1]
    with pytest.raises(KeyError, match="not configured"):
        list(read_segment(path, BackupKeys.from_spec(NEW, info=ARCHIVE_INFO)))


def test_a_torn_record_is_cut_off_before_the_next_append(tmp_path: Path) -> None:
    keys = BackupKeys.from_spec(OLD, info=ARCHIVE_INFO)
    path = tmp_path / "LINE_IN" / "2026-06-01.seg"
    for seq in (1, 2):
        append_record(
            path, encode_record(_event(seq), key=keys.key("old")), key_id="old", stream="LINE_IN"
        )
    with path.open("ab") as f:
        f.write(encode_record(_event(3), key=keys.key("old"))[:20])  # crash mid-write
    assert scan_tail(path)[0] == 2
    append_record(
        path, encode_record(_event(3), key=keys.key("old")), key_id="old", stream="LINE_IN"
    )
    assert [e.sequence for e in read_segment(path, keys)] == [1, 2, 3]
    assert b"plaintext" not in path.read_bytes()


def test_a_tampered_record_does_not_decrypt(tmp_path: Path) -> None:
    keys = BackupKeys.from_spec(OLD, info=ARCHIVE_INFO)
    path = tmp_path / "LINE_IN" / "2026-06-01.seg"
    append_record(
        path, encode_record(_event(1), key=keys.key("old")), key_id="old", stream="LINE_IN"
    )
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(SegmentError, match="does not decrypt"):
        list(read_segment(path, keys))


def test_gaps_and_duplicates_are_found() -> None:
    assert find_gaps([1, 2, 3]) == []
    assert find_gaps([1, 2, 5, 5]) == [(3, 4), (5, 5)]
