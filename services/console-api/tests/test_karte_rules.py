"""Pure rules of the 相談者カルテ and ケースメモ: who reads and edits, the flag list,
optimistic versions. No broker, no database."""

from __future__ import annotations

from uuid import uuid4

from sodan_console.access_log import action_for, target_of
from sodan_console.karte import FLAGS, flags_problem, in_list_order, next_record_version
from sodan_console.policy import (
    CaseFacts,
    ClientFacts,
    Viewer,
    can_add_case_note,
    can_correct_case_note,
    can_edit_client_record,
    can_read_case_notes,
    can_read_client_record,
)

ME = uuid4()
OTHER = uuid4()
COUNSELLOR = Viewer(ME, "counsellor")
SUPERVISOR = Viewer(ME, "supervisor")
ADMIN = Viewer(ME, "admin")

HOLDING = ClientFacts(holds_open_case=True, ever_assigned=True)
ONCE = ClientFacts(holds_open_case=False, ever_assigned=True)
NEVER = ClientFacts(holds_open_case=False, ever_assigned=False)


def test_a_counsellor_edits_the_record_of_a_client_whose_case_they_hold() -> None:
    assert can_read_client_record(COUNSELLOR, HOLDING)
    assert can_edit_client_record(COUNSELLOR, HOLDING)


def test_a_counsellor_only_reads_the_record_once_they_no_longer_hold_a_case() -> None:
    assert can_read_client_record(COUNSELLOR, ONCE)
    assert not can_edit_client_record(COUNSELLOR, ONCE)


def test_a_counsellor_never_reads_the_record_of_a_client_they_never_handled() -> None:
    assert not can_read_client_record(COUNSELLOR, NEVER)
    assert not can_edit_client_record(COUNSELLOR, NEVER)


def test_supervisors_and_admins_read_and_edit_every_record() -> None:
    for viewer in (SUPERVISOR, ADMIN):
        assert can_read_client_record(viewer, NEVER)
        assert can_edit_client_record(viewer, NEVER)


def test_notes_are_added_by_the_assignee_or_a_supervisor_also_after_closing() -> None:
    assert can_add_case_note(COUNSELLOR, CaseFacts("assigned", ME))
    assert can_add_case_note(COUNSELLOR, CaseFacts("closed", ME))  # the write-up
    assert not can_add_case_note(COUNSELLOR, CaseFacts("assigned", OTHER))
    assert not can_add_case_note(COUNSELLOR, CaseFacts("queued", None))
    assert can_add_case_note(SUPERVISOR, CaseFacts("assigned", OTHER))
    assert not can_add_case_note(ADMIN, CaseFacts("assigned", OTHER))


def test_only_its_author_corrects_a_note() -> None:
    mine = CaseFacts("assigned", ME)
    assert can_correct_case_note(COUNSELLOR, mine, author_id=ME)
    assert not can_correct_case_note(COUNSELLOR, mine, author_id=OTHER)
    assert not can_correct_case_note(SUPERVISOR, CaseFacts("assigned", OTHER), author_id=OTHER)
    # no longer on the case: the author can no longer add, so no correction either
    assert not can_correct_case_note(COUNSELLOR, CaseFacts("assigned", OTHER), author_id=ME)


def test_notes_are_read_with_the_case_or_with_the_clients_record() -> None:
    assert can_read_case_notes(COUNSELLOR, CaseFacts("assigned", ME), NEVER)
    assert can_read_case_notes(COUNSELLOR, CaseFacts("closed", OTHER), ONCE)
    assert not can_read_case_notes(COUNSELLOR, CaseFacts("closed", OTHER), NEVER)
    assert can_read_case_notes(ADMIN, CaseFacts("closed", OTHER), NEVER)


def test_flags_come_from_the_fixed_list_once_each() -> None:
    assert flags_problem([FLAGS[0], FLAGS[2]]) is None
    assert flags_problem(["宇宙人"]) == "不明なフラグです: 宇宙人"
    assert flags_problem([FLAGS[0], FLAGS[0]]) == "フラグが重複しています"
    assert in_list_order([FLAGS[3], FLAGS[1]]) == [FLAGS[1], FLAGS[3]]


def test_a_save_must_start_from_the_current_version() -> None:
    assert next_record_version(0, 0) == 1
    assert next_record_version(3, 3) == 4
    assert next_record_version(4, 3) is None


def test_record_and_note_reads_are_recorded_with_the_client_as_target() -> None:
    assert action_for("GET", "/api/clients/{client_id}/record") == "client_record.read"
    assert action_for("PUT", "/api/clients/{client_id}/record") == "change"
    assert action_for("GET", "/api/cases/{case_id}/notes") == "case_notes.read"
    assert action_for("POST", "/api/cases/{case_id}/notes") == "change"
    assert target_of({"client_id": "c9"}) == ("client", "c9")
