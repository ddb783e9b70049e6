"""A WABA's templates as the WhatsApp Business Management API lists them, read into the registry.

``GET /{waba_id}/message_templates`` (``GraphClient.message_templates``) answers Meta's own record:
name, language, category, status, components (the BODY text with its placeholders) and quality.
``registry_from_meta`` turns it into the account's ``templates`` and into template-state facts at
the sync's instant, so a sync also overrides any older webhook verdict (Meta's list is newer).
No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from windowkeeper.accounts import AccountConfig
from windowkeeper.policy.model import Template, TemplateCategory, TemplateStatus
from windowkeeper.store.template_records import TemplateChange


def _body(components: Any) -> str:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text") or "")
    return ""


def template_from_meta(item: dict[str, Any]) -> Template | None:
    """One listed template, or None when Meta lists something the engine cannot use (a category or
    status it does not know: it is left out rather than guessed)."""
    try:
        category = TemplateCategory(str(item.get("category", "")).upper())
        status = TemplateStatus(str(item.get("status", "")).upper())
    except ValueError:
        return None
    name, language = str(item.get("name") or ""), str(item.get("language") or "")
    if not name or len(language) < 2:
        return None
    body = _body(item.get("components"))
    probe = Template(name=name, language=language, category=category, status=status, body=body)
    # The registry names the parameters in order: the body's own placeholders ({{1}} or {{name}}).
    return probe.model_copy(update={"parameters": probe.placeholders()})


def registry_from_meta(
    account: AccountConfig, listed: Iterable[dict[str, Any]], at_ms: int
) -> tuple[AccountConfig, list[TemplateChange]]:
    """The account with Meta's templates as its registry, and the facts that make them current."""
    templates: list[Template] = []
    facts: list[TemplateChange] = []
    for item in listed:
        template = template_from_meta(item)
        if template is None:
            continue
        templates.append(template)
        names = {"name": template.name, "language": template.language, "at_ms": at_ms}
        facts.append(
            TemplateChange(**names, fact="status", status=template.status, event=template.status.value)
        )
        facts.append(TemplateChange(**names, fact="category", category=template.category))
        quality = item.get("quality_score")
        score = quality.get("score") if isinstance(quality, dict) else None
        if isinstance(score, str) and score:
            facts.append(TemplateChange(**names, fact="quality", quality=score.upper()))
    return account.model_copy(update={"templates": tuple(templates)}), facts
