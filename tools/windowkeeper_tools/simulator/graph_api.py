"""The simulated Graph API: sends, tags, private replies, thread control, WhatsApp templates."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from windowkeeper.policy.model import Channel, TemplateStatus
from windowkeeper_tools.simulator import payloads as p
from windowkeeper_tools.simulator.base import (
    HUMAN_AGENT_WINDOW,
    PRIVATE_REPLY_WINDOW,
    RETIRED_2020_ON,
    RETIRED_2026_ON,
    STANDARD_WINDOW,
    TAGS_RETIRED_2020,
    TAGS_RETIRED_2026,
    THREAD_CONTROL_EDGES,
    Fault,
    RecordedRequest,
    SimResponse,
    SimulatorBase,
    graph_error_body,
)


class GraphApi(SimulatorBase):
    # --- the Graph API ------------------------------------------------------------------------

    def handle_graph(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
    ) -> SimResponse:
        """Answer one Graph API call and record it. ``headers`` keys are lower-case."""
        token = _bearer(headers) or query.get("access_token")
        safe_query = {k: v for k, v in query.items() if k != "access_token"}
        node, edge = _node_edge(path)
        with self._lock:
            channel = self._channel_of(node, body)
            fault = self._take_fault(channel)
            if fault is not None:
                response = fault.answer(channel)
            else:
                response = self._answer(method, node, edge, channel=channel, token=token, body=body)
            self._state.requests.append(
                RecordedRequest(
                    at=self.now(),
                    method=method,
                    path=path,
                    node=node,
                    edge=edge,
                    channel=channel,
                    query=safe_query,
                    body=body,
                    token_present=bool(token),
                    status=response.status,
                    response=response.body,
                    fault=fault is not None,
                )
            )
        return response

    def _take_fault(self, channel: Channel | None) -> Fault | None:
        for fault in self._state.faults:
            if fault.channel is None or fault.channel is channel:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._state.faults.remove(fault)
                return fault
        return None

    def _channel_of(self, node: str | None, body: Any) -> Channel | None:
        if isinstance(body, dict) and body.get("messaging_product") == "whatsapp":
            return Channel.WHATSAPP
        ref = self._accounts.get(node or "")
        if ref is not None:
            return ref.channel
        if node is None or node.startswith("act_"):
            return Channel.MESSENGER if node else None
        known = {channel for (channel, account_id, _) in self._state.last_action if account_id == node}
        return Channel.INSTAGRAM if known == {Channel.INSTAGRAM} else Channel.MESSENGER

    def _answer(
        self,
        method: str,
        node: str | None,
        edge: str | None,
        *,
        channel: Channel | None,
        token: str | None,
        body: Any,
    ) -> SimResponse:
        if not token:
            return SimResponse(
                400, graph_error_body(104, "An access token is required to request this resource.")
            )
        expected = self._expected_tokens.get(node or "")
        if expected is not None and token != expected:
            return SimResponse(
                401, graph_error_body(190, "Invalid OAuth access token - Cannot parse access token")
            )
        if method == "GET" and edge == "message_templates" and node is not None:
            return self._template_list(node)
        if method == "GET" and edge is None and node is not None and node not in self._accounts:
            return self._user_profile(node)
        if method != "POST" or node is None or not isinstance(body, dict):
            return _unsupported(method, node)
        if edge == "messages" and node.startswith("act_"):
            return self._marketing_api(body)
        if edge == "messages" and channel is Channel.WHATSAPP:
            return self._whatsapp(node, body)
        if edge == "messages":
            assert channel is not None
            return self._messenger(channel, node, body)
        if edge in THREAD_CONTROL_EDGES:
            return self._thread_control(node, edge, body)
        return _unsupported(method, node)

    # --- Messenger / Instagram --------------------------------------------------------------

    def _messenger(self, channel: Channel, node: str, body: dict[str, Any]) -> SimResponse:
        recipient = body.get("recipient")
        message = body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            return _invalid("(#100) param recipient and message must be objects")
        now = self.now()
        if recipient.get("comment_id"):
            return self._private_reply(channel, node, str(recipient["comment_id"]), now)
        if recipient.get("notification_messages_token"):
            return SimResponse(200, {"recipient_id": _numeric_id(), "message_id": p.messenger_mid()})
        contact_id = str(recipient.get("id") or "")
        last = self._state.last_action.get((channel, node, contact_id))
        if last is None:
            return SimResponse(400, graph_error_body(100, "(#100) No matching user found", subcode=2018001))
        age = now - last
        messaging_type = body.get("messaging_type", "RESPONSE")
        tag = body.get("tag")
        if messaging_type in ("RESPONSE", "UPDATE"):
            if age > STANDARD_WINDOW:
                return _window_error(channel)
        elif messaging_type == "MESSAGE_TAG":
            refusal = self._tag_refusal(channel, str(tag or ""), age, message, now)
            if refusal is not None:
                return refusal
        elif messaging_type == "UTILITY":
            if channel is not Channel.MESSENGER or not isinstance(message.get("template"), dict):
                return _invalid("(#100) Invalid parameter")
        else:
            return _invalid(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG, UTILITY}"
            )
        mid = p.instagram_mid() if channel is Channel.INSTAGRAM else p.messenger_mid()
        return SimResponse(200, {"recipient_id": contact_id, "message_id": mid})

    def _tag_refusal(
        self, channel: Channel, tag: str, age: timedelta, message: dict[str, Any], now: datetime
    ) -> SimResponse | None:
        if not tag:
            return _invalid("(#100) Tag is required for MESSAGE_TAG messaging type")
        if channel is Channel.INSTAGRAM and tag != "HUMAN_AGENT":
            return _invalid("(#100) Invalid parameter")
        if tag in TAGS_RETIRED_2026:
            return _invalid("(#100) Invalid parameter") if now.date() >= RETIRED_2026_ON else None
        if tag in TAGS_RETIRED_2020:
            return _invalid("(#100) Invalid parameter") if now.date() >= RETIRED_2020_ON else None
        if tag == "HUMAN_AGENT":
            return _window_error(channel) if age > HUMAN_AGENT_WINDOW else None
        if tag == "CUSTOMER_FEEDBACK":
            attachment = message.get("attachment")
            payload = attachment.get("payload") if isinstance(attachment, dict) else None
            if not isinstance(payload, dict) or payload.get("template_type") != "customer_feedback":
                return _invalid(
                    "(#100) The CUSTOMER_FEEDBACK tag can only be used with the customer feedback template"
                )
            return _window_error(channel) if age > HUMAN_AGENT_WINDOW else None
        if tag == "NON_PROMOTIONAL_SUBSCRIPTION":
            return SimResponse(
                400,
                graph_error_body(10, "(#10) This Page needs the News Messaging permission.", subcode=2018065),
            )
        return _invalid("(#100) Invalid parameter")

    def _private_reply(self, channel: Channel, node: str, comment_id: str, now: datetime) -> SimResponse:
        comment = self._state.comments.get(comment_id)
        if (
            comment is None
            or comment.account_id != node
            or comment.replied
            or now - comment.at > PRIVATE_REPLY_WINDOW
        ):
            return SimResponse(
                400, graph_error_body(100, "(#100) Invalid comment for private reply", subcode=2534025)
            )
        comment.replied = True
        mid = p.instagram_mid() if channel is Channel.INSTAGRAM else p.messenger_mid()
        return SimResponse(200, {"recipient_id": comment.contact_id, "message_id": mid})

    def _marketing_api(self, body: dict[str, Any]) -> SimResponse:
        delivery = body.get("messenger_delivery_data")
        if (
            not body.get("message_id")
            or not isinstance(delivery, dict)
            or not delivery.get("subscription_token")
        ):
            return _invalid("(#100) message_id and messenger_delivery_data.subscription_token are required")
        return SimResponse(200, {"success": True, "marketing_message_tracking_id": _uuid_like()})

    def _thread_control(self, node: str, edge: str, body: dict[str, Any]) -> SimResponse:
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not recipient.get("id"):
            return _invalid("(#100) param recipient must be non-empty.")
        key = (node, str(recipient["id"]))
        if edge == "pass_thread_control":
            if not body.get("target_app_id"):
                return _invalid("(#100) param target_app_id must be non-empty.")
            self._state.thread_owner[key] = str(body["target_app_id"])
        elif edge == "take_thread_control":
            self._state.thread_owner[key] = "self"
        elif edge == "release_thread_control":
            self._state.thread_owner.pop(key, None)
        return SimResponse(200, {"success": True})

    # --- WhatsApp -----------------------------------------------------------------------------

    def _whatsapp(self, node: str, body: dict[str, Any]) -> SimResponse:
        to = str(body.get("to") or "")
        message_type = body.get("type", "text")
        if not to or not isinstance(body.get(message_type), dict):
            return _invalid("(#100) Invalid parameter")
        now = self.now()
        if message_type == "template":
            refusal = self._template_refusal(node, body["template"])
            if refusal is not None:
                return refusal
        else:
            last = self._state.last_action.get((Channel.WHATSAPP, node, to))
            if last is None or now - last > STANDARD_WINDOW:
                return SimResponse(
                    400,
                    graph_error_body(
                        131047,
                        "(#131047) Re-engagement message",
                        details="Message failed to send because more than 24 hours have passed since the "
                        "customer last replied to this number.",
                    ),
                )
        message: dict[str, Any] = {"id": p.wamid()}
        if message_type == "template":
            message["message_status"] = "accepted"
        return SimResponse(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [message],
            },
        )

    def _user_profile(self, contact_id: str) -> SimResponse:
        """``GET /{PSID}`` / ``GET /{IGSID}``: Meta's User Profile API, for people who have written
        (the condition Meta sets); the name is the one the simulator's payloads give them."""
        channels = {c for (c, _, contact) in self._state.last_action if contact == contact_id}
        if not channels:
            return SimResponse(
                400,
                graph_error_body(
                    100, f"(#100) Unsupported get request. Object with ID '{contact_id}' does not exist"
                ),
            )
        name = p.customer_name(contact_id)
        if Channel.INSTAGRAM in channels:
            return SimResponse(
                200, {"id": contact_id, "name": name, "username": p.customer_username(contact_id)}
            )
        first, last = name.split(" ", 1)
        return SimResponse(200, {"id": contact_id, "first_name": first, "last_name": last})

    def _template_list(self, waba_id: str) -> SimResponse:
        """``GET /{waba_id}/message_templates``: the WABA's templates, with the statuses played since."""
        numbers = [r for r in self._accounts.values() if r.config is not None and r.config.waba_id == waba_id]
        if not numbers:
            return SimResponse(
                400,
                graph_error_body(
                    100, f"(#100) Unsupported get request. Object with ID '{waba_id}' does not exist"
                ),
            )
        data: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for ref in numbers:
            assert ref.config is not None
            for template in ref.config.templates:
                if (template.name, template.language) in seen:
                    continue  # a WABA's templates are shared by its numbers
                seen.add((template.name, template.language))
                status = self._state.template_status.get((ref.account_id, template.name, template.language))
                data.append(
                    {
                        "id": _numeric_id(),
                        "name": template.name,
                        "language": template.language,
                        "category": template.category.value,
                        "status": (status or template.status).value,
                        "components": [{"type": "BODY", "text": template.body}],
                        "quality_score": {"score": "GREEN"},
                    }
                )
        return SimResponse(200, {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}})

    def _template_refusal(self, node: str, template: dict[str, Any]) -> SimResponse | None:
        ref = self._accounts.get(node)
        if ref is None or ref.config is None:
            return None  # an unregistered number: the simulator knows no templates to check
        name = str(template.get("name") or "")
        language = template.get("language")
        code = str(language.get("code") or "") if isinstance(language, dict) else ""
        known = ref.config.template(name, code)
        changed = self._state.template_status.get((node, name, code))
        if known is not None and changed is not None:
            known = known.model_copy(update={"status": changed})
        if known is None or known.status in (
            TemplateStatus.REJECTED,
            TemplateStatus.PENDING,
            TemplateStatus.DELETED,
        ):
            return SimResponse(
                404,
                graph_error_body(
                    132001,
                    "(#132001) Template name does not exist in the translation",
                    details=f"template name ({name}) does not exist in {code}",
                ),
            )
        if known.status is TemplateStatus.PAUSED:
            return SimResponse(400, graph_error_body(132015, "(#132015) Template is Paused"))
        if known.status is TemplateStatus.DISABLED:
            return SimResponse(400, graph_error_body(132016, "(#132016) Template is Disabled"))
        return None


def _window_error(channel: Channel) -> SimResponse:
    if channel is Channel.INSTAGRAM:
        return SimResponse(
            400,
            graph_error_body(
                10,
                "(#10) This message is sent outside of allowed window. You can only send messages within "
                "24 hours of receiving the customer's message.",
                subcode=2534022,
            ),
        )
    return SimResponse(
        400,
        graph_error_body(
            10,
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: "
            "https://developers.facebook.com/docs/messenger-platform/policy-overview",
            subcode=2018278,
        ),
    )


def _invalid(message: str) -> SimResponse:
    return SimResponse(400, graph_error_body(100, message))


def _unsupported(method: str, node: str | None) -> SimResponse:
    return SimResponse(
        400,
        graph_error_body(
            100,
            f"Unsupported {method.lower()} request. Object with ID '{node or ''}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
            error_type="GraphMethodException",
        ),
    )


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _node_edge(path: str) -> tuple[str | None, str | None]:
    """``/v25.0/{node}/{edge}`` → (node, edge); anything else → (None, None)."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 2 or not parts[0].startswith("v"):
        return None, None
    return parts[1], (parts[2] if len(parts) > 2 else None)


def _numeric_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def _uuid_like() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
