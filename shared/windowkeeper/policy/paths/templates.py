"""Approved templates (utility, authentication, marketing): they may go outside the window."""

from __future__ import annotations

from windowkeeper.policy import explain
from windowkeeper.policy.facts import Ask, switched_on
from windowkeeper.policy.model import ContentKind, Path, ReasonCode, TemplateStatus
from windowkeeper.policy.paths.checks import gate, screen
from windowkeeper.policy.paths.verdict import PathResult, allow, refuse
from windowkeeper.policy.rules import (
    PURPOSE_TEMPLATE_CATEGORIES,
    REGION_BLOCK,
    TEMPLATE,
    TemplateParams,
    rules_of,
)


def template(ask: Ask, path: Path) -> PathResult:
    """An approved template of the category ``path`` stands for, any time."""
    channel = ask.contact.channel
    rules = [r for r in ask.rules.of(TEMPLATE) if r.params.path is path]
    template = ask.content.template if ask.content is not None else None
    if not rules:
        if any(r.params.path is path for r in rules_of(TEMPLATE, channel)):
            return refuse(path, None, ReasonCode.TEMPLATE_REQUIRED, f"{path.value} is not available yet")
        if rules_of(TEMPLATE, channel):
            return refuse(
                path,
                None,
                ReasonCode.TEMPLATE_CATEGORY_MISMATCH,
                f"{ask.channel_label} takes only "
                + "/".join(sorted({r.params.category.value for r in rules_of(TEMPLATE, channel)}))
                + " templates",
            )
        return refuse(path, None, ReasonCode.CHANNEL_UNSUPPORTED, f"{ask.channel_label} has no templates")
    rule = rules[0]
    params: TemplateParams = rule.params
    kind = params.category.lower()  # a StrEnum: its value, without the enum property
    if blocked := gate(ask, path, rule):
        return blocked
    if params.profile_switch and not switched_on(ask.account, params.profile_switch):
        return refuse(
            path,
            rule,
            ReasonCode.PERMISSION_MISSING,
            f"{kind} templates are turned off for this account ({params.profile_switch})",
            needs=f"the account setting {params.profile_switch}",
        )
    if params.permission and not ask.account.has(params.permission):
        return refuse(
            path,
            rule,
            ReasonCode.PERMISSION_MISSING,
            f"{kind} templates need the {params.permission} permission",
            needs=f"the {params.permission} permission",
        )
    if params.requires_opt_in and not any(o.purpose == "marketing" for o in ask.facts.opt_ins):
        return refuse(
            path, rule, ReasonCode.OPT_IN_REQUIRED, "marketing templates need the contact's opt-in on record"
        )
    reachable = ask.contacted or (
        ask.table.reachable_by_consent and (ask.contact.consent_on_record or bool(ask.facts.opt_ins))
    )
    if not reachable:
        return refuse(
            path, rule, ReasonCode.NEVER_CONTACTED, "the contact never wrote and no consent is on record"
        )
    for block in ask.rules.of(REGION_BLOCK):
        if path in block.params.paths and ask.contact.recipient_country_code in block.params.country_codes:
            return refuse(
                path,
                block,
                ReasonCode.REGION_BLOCKED,
                f"Meta delivers no {kind} templates to +{ask.contact.recipient_country_code} numbers",
            )
    if params.honours_backoff and ask.facts.backoff_until is not None:
        return refuse(
            path,
            rule,
            ReasonCode.BACKOFF,
            explain.Clause(
                "Meta asked to pause marketing to this contact ", "until", ask.facts.backoff_until, ask.at
            ),
            opens_at=ask.facts.backoff_until,
        )
    if ask.content is not None and ask.content.kind is ContentKind.TEMPLATE and template is None:
        return refuse(path, rule, ReasonCode.CONTENT_INVALID, "the message names no template")
    if template is not None:
        if template.status is not TemplateStatus.APPROVED:
            return refuse(
                path,
                rule,
                ReasonCode.TEMPLATE_NOT_APPROVED,
                f"template {template.name} is {template.status.value}, not APPROVED",
                needs="an approved template",
            )
        if template.category is not params.category:
            return refuse(
                path,
                rule,
                ReasonCode.TEMPLATE_CATEGORY_MISMATCH,
                f"template {template.name} is {template.category.value}; this path takes "
                f"{params.category.value}",
            )
        declared = template.declared_parameters()
        if template.body and len(template.parameters) != declared:
            # Meta refuses it with 132000 (parameter count mismatch, C1): refused before it goes.
            return refuse(
                path,
                rule,
                ReasonCode.CONTENT_INVALID,
                f"template {template.name} takes {declared} parameter(s) and "
                f"{len(template.parameters)} were given",
                needs=f"a value for each of the template's {declared} parameter(s)",
            )
    purpose = ask.request.purpose
    if purpose is not None and params.category not in PURPOSE_TEMPLATE_CATEGORIES[purpose]:
        return refuse(
            path,
            rule,
            ReasonCode.TEMPLATE_CATEGORY_MISMATCH,
            f"a {kind} template does not fit the purpose {purpose.value}",
        )
    screened = screen(ask, path, rule) if params.non_promotional else False
    if isinstance(screened, PathResult):
        return screened
    return allow(
        path,
        rule,
        f"an approved {kind} template can go any time",
        params.send_fields,
        needs=f"an approved {kind} template",
        confirmed=screened,
    )
