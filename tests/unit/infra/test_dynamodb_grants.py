"""Each function's role grants exactly the DynamoDB actions its code can call: no fewer (moto
enforces no IAM, so a missing action shows up only in a deployed stack, as ``AccessDenied``), and
no more (least privilege: no DeleteItem or Scan the code never issues).

The required actions are derived from the source, not typed in: every boto3 DynamoDB call in the
deployed code (``shared/windowkeeper`` and ``functions/``) is found by walking its syntax tree.
``CALL_SITES`` says which functions run each call (or none: tools-only code); a new call site
fails ``test_every_dynamodb_call_site_is_assigned_to_the_functions_that_run_it`` until it is
assigned, and then the grant checks tell whether the template allows it.

Why static rather than recording the calls made during the integration tests: the record would
only hold the paths those tests happen to exercise and would tie a unit test to files left by an
earlier run; the call sites are all there in the code, every run, in ~50 ms.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
CODE_ROOTS = (REPO_ROOT / "shared", REPO_ROOT / "functions")

WEBHOOK = "WebhookFunction"
SEND = "SendFunction"
SCHEDULER = "SchedulerFunction"
# SMS and e-mail in (functions/webhook/aws_inbound_app.py): the webhook's write path, without
# Meta's account lookup by webhook id.
AWS_INBOUND = "AwsInboundFunction"
TOOLS_ONLY: frozenset[str] = frozenset()  # code only the `windowkeeper` CLI runs (admin credentials)

# (file relative to the repo, enclosing def) -> the functions that run the DynamoDB calls in it.
# The scheduler runs the send core (SendService) when a follow-up fires or a job runs.
CALL_SITES: dict[tuple[str, str], frozenset[str]] = {
    ("shared/windowkeeper/store/batch_writer.py", "BatchPutTable.put_all"): frozenset({WEBHOOK, AWS_INBOUND}),
    # Viber's monthly bot-initiated count: read for decisions, taken and given back with sends.
    ("shared/windowkeeper/store/quota_table.py", "QuotaTable.used"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/quota_table.py", "QuotaTable.take"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/quota_table.py", "QuotaTable.give_back"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/history_table.py", "put_history_item"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/history_table.py", "read_history"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/contact_writer.py", "ContactWriter._correct_due"): frozenset(
        {WEBHOOK, AWS_INBOUND}
    ),
    ("shared/windowkeeper/store/contact_writer.py", "ContactWriter._update"): frozenset(
        {WEBHOOK, AWS_INBOUND}
    ),
    ("shared/windowkeeper/store/account_table.py", "AccountStore.get.load"): frozenset(
        {SEND, SCHEDULER, AWS_INBOUND}
    ),
    ("shared/windowkeeper/store/account_table.py", "AccountStore.get_for_webhook.load"): frozenset({WEBHOOK}),
    ("shared/windowkeeper/store/account_table.py", "AccountStore.put_all"): TOOLS_ONLY,
    ("shared/windowkeeper/store/account_table.py", "AccountStore.list_for_tenant"): frozenset({SEND}),
    ("shared/windowkeeper/store/contact_table.py", "ContactTable.recent"): frozenset({SEND}),
    # The inbox (GET /v1/conversations): its two reads and the looked-up name it keeps.
    ("shared/windowkeeper/store/contact_table.py", "_read_shard"): frozenset({SEND}),
    ("shared/windowkeeper/store/contact_table.py", "ContactTable.acted_since"): frozenset({SEND}),
    ("shared/windowkeeper/store/contact_table.py", "ContactTable.fill_display_name"): frozenset({SEND}),
    ("shared/windowkeeper/store/audit_table.py", "append_audit"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/audit_table.py", "list_decisions"): frozenset({SEND}),
    ("shared/windowkeeper/store/audit_table.py", "query_tenant_audit"): frozenset({SEND}),
    # Health: read before every send (and each /v1/accounts row); written by a send's answer
    # (send core, so the scheduler too) and by Meta's policy enforcement webhook.
    # Template state: read by a template send (send core) and the contacts API; written by webhooks.
    ("shared/windowkeeper/store/template_table.py", "TemplateStateTable.get"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/template_table.py", "TemplateStateTable.list"): frozenset({SEND}),
    ("shared/windowkeeper/store/template_table.py", "TemplateStateTable.apply"): frozenset(
        {WEBHOOK, AWS_INBOUND}
    ),
    ("shared/windowkeeper/store/health_table.py", "AccountHealthTable.get"): frozenset(
        {SEND, SCHEDULER, WEBHOOK, AWS_INBOUND}
    ),
    ("shared/windowkeeper/store/health_table.py", "AccountHealthTable.record"): frozenset(
        {SEND, SCHEDULER, WEBHOOK, AWS_INBOUND}
    ),
    ("shared/windowkeeper/store/violation_table.py", "record_tenant_violation"): frozenset({SEND, SCHEDULER}),
    # The console reads it; so does a web-chat widget, through the webhook function.
    ("shared/windowkeeper/store/conversation_log.py", "list_messages"): frozenset({SEND, WEBHOOK}),
    ("shared/windowkeeper/store/send_claims.py", "_read"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/send_claims.py", "claim_send"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/send_claims.py", "record_send"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/conversation_log.py", "log_outbound_message"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/conversation_log.py", "record_preview"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/contact_changes.py", "read_contact_item"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/contact_table.py", "ContactTable.get"): frozenset({SEND, SCHEDULER}),
    ("shared/windowkeeper/store/contact_changes.py", "update_contact"): frozenset({SEND}),
    ("shared/windowkeeper/store/contact_changes.py", "create_contact_if_absent"): frozenset({SEND}),
    ("shared/windowkeeper/store/followup_table.py", "FollowupStore.create"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/followup_table.py", "FollowupStore.get"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/followup_table.py", "FollowupStore.list_for_contact"): frozenset(
        {SEND, SCHEDULER}
    ),
    ("shared/windowkeeper/store/followup_table.py", "FollowupStore.transition"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/followup_table.py", "FollowupStore.mark_published"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.create"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.get"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.start_run"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.finish"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.claim"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.save_result"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.mark_published"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.results_page"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/job_table.py", "JobStore.silent_contacts"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/sweep_table.py", "SweepStore.cursor"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/sweep_table.py", "SweepStore.advance_cursor"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/sweep_table.py", "SweepStore.due_items"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/sweep_table.py", "SweepStore.move_notice"): frozenset({SCHEDULER}),
    ("shared/windowkeeper/store/stuck_table.py", "StuckStore.mark_stuck"): frozenset({SCHEDULER}),
}

# What libraries call for a function on a table of their own: powertools idempotency's DynamoDB
# persistence layer gets, puts (conditionally), updates, and deletes a record when the guarded
# call failed. Only the send function uses it.
IDEMPOTENCY_ACTIONS = frozenset(
    {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
)
LIBRARY_GRANTS: dict[str, dict[str, frozenset[str]]] = {SEND: {"IdempotencyTable": IDEMPOTENCY_ACTIONS}}

# boto3 method -> IAM action (Table resource and low-level client spell them the same).
METHOD_ACTIONS = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "batch_writer": "dynamodb:BatchWriteItem",  # the resource's buffered writer
    "transact_get_items": "dynamodb:GetItem",
}
# TransactWriteItems is no IAM action of its own: each item needs its own action.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
DYNAMODB_METHODS = frozenset(METHOD_ACTIONS) | {"transact_write_items"}


@dataclass(frozen=True)
class Call:
    file: str
    qualname: str
    actions: frozenset[str]
    on_index: bool  # a Query with IndexName: needs the grant on table/index/*


def _batch_names(function: ast.AST) -> set[str]:
    """Names bound by ``with <...>.batch_writer() as name``: their put/delete are batch writes."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "batch_writer"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    names.add(item.optional_vars.id)
    return names


