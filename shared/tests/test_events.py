from sodan_shared.events.line import MessageReceived
from sodan_shared.testing.factories import make_message_received


def test_a_consumer_ignores_fields_a_newer_producer_added() -> None:
    event = make_message_received()
    data = event.model_dump(mode="json")
    data["payload"]["added_later"] = "optional and unknown to this consumer"
    data["added_to_envelope"] = 1
    parsed = MessageReceived.model_validate(data)
    assert parsed.payload.client_id == event.payload.client_id


def test_derived_events_keep_the_correlation_of_the_first() -> None:
    from sodan_shared.testing.factories import make_message_scored

    received = make_message_received()
    scored = make_message_scored(received)
    assert scored.correlation_id == received.id
    assert scored.causation_id == received.id
