"""Real-shaped Meta webhook payloads, as plain functions (meta-policy.md §4.4, M6-M9, I2, I6, W14-W16).

Every builder returns the whole POST body as a dict (``object`` + ``entry[]``) for one event, with
the channel's own timestamp units: Messenger and Instagram ``messaging[].timestamp`` in epoch
milliseconds, WhatsApp ``timestamp`` in epoch *seconds as a string*. ``serialize`` writes the
bytes the way Meta does (ASCII with ``\\uXXXX`` escapes, compact separators) and ``signature``
gives the ``X-Hub-Signature-256`` header value for those bytes. ``batch`` merges several
payloads of one object into one POST with several entries, as Meta batches them.

Ids are random but shaped like Meta's (``m_...`` mids, ``aWdf...`` Instagram mids,
``wamid.HBgL...`` WhatsApp ids); pass your own to make a test deterministic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

Payload = dict[str, Any]

PAGE_OBJECT = "page"
CTWA_CLID_EXAMPLE = (
    "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
)
INSTAGRAM_OBJECT = "instagram"
WHATSAPP_OBJECT = "whatsapp_business_account"


# --- who the simulated customers are ----------------------------------------------------------

_FIRST_NAMES = (
    "Ana", "Bruno", "Carla", "Dmitri", "Eve", "Farid", "Gabriela", "Hiro", "Inês", "Jonas",
    "Kemal", "Lucía", "Mateus", "Nadia", "Oluwaseun", "Priya", "Quentin", "Rosa", "Sven", "Thu",
)  # fmt: skip
_LAST_NAMES = (
    "Souza", "Lima", "Díaz", "Ivanov", "Martin", "Haddad", "Rocha", "Tanaka", "Ferreira", "Berg",
    "Yilmaz", "Fernández", "Costa", "Rahman", "Adeyemi", "Sharma", "Dubois", "Moreno", "Larsen", "Nguyen",
)  # fmt: skip


def customer_name(contact_id: str) -> str:
    """A realistic name, the same for a contact id every time (so every payload agrees)."""
    digest = hashlib.blake2b(contact_id.encode(), digest_size=4).digest()
    return f"{_FIRST_NAMES[digest[0] % len(_FIRST_NAMES)]} {_LAST_NAMES[digest[1] % len(_LAST_NAMES)]}"


def customer_username(contact_id: str) -> str:
    """The Instagram username that goes with ``customer_name`` (ASCII, lower case, dotted)."""
    folded = unicodedata.normalize("NFKD", customer_name(contact_id)).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", ".")


# --- encoding ---------------------------------------------------------------------------------


def serialize(payload: Payload) -> bytes:
    """The bytes Meta sends: escaped unicode (``ä`` → ``\\u00e4``), no spaces."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def signature(body: bytes, app_secret: str) -> str:
    """``X-Hub-Signature-256`` header value: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_sha1(body: bytes, app_secret: str) -> str:
    """The legacy ``X-Hub-Signature`` header Meta still sends alongside."""
    return "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()


def batch(*payloads: Payload) -> Payload:
    """Several single-event payloads of the same object as one batched POST."""
    objects = {p["object"] for p in payloads}
    if len(objects) != 1:
        raise ValueError(f"cannot batch different objects: {sorted(objects)}")
    return {"object": objects.pop(), "entry": [entry for p in payloads for entry in p["entry"]]}


# --- ids and time -----------------------------------------------------------------------------


def epoch_ms(at: datetime) -> int:
    return int(_utc(at).timestamp() * 1000)


def epoch_s(at: datetime) -> int:
    return int(_utc(at).timestamp())


def messenger_mid() -> str:
    return "m_" + _b64(secrets.token_bytes(36))


def instagram_mid() -> str:
    return "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx" + _b64(secrets.token_bytes(24))


def wamid() -> str:
    return "wamid.HBgL" + _b64(secrets.token_bytes(30)) + "="


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=").replace("-", "A").replace("_", "B")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return at.astimezone(UTC)


# --- Messenger / Instagram (object page / instagram) --------------------------------------------


def _messaging(obj: str, account_id: str, at: datetime, event: dict[str, Any]) -> Payload:
    return {"object": obj, "entry": [{"id": account_id, "time": epoch_ms(at), "messaging": [event]}]}


def _from_customer(account_id: str, contact_id: str, at: datetime) -> dict[str, Any]:
    return {"sender": {"id": contact_id}, "recipient": {"id": account_id}, "timestamp": epoch_ms(at)}


def messenger_message(
    page_id: str,
    psid: str,
    text: str,
    at: datetime,
    *,
    mid: str | None = None,
    quick_reply_payload: str | None = None,
    referral: dict[str, Any] | None = None,
    obj: str = PAGE_OBJECT,
) -> Payload:
    """A customer's text message to a Page (or, with ``obj="instagram"``, to an IG account)."""
    message: dict[str, Any] = {
        "mid": mid or (instagram_mid() if obj == INSTAGRAM_OBJECT else messenger_mid())
    }
    message["text"] = text
    if quick_reply_payload is not None:
        message["quick_reply"] = {"payload": quick_reply_payload}
    if referral is not None:
        message["referral"] = referral
    return _messaging(obj, page_id, at, {**_from_customer(page_id, psid, at), "message": message})


