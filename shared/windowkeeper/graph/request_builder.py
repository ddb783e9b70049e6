"""The exact Graph API request for a decision: path and JSON body, built from data only.

``build_send_request(account, contact, decision, content)`` reads the engine's
``decision.send_fields`` and the content. The mapping (M1, M10, M11, M12, I1, I2, W1, W14):

Messenger and Instagram, ``POST /{account_id}/messages`` (Page id / Instagram account id):

============================  ====================================================================
``send_fields`` key            request
============================  ====================================================================
``messaging_type``             ``messaging_type`` (RESPONSE / UPDATE / MESSAGE_TAG / UTILITY). If
                               absent it follows the decision's path: free_form and plus_one →
                               RESPONSE, human_agent / message_tag / customer_feedback →
                               MESSAGE_TAG, utility_template → UTILITY.
``tag``                        ``tag`` (HUMAN_AGENT, CUSTOMER_FEEDBACK, ...); the human_agent path
                               implies HUMAN_AGENT and customer_feedback implies CUSTOMER_FEEDBACK.
``recipient``                  ``{"comment_id": ...}``: a private reply; ``recipient`` replaces
                               ``{"id": psid}`` and no ``messaging_type`` is sent (I2, M2).
``api``                        ``"marketing_messages"`` or ``"recurring_notifications"``: a
                               Messenger marketing message, see below.
``subscription_token``         the opt-in token for the marketing message.
``thread_control``,            passed through unchanged (conversation routing in the Send API, M5;
``persona_id``                 personas).
``feedback``                   a dict merged into the customer feedback template payload (e.g.
                               ``business_privacy``, ``expires_in_days``, ``feedback_screens``).
============================  ====================================================================

Content → ``message``: text → ``{"text"}``; media → ``{"attachment": {"type": image|video|audio|
file, "payload": {"url", "is_reusable": true}}}``; template (utility) → ``{"template": {"name",
"language": {"code"}, "components": [{"type": "body", "parameters": [{"type": "text", "text"}]}]}}``
with ``template.parameters`` as the body values in order (M10); feedback template →
``{"attachment": {"type": "template", "payload": {"template_type": "customer_feedback", ...}}}``
with one CSAT question titled by the content text (M12).

Messenger marketing messages (M11). Two shapes, chosen by ``send_fields``:

* default: the Page Send API, ``POST /{page_id}/messages`` with
  ``{"recipient": {"notification_messages_token": <token>}, "message": ...}``. This is the opt-in
  token API that "Marketing Messages" grew out of; Meta says tokens gathered there work with the
  new API, and it needs nothing but the Page token we already hold.
* with ``api: "marketing_messages"`` and ``ad_account_id`` + ``campaign_id`` also in
  ``send_fields``: the Marketing Message API,
  ``POST /act_{ad_account_id}/messages`` with ``{"message_id": campaign_id,
  "messenger_delivery_data": {"subscription_token"}, "message", "min_conversation_gap_seconds"?}``.
  That is Meta's current path, but it needs an ad account, a campaign and a system-user token,
  which account configuration does not carry yet.

WhatsApp, ``POST /{phone_number_id}/messages``: ``{"messaging_product": "whatsapp",
"recipient_type": "individual", "to": wa_id, "type": ...}`` with ``type`` from ``send_fields`` or
the content: ``"text": {"body", "preview_url": false}``; media → ``image|video|audio|document:
{"link", "caption"?}``; ``"template": {"name", "language": {"code"}, "components"?}``.
``send_fields["category"]`` is the engine's record of the template category: Meta takes the
category from the template itself, so it is not sent. ``send_fields["components"]`` (a list)
replaces the generated template components when the caller needs headers or buttons.

Unknown ``send_fields`` keys are ignored (the engine may add bookkeeping keys); their names, never
their values, are logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.graph.errors import Condition, tag_retired
from windowkeeper.policy.model import Channel, ContactState, Content, ContentKind, Decision, Path

logger = logging.getLogger(__name__)

MARKETING_API = "marketing_messages"
RECURRING_NOTIFICATIONS_API = "recurring_notifications"  # the engine's name for pre-2026 opt-in sends
MARKETING_APIS = frozenset({MARKETING_API, RECURRING_NOTIFICATIONS_API})
PASS_THROUGH_KEYS = ("thread_control", "persona_id")
KNOWN_KEYS = frozenset(
    {
        "messaging_type",
        "tag",
        "recipient",
        "api",
        "subscription_token",
        "ad_account_id",
        "campaign_id",
        "min_conversation_gap_seconds",
        "type",
        "category",
        "components",
        "feedback",
        *PASS_THROUGH_KEYS,
    }
)

DEFAULT_MESSAGING_TYPE: dict[Path, str] = {
    Path.FREE_FORM: "RESPONSE",
    Path.PLUS_ONE: "RESPONSE",
    Path.HUMAN_AGENT: "MESSAGE_TAG",
    Path.MESSAGE_TAG: "MESSAGE_TAG",
    Path.CUSTOMER_FEEDBACK: "MESSAGE_TAG",
    Path.UTILITY_TEMPLATE: "UTILITY",
}
IMPLIED_TAG: dict[Path, str] = {Path.HUMAN_AGENT: "HUMAN_AGENT", Path.CUSTOMER_FEEDBACK: "CUSTOMER_FEEDBACK"}
MESSENGER_ATTACHMENT_TYPE = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
WHATSAPP_MEDIA_TYPE = {"image": "image", "video": "video", "audio": "audio", "file": "document"}


class GraphRequestError(ValueError):
    """The decision and content cannot make a valid request (a bug upstream, not Meta's refusal)."""


@dataclass(frozen=True)
class GraphRequest:
    """One Graph call: ``path`` is relative to ``{base}/{version}/``."""

    path: str
    body: dict[str, Any]
    channel: Channel
    conditions: frozenset[Condition] = field(default=frozenset())
    marketing_api_v2: bool = False  # answered with marketing_message_tracking_id


def build_send_request(
    account: AccountConfig, contact: ContactState, decision: Decision, content: Content
) -> GraphRequest:
    unknown = sorted(set(decision.send_fields) - KNOWN_KEYS)
    if unknown:
        logger.warning("ignoring unknown send_fields keys", extra={"keys": unknown})
    if contact.channel is Channel.WHATSAPP:
        return _whatsapp(account, contact, decision, content)
    if contact.channel in (Channel.MESSENGER, Channel.INSTAGRAM):
        return _messenger_family(account, contact, decision, content)
    raise GraphRequestError(f"channel {contact.channel.value} is not delivered through the Graph API")


def thread_control_request(
    account: AccountConfig, contact_id: str, action: str, **fields_: str
) -> GraphRequest:
    """``pass_thread_control`` / ``take_thread_control`` / ``release_thread_control`` (M5, I5).

    Both Messenger and Instagram post to the account's node: for Instagram that is the IG account
    id (Instagram Login); apps on Facebook Login whose node is the Page should configure the Page
    id as the account id.
    """
    if account.channel not in (Channel.MESSENGER, Channel.INSTAGRAM):
        raise GraphRequestError(f"thread control does not exist on {account.channel.value}")
    body: dict[str, Any] = {"recipient": {"id": contact_id}}
    body.update({k: v for k, v in fields_.items() if v})
    return GraphRequest(path=f"{account.account_id}/{action}", body=body, channel=account.channel)


def _messenger_family(
    account: AccountConfig, contact: ContactState, decision: Decision, content: Content
) -> GraphRequest:
    fields_ = decision.send_fields
    message = _messenger_message(content, fields_)
    if fields_.get("api") in MARKETING_APIS:
        return _marketing(account, contact, fields_, message)

    conditions: set[Condition] = set()
    body: dict[str, Any]
    recipient = fields_.get("recipient")
    if isinstance(recipient, dict) and recipient.get("comment_id"):
        # Private reply: the comment is the recipient; no messaging_type (I2, M2).
        body = {"recipient": {"comment_id": str(recipient["comment_id"])}, "message": message}
    else:
        body = {"recipient": {"id": contact.contact_id}}
        messaging_type = fields_.get("messaging_type") or (
            DEFAULT_MESSAGING_TYPE.get(decision.path) if decision.path else None
        )
        if not messaging_type:
            raise GraphRequestError(f"no messaging_type for path {decision.path}")
        body["messaging_type"] = messaging_type
        tag = fields_.get("tag") or (IMPLIED_TAG.get(decision.path) if decision.path else None)
        if messaging_type == "MESSAGE_TAG":
            if not tag:
                raise GraphRequestError("messaging_type MESSAGE_TAG needs a tag")
            body["tag"] = tag
            if tag_retired(tag, decision.decided_at):
                conditions.add(Condition.RETIRED_TAG)
        body["message"] = message
    for key in PASS_THROUGH_KEYS:
        if key in fields_:
            body[key] = fields_[key]
    return GraphRequest(
        path=f"{account.account_id}/messages",
        body=body,
        channel=contact.channel,
        conditions=frozenset(conditions),
    )


def _marketing(
    account: AccountConfig, contact: ContactState, fields_: dict[str, Any], message: dict[str, Any]
) -> GraphRequest:
    if contact.channel is not Channel.MESSENGER:
        raise GraphRequestError("marketing messages are a Messenger API")
    token = fields_.get("subscription_token")
    if not token:
        raise GraphRequestError("a marketing message needs send_fields.subscription_token")
    conditions = frozenset({Condition.MARKETING_API})
    use_marketing_api = fields_.get("api") == MARKETING_API
    if use_marketing_api and fields_.get("ad_account_id") and fields_.get("campaign_id"):
        body: dict[str, Any] = {
            "message_id": str(fields_["campaign_id"]),
            "messenger_delivery_data": {"subscription_token": str(token)},
            "message": message,
        }
        if fields_.get("min_conversation_gap_seconds"):
            body["min_conversation_gap_seconds"] = int(fields_["min_conversation_gap_seconds"])
        ad_account = str(fields_["ad_account_id"]).removeprefix("act_")
        return GraphRequest(
            path=f"act_{ad_account}/messages",
            body=body,
            channel=contact.channel,
            conditions=conditions,
            marketing_api_v2=True,
        )
    body = {"recipient": {"notification_messages_token": str(token)}, "message": message}
    return GraphRequest(
        path=f"{account.account_id}/messages", body=body, channel=contact.channel, conditions=conditions
    )


def _messenger_message(content: Content, fields_: dict[str, Any]) -> dict[str, Any]:
    if content.kind is ContentKind.TEXT:
        return {"text": _required_text(content)}
    if content.kind is ContentKind.MEDIA:
        if not content.media_url or not content.media_type:
            raise GraphRequestError("media content needs media_url and media_type")
        return {
            "attachment": {
                "type": MESSENGER_ATTACHMENT_TYPE[content.media_type],
                "payload": {"url": content.media_url, "is_reusable": True},
            }
        }
    if content.kind is ContentKind.TEMPLATE:
        return {"template": _template_object(content, fields_)}
    if content.kind is ContentKind.FEEDBACK_TEMPLATE:
        return {"attachment": {"type": "template", "payload": _feedback_payload(content, fields_)}}
    raise GraphRequestError(f"unsupported content kind {content.kind}")


def _feedback_payload(content: Content, fields_: dict[str, Any]) -> dict[str, Any]:
    question = content.text or "How would you rate your experience with us?"
    payload: dict[str, Any] = {
        "template_type": "customer_feedback",
        "title": question,
        "subtitle": "Your answer helps us do better.",
        "button_title": "Rate experience",
        "feedback_screens": [
            {
                "questions": [
                    {
                        "id": "csat",
                        "type": "csat",
                        "title": question,
                        "score_label": "neg_pos",
                        "score_option": "five_stars",
                        "follow_up": {"type": "free_form", "placeholder": "Anything else to tell us?"},
                    }
                ]
            }
        ],
        "expires_in_days": 7,
    }
    extra = fields_.get("feedback")
    if isinstance(extra, dict):
        payload.update(extra)
    return payload


def _template_object(content: Content, fields_: dict[str, Any]) -> dict[str, Any]:
    template = content.template
    if template is None:
        raise GraphRequestError("template content needs a template")
    obj: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components = fields_.get("components")
    if isinstance(components, list):
        obj["components"] = components
    elif template.parameters:
        obj["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": value} for value in template.parameters]}
        ]
    return obj