def _call_actions(call: ast.Call) -> frozenset[str]:
    assert isinstance(call.func, ast.Attribute)
    if call.func.attr != "transact_write_items":
        return frozenset({METHOD_ACTIONS[call.func.attr]})
    kinds = {
        key.value
        for node in ast.walk(call)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant) and key.value in TRANSACT_ITEM_ACTIONS
    }
    assert kinds, "a transact_write_items call whose item kinds cannot be read: list them literally"
    return frozenset(TRANSACT_ITEM_ACTIONS[k] for k in kinds)


def _mentions_index(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.keyword) and node.arg == "IndexName":
            return True
        if isinstance(node, ast.Constant) and node.value == "IndexName":
            return True
    return False


def dynamodb_calls() -> list[Call]:
    found: list[Call] = []
    for root in CODE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            relative = path.relative_to(REPO_ROOT).as_posix()
            _visit(tree, [], relative, found, batch_names=set(), enclosing=tree)
    return found


def _visit(
    node: ast.AST,
    stack: list[str],
    file: str,
    found: list[Call],
    *,
    batch_names: set[str],
    enclosing: ast.AST,
) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner_batch = _batch_names(child) if not isinstance(child, ast.ClassDef) else set()
            _visit(child, [*stack, child.name], file, found, batch_names=inner_batch, enclosing=child)
            continue
        if (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and child.func.attr in DYNAMODB_METHODS
        ):
            receiver = child.func.value
            if not (isinstance(receiver, ast.Name) and receiver.id in batch_names):
                found.append(
                    Call(
                        file=file,
                        qualname=".".join(stack) or "<module>",
                        actions=_call_actions(child),
                        on_index=child.func.attr == "query" and _mentions_index(enclosing),
                    )
                )
        _visit(child, stack, file, found, batch_names=batch_names, enclosing=enclosing)