def instagram_message(
    ig_account_id: str, igsid: str, text: str, at: datetime, *, mid: str | None = None
) -> Payload:
    return messenger_message(ig_account_id, igsid, text, at, mid=mid, obj=INSTAGRAM_OBJECT)


def messenger_postback(
    page_id: str,
    psid: str,
    title: str,
    payload: str,
    at: datetime,
    *,
    obj: str = PAGE_OBJECT,
    referral: dict[str, Any] | None = None,
) -> Payload:
    """A tap on Get Started, a button or a persistent-menu item (M9)."""
    postback: dict[str, Any] = {"mid": messenger_mid(), "title": title, "payload": payload}
    if referral is not None:
        postback["referral"] = referral
    return _messaging(obj, page_id, at, {**_from_customer(page_id, psid, at), "postback": postback})


def messenger_reaction(
    page_id: str,
    psid: str,
    target_mid: str,
    at: datetime,
    *,
    emoji: str = "\u2764\ufe0f",
    reaction: str = "love",
    action: str = "react",
    obj: str = PAGE_OBJECT,
) -> Payload:
    event = {
        **_from_customer(page_id, psid, at),
        "reaction": {"mid": target_mid, "action": action, "reaction": reaction, "emoji": emoji},
    }
    return _messaging(obj, page_id, at, event)


def ad_referral(
    ad_id: str, *, ref: str | None = None, source: str = "ADS", ad_title: str = "Winter sale"
) -> dict[str, Any]:
    """The ``referral`` object of a Click-to-Messenger / Click-to-Direct ad (M7)."""
    referral: dict[str, Any] = {
        "source": source,
        "type": "OPEN_THREAD",
        "ad_id": ad_id,
        "ads_context_data": {"ad_title": ad_title, "photo_url": "https://scontent.example/ad.jpg"},
    }
    if ref is not None:
        referral["ref"] = ref
    return referral


def messenger_ad_message(
    page_id: str, psid: str, text: str, at: datetime, *, ad_id: str, obj: str = PAGE_OBJECT
) -> Payload:
    """The first message after clicking a Click-to-Messenger (or Click-to-Direct) ad."""
    return messenger_message(page_id, psid, text, at, referral=ad_referral(ad_id), obj=obj)


def messenger_echo(
    page_id: str, psid: str, text: str, at: datetime, *, app_id: str, obj: str = PAGE_OBJECT
) -> Payload:
    """Our own (or the Page Inbox's, app 263902037430900) send echoed back: sender is the Page (M8)."""
    event = {
        "sender": {"id": page_id},
        "recipient": {"id": psid},
        "timestamp": epoch_ms(at),
        "message": {"mid": messenger_mid(), "is_echo": True, "app_id": int(app_id), "text": text},
    }
    return _messaging(obj, page_id, at, event)