def _whatsapp(
    account: AccountConfig, contact: ContactState, decision: Decision, content: Content
) -> GraphRequest:
    fields_ = decision.send_fields
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": contact.contact_id,
    }
    if content.kind is ContentKind.TEMPLATE:
        message_type = "template"
        body["template"] = _template_object(content, fields_)
    elif content.kind is ContentKind.TEXT:
        message_type = "text"
        body["text"] = {"body": _required_text(content), "preview_url": False}
    elif content.kind is ContentKind.MEDIA:
        if not content.media_url or not content.media_type:
            raise GraphRequestError("media content needs media_url and media_type")
        message_type = WHATSAPP_MEDIA_TYPE[content.media_type]
        media: dict[str, Any] = {"link": content.media_url}
        if content.text and message_type != "audio":
            media["caption"] = content.text
        body[message_type] = media
    else:
        raise GraphRequestError(f"{content.kind.value} content does not exist on WhatsApp")
    declared = fields_.get("type")
    # The engine says "text" for any free-form message; only a template/free-form mix-up is a bug.
    if declared and (declared == "template") != (message_type == "template"):
        raise GraphRequestError(f"decision says type {declared!r} but the content is {message_type!r}")
    body["type"] = message_type
    return GraphRequest(path=f"{account.account_id}/messages", body=body, channel=Channel.WHATSAPP)


def _required_text(content: Content) -> str:
    if not content.text:
        raise GraphRequestError("text content needs text")
    return content.text
