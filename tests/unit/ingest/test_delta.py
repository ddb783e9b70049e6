from __future__ import annotations

from tests.unit.ingest.meta_fixtures import BASE_MS, PSID_A, payload, resolver
from windowkeeper.ingest.delta import ContactDelta, collapse
from windowkeeper.ingest.models import Envelope
from windowkeeper.ingest.normalize import normalize
from windowkeeper.ingest.observations import ContactKey
from windowkeeper.policy.model import Channel, ConsentScope, CustomerActionKind


def deltas(*names: str) -> dict[ContactKey, ContactDelta]:
    observations = []
    for name in names:
        observations += normalize(Envelope.model_validate(payload(name)), resolver()).observations
    return collapse(observations)


KEY_A = ContactKey(Channel.MESSENGER, "104800000000001", PSID_A)


def test_all_events_of_one_contact_collapse_to_the_newest_window_action() -> None:
    result = deltas("messenger_text_batched_two_entries.json")
    assert len(result) == 2
    window = result[KEY_A].window
    assert window is not None
    assert (window.at_ms, window.kind, window.event_id) == (
        BASE_MS + 3000,
        CustomerActionKind.POSTBACK,
        "m_AaA2xyz-postback",
    )


def test_order_in_the_body_does_not_matter() -> None:
    data = payload("messenger_text_batched_two_entries.json")
    data["entry"].reverse()
    reversed_result = collapse(normalize(Envelope.model_validate(data), resolver()).observations)
    assert reversed_result == deltas("messenger_text_batched_two_entries.json")


def test_stop_then_start_keeps_each_fact_with_its_own_instant() -> None:
    consent = deltas("messenger_text_stop_keyword.json", "messenger_text_start_keyword.json")[KEY_A].consent
    assert consent is not None
    assert consent.opted_out_ms == ((ConsentScope.ALL, BASE_MS + 8000),)
    assert (ConsentScope.ALL, BASE_MS + 9500) in consent.opted_in_ms and consent.consent_on_record
    assert consent.at_ms == BASE_MS + 9500


def test_entry_point_survives_a_later_plain_message_in_the_same_batch() -> None:
    delta = deltas("messenger_ad_referral_first_message.json", "messenger_text_stop_keyword.json")[KEY_A]
    assert delta.window is not None and delta.entry is not None
    assert delta.entry.entry_point is not None and delta.entry.ad_started_ms == BASE_MS + 1000
    assert delta.window.at_ms == BASE_MS + 8000


def test_deliveries_alone_need_no_write() -> None:
    assert not deltas("messenger_delivery_and_read.json")[KEY_A].needs_write


def test_handover_take_then_pass_back_ends_with_the_bot() -> None:
    routing = deltas("messenger_handover_page_inbox_takes_then_passes_back.json")[KEY_A].routing
    assert routing is not None and routing.owner == "bot" and routing.at_ms == BASE_MS + 200000