def messenger_marketing_opt_in(
    page_id: str, psid: str, token: str, at: datetime, *, title: str = "Offers"
) -> Payload:
    """A marketing-messages opt-in (``messaging_optins``): does not open a window (M15)."""
    optin = {
        "type": "notification_messages",
        "payload": "marketing-optin",
        "notification_messages_token": token,
        "notification_messages_frequency": "DAILY",
        "notification_messages_timezone": "UTC",
        "token_expiry_timestamp": epoch_ms(at) + 365 * 86_400_000,
        "user_token_status": "NOT_REFRESHED",
        "notification_messages_status": "RESUME_NOTIFICATIONS",
        "title": title,
    }
    return _messaging(PAGE_OBJECT, page_id, at, {**_from_customer(page_id, psid, at), "optin": optin})


def messenger_delivery(page_id: str, psid: str, mids: list[str], at: datetime) -> Payload:
    event = {**_from_customer(page_id, psid, at), "delivery": {"mids": mids, "watermark": epoch_ms(at)}}
    return _messaging(PAGE_OBJECT, page_id, at, event)


def messenger_read(page_id: str, psid: str, at: datetime) -> Payload:
    return _messaging(
        PAGE_OBJECT, page_id, at, {**_from_customer(page_id, psid, at), "read": {"watermark": epoch_ms(at)}}
    )


def messenger_handover(
    page_id: str,
    psid: str,
    at: datetime,
    *,
    action: str,
    new_owner_app_id: str,
    previous_owner_app_id: str = "",
) -> Payload:
    """``pass_thread_control`` / ``take_thread_control`` webhook (M5); Page Inbox is 263902037430900."""
    body: dict[str, Any] = {"new_owner_app_id": new_owner_app_id, "metadata": ""}
    if previous_owner_app_id:
        body["previous_owner_app_id"] = previous_owner_app_id
    return _messaging(PAGE_OBJECT, page_id, at, {**_from_customer(page_id, psid, at), action: body})


def instagram_comment(
    ig_account_id: str,
    commenter_id: str,
    comment_id: str,
    text: str,
    at: datetime,
    *,
    username: str | None = None,
    media_id: str = "17900000000000001",
) -> Payload:
    """A comment on the account's post or reel (``changes[].field = "comments"``, I2, I6)."""
    return {
        "object": INSTAGRAM_OBJECT,
        "entry": [
            {
                "id": ig_account_id,
                "time": epoch_s(at),
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "from": {
                                "id": commenter_id,
                                "username": username or customer_username(commenter_id),
                            },
                            "media": {"id": media_id, "media_product_type": "FEED"},
                            "id": comment_id,
                            "text": text,
                        },
                    }
                ],
            }
        ],
    }


def messenger_comment(
    page_id: str,
    psid: str,
    comment_id: str,
    text: str,
    at: datetime,
    *,
    post_id: str | None = None,
    name: str | None = None,
) -> Payload:
    """A comment on a Page post (``feed`` change); one private reply allowed within 7 days (M2)."""
    return {
        "object": PAGE_OBJECT,
        "entry": [
            {
                "id": page_id,
                "time": epoch_s(at),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": comment_id,
                            "post_id": post_id or f"{page_id}_{comment_id.split('_', maxsplit=1)[0]}",
                            "parent_id": post_id or f"{page_id}_{comment_id.split('_', maxsplit=1)[0]}",
                            "from": {"id": psid, "name": name or customer_name(psid)},
                            "message": text,
                            "created_time": epoch_s(at),
                        },
                    }
                ],
            }
        ],
    }


# --- WhatsApp (object whatsapp_business_account) -----------------------------------------------


def _wa_value(phone_number_id: str, display_phone_number: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
    }


def _wa_contact(wa_id: str, name: str | None, user_id: str | None) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": name or customer_name(wa_id)}, "wa_id": wa_id}
    if user_id:
        contact["user_id"] = user_id
    return contact