@dataclass(frozen=True)
class Needs:
    table: frozenset[str]
    index: frozenset[str]


def required(function: str) -> Needs:
    table: set[str] = set()
    index: set[str] = set()
    for call in dynamodb_calls():
        if function in CALL_SITES.get((call.file, call.qualname), frozenset()):
            table |= call.actions
            if call.on_index:
                index.add("dynamodb:Query")
    return Needs(frozenset(table), frozenset(index))


# ---------------------------------------------------------------- what the roles grant

_SUB_ARN = re.compile(r"^\$\{(\w+)\.Arn\}(/index/\*)?$")


def _table_target(resource: Any) -> tuple[str, bool] | None:
    """(table logical id, is the index ARN) for the ARN forms this template and SAM produce."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        logical_id, attribute = resource["Fn::GetAtt"]
        return (logical_id, False) if attribute == "Arn" else None
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        if isinstance(sub, str):
            match = _SUB_ARN.match(sub)
            return (match.group(1), bool(match.group(2))) if match else None
        text, variables = sub
        if ":dynamodb:" in text and "tableName" in variables:  # SAM's DynamoDB policy templates
            return variables["tableName"]["Ref"], "/index/" in text
    return None


def granted(cfn_template: dict[str, Any], function: str) -> dict[tuple[str, bool], set[str]]:
    """(table, index?) -> the DynamoDB actions the function's role allows there."""
    grants: dict[tuple[str, bool], set[str]] = {}
    role = cfn_template["Resources"][f"{function}Role"]["Properties"]
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            dynamodb = {a for a in actions if a.startswith("dynamodb:")}
            if not dynamodb:
                continue
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            for resource in resources:
                target = _table_target(resource)
                assert target is not None, (function, json.dumps(resource))
                grants.setdefault(target, set()).update(dynamodb)
    return grants


# ---------------------------------------------------------------- tests


def test_every_dynamodb_call_site_is_assigned_to_the_functions_that_run_it() -> None:
    sites = {(c.file, c.qualname) for c in dynamodb_calls()}
    unassigned = sorted(sites - set(CALL_SITES))
    stale = sorted(set(CALL_SITES) - sites)
    assert not unassigned, (
        f"new DynamoDB calls: add them to CALL_SITES with the functions that run them: {unassigned}"
    )
    assert not stale, f"CALL_SITES names code that no longer calls DynamoDB: {stale}"


@pytest.mark.parametrize("function", [WEBHOOK, SEND, SCHEDULER, AWS_INBOUND])
def test_role_grants_exactly_the_dynamodb_actions_the_code_calls(
    cfn_template: dict[str, Any], function: str
) -> None:
    needs = required(function)
    grants = granted(cfn_template, function)
    assert grants.get(("Table", False), set()) == set(needs.table), function
    assert grants.get(("Table", True), set()) == set(needs.index), function
    for table, actions in LIBRARY_GRANTS.get(function, {}).items():
        assert grants.get((table, False), set()) == set(actions), (function, table)
    expected_targets = {("Table", False)} | ({("Table", True)} if needs.index else set())
    expected_targets |= {(t, False) for t in LIBRARY_GRANTS.get(function, {})}
    assert set(grants) == expected_targets, function


def test_the_webhook_writes_its_conversation_log_in_batches() -> None:
    """The call that was denied in a deployed stack (B1): the log is one BatchWriteItem round."""
    assert "dynamodb:BatchWriteItem" in required(WEBHOOK).table


def test_no_function_needs_delete_or_scan_on_the_main_table() -> None:
    for function in (WEBHOOK, SEND, SCHEDULER, AWS_INBOUND):
        assert not {a for a in required(function).table if "Delete" in a or "Scan" in a}, function


def test_the_batch_writers_puts_are_not_counted_as_put_item() -> None:
    (log,) = [c for c in dynamodb_calls() if c.qualname == "BatchPutTable.put_all"]
    assert log.actions == {"dynamodb:BatchWriteItem"}


def test_transactions_need_each_items_action() -> None:
    (save,) = [c for c in dynamodb_calls() if c.qualname == "JobStore.save_result"]
    assert save.actions == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