def _wa_change(waba_id: str, field: str, value: dict[str, Any]) -> Payload:
    return {
        "object": WHATSAPP_OBJECT,
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def whatsapp_inbound(
    waba_id: str,
    phone_number_id: str,
    wa_id: str,
    message: dict[str, Any],
    at: datetime,
    *,
    display_phone_number: str = "15550100001",
    name: str | None = None,
    user_id: str | None = None,
    message_id: str | None = None,
) -> Payload:
    """Any inbound message (``message`` = the type-specific part, e.g. ``{"type": "text", ...}``)."""
    value = _wa_value(phone_number_id, display_phone_number)
    value["contacts"] = [_wa_contact(wa_id, name, user_id)]
    value["messages"] = [
        {"from": wa_id, "id": message_id or wamid(), "timestamp": str(epoch_s(at)), **message}
    ]
    return _wa_change(waba_id, "messages", value)


def whatsapp_text(
    waba_id: str, phone_number_id: str, wa_id: str, text: str, at: datetime, **options: Any
) -> Payload:
    return whatsapp_inbound(
        waba_id, phone_number_id, wa_id, {"type": "text", "text": {"body": text}}, at, **options
    )


def whatsapp_button_reply(
    waba_id: str, phone_number_id: str, wa_id: str, title: str, at: datetime, *, reply_id: str, **options: Any
) -> Payload:
    """A tap on an interactive reply button (WhatsApp's postback)."""
    message = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }
    return whatsapp_inbound(waba_id, phone_number_id, wa_id, message, at, **options)


def whatsapp_reaction(
    waba_id: str,
    phone_number_id: str,
    wa_id: str,
    target_wamid: str,
    at: datetime,
    *,
    emoji: str = "\U0001f44d",
    **options: Any,
) -> Payload:
    message = {"type": "reaction", "reaction": {"message_id": target_wamid, "emoji": emoji}}
    return whatsapp_inbound(waba_id, phone_number_id, wa_id, message, at, **options)


def whatsapp_ad_message(
    waba_id: str,
    phone_number_id: str,
    wa_id: str,
    text: str,
    at: datetime,
    *,
    ad_id: str,
    ctwa_clid: str | None = None,
    **options: Any,
) -> Payload:
    """The first message after tapping a Click-to-WhatsApp ad (``referral`` with ``ctwa_clid``)."""
    message = {
        "type": "text",
        "text": {"body": text},
        "referral": {
            "source_url": f"https://fb.me/{ad_id}",
            "source_id": ad_id,
            "source_type": "ad",
            "body": "Winter sale: 20% off boots",
            "headline": "Chat with us",
            "media_type": "image",
            "image_url": "https://scontent.example/ad.jpg",
            "ctwa_clid": ctwa_clid or CTWA_CLID_EXAMPLE,
        },
    }
    return whatsapp_inbound(waba_id, phone_number_id, wa_id, message, at, **options)


def whatsapp_call(
    waba_id: str,
    phone_number_id: str,
    wa_id: str,
    at: datetime,
    *,
    display_phone_number: str = "15550100001",
    name: str | None = None,
    event: str = "connect",
    direction: str = "USER_INITIATED",
) -> Payload:
    """A user call (``field: calls``): opens the customer service window answered or not (W16)."""
    value = _wa_value(phone_number_id, display_phone_number)
    value["contacts"] = [_wa_contact(wa_id, name, None)]
    value["calls"] = [
        {
            "id": "wacid.HBgL" + _b64(secrets.token_bytes(24)),
            "to": display_phone_number,
            "from": wa_id,
            "event": event,
            "timestamp": str(epoch_s(at)),
            "direction": direction,
        }
    ]
    return _wa_change(waba_id, "calls", value)


def whatsapp_status(
    waba_id: str,
    phone_number_id: str,
    wa_id: str,
    message_wamid: str,
    at: datetime,
    *,
    status: str = "delivered",
    display_phone_number: str = "15550100001",
    error_code: int | None = None,
    error_title: str = "",
    error_details: str = "",
    pricing_type: str = "regular",
    pricing_category: str = "service",
) -> Payload:
    """sent / delivered / read / failed (with ``errors[]``, e.g. 131049, 131050, 131047) (W14)."""
    entry: dict[str, Any] = {
        "id": message_wamid,
        "status": status,
        "timestamp": str(epoch_s(at)),
        "recipient_id": wa_id,
    }
    if status != "failed":
        entry["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "type": pricing_type,
            "category": pricing_category,
        }
    if error_code is not None:
        entry["errors"] = [
            {
                "code": error_code,
                "title": error_title or f"Error {error_code}",
                "message": error_title or f"Error {error_code}",
                "error_data": {"details": error_details or error_title or f"Error {error_code}"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    value = _wa_value(phone_number_id, display_phone_number)
    value["statuses"] = [entry]
    return _wa_change(waba_id, "messages", value)


def whatsapp_user_preferences(
    waba_id: str,
    phone_number_id: str,
    wa_id: str,
    value: str,
    at: datetime,
    *,
    display_phone_number: str = "15550100001",
    name: str | None = None,
) -> Payload:
    """The user tapped Stop / Resume on marketing messages (``value`` "stop" or "resume", W9)."""
    if value not in ("stop", "resume"):
        raise ValueError("user_preferences value is 'stop' or 'resume'")
    body = _wa_value(phone_number_id, display_phone_number)
    body["contacts"] = [_wa_contact(wa_id, name, None)]
    body["user_preferences"] = [
        {
            "wa_id": wa_id,
            "detail": "User requested to stop marketing messages"
            if value == "stop"
            else "User resumed marketing messages",
            "category": "marketing_messages",
            "value": value,
            "timestamp": epoch_s(at),
        }
    ]
    return _wa_change(waba_id, "user_preferences", body)


def whatsapp_template_status_update(
    waba_id: str,
    template_name: str,
    language: str,
    event: str,
    at: datetime,
    *,
    template_id: int = 1230000000001,
    reason: str = "NONE",
    other_info: dict[str, str] | None = None,
) -> Payload:
    """Meta's verdict on a template (``message_template_status_update``, W12): ``event`` is
    APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, REINSTATED...; ``reason`` NONE or a rejection
    reason; PAUSED and DISABLED carry ``other_info`` (title FIRST_PAUSE, SECOND_PAUSE...)."""
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": template_name,
        "message_template_language": language,
        "reason": reason,
    }
    if other_info is None and event in ("PAUSED", "DISABLED"):
        other_info = {
            "title": "FIRST_PAUSE" if event == "PAUSED" else "DISABLED",
            "description": f"Your template {template_name} has been {event.lower()} because of low quality.",
        }
    if other_info is not None:
        value["other_info"] = other_info
    payload = _wa_change(waba_id, "message_template_status_update", value)
    payload["entry"][0]["time"] = epoch_s(at)
    return payload


def whatsapp_template_category_update(
    waba_id: str,
    template_name: str,
    language: str,
    previous_category: str,
    new_category: str,
    *,
    at: datetime,
    template_id: int = 1230000000001,
) -> Payload:
    """Meta re-categorised a template (``template_category_update``, W10), the change made."""
    value = {
        "message_template_id": template_id,
        "message_template_name": template_name,
        "message_template_language": language,
        "previous_category": previous_category,
        "new_category": new_category,
    }
    payload = _wa_change(waba_id, "template_category_update", value)
    payload["entry"][0]["time"] = epoch_s(at)
    return payload


def whatsapp_template_quality_update(
    waba_id: str,
    template_name: str,
    language: str,
    previous_quality: str,
    new_quality: str,
    *,
    at: datetime,
    template_id: int = 1230000000001,
) -> Payload:
    """A template's quality rating changed (``message_template_quality_update``, W11)."""
    value = {
        "message_template_id": template_id,
        "message_template_name": template_name,
        "message_template_language": language,
        "previous_quality_score": previous_quality,
        "new_quality_score": new_quality,
    }
    payload = _wa_change(waba_id, "message_template_quality_update", value)
    payload["entry"][0]["time"] = epoch_s(at)
    return payload


def messenger_policy_enforcement(
    page_id: str, at: datetime, *, action: str = "warning", reason: str = "", obj: str = PAGE_OBJECT
) -> Payload:
    """``messaging_policy_enforcement``: Meta warns, blocks or unblocks the Page's messaging.

    Page-level (no sender): ``recipient`` is the Page; ``action`` warning, block or unblock.
    """
    if action not in ("warning", "block", "unblock"):
        raise ValueError("policy_enforcement action is 'warning', 'block' or 'unblock'")
    enforcement: dict[str, Any] = {"action": action}
    if action != "unblock":
        enforcement["reason"] = reason or "The bot violated our Platform Policies."
    event = {"recipient": {"id": page_id}, "timestamp": epoch_ms(at), "policy_enforcement": enforcement}
    return _messaging(obj, page_id, at, event)
