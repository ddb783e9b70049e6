"""infra/template.yaml: what the SAM transform produces, and what cfn-lint says about it."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint, lint_file

from tests.support.contract import FUNCTION_ENVIRONMENT
from windowkeeper.store import keys

REPO_ROOT = Path(__file__).resolve().parents[3]
JWT = "CognitoJwt"
PUBLIC = "NONE"

# The API the brief specifies: route -> (function, authorizer). Meta signs webhooks, so those
# routes are public; everything else needs a Cognito JWT.
EXPECTED_ROUTES = {
    ("GET", "/webhook"): ("WebhookFunction", PUBLIC),
    ("POST", "/webhook"): ("WebhookFunction", PUBLIC),
    ("GET", "/webhook/{channel}/{account_id}"): ("WebhookFunction", PUBLIC),
    ("POST", "/webhook/{channel}/{account_id}"): ("WebhookFunction", PUBLIC),
    ("POST", "/v1/events"): ("WebhookFunction", JWT),
    ("GET", "/webhook/webchat/{account_id}/messages"): ("WebhookFunction", PUBLIC),
    ("POST", "/v1/messages"): ("SendFunction", JWT),
    ("POST", "/v1/messages/check"): ("SendFunction", JWT),
    ("GET", "/v1/contacts/{channel}/{account_id}/{contact_id}"): ("SendFunction", JWT),
    ("POST", "/v1/contacts/{channel}/{account_id}/{contact_id}/handover"): ("SendFunction", JWT),
    ("POST", "/v1/contacts/{channel}/{account_id}/{contact_id}/consent"): ("SendFunction", JWT),
    ("GET", "/v1/contacts/{channel}/{account_id}/{contact_id}/decisions"): ("SendFunction", JWT),
    ("GET", "/v1/contacts/{channel}/{account_id}/{contact_id}/messages"): ("SendFunction", JWT),
    ("GET", "/v1/conversations"): ("SendFunction", JWT),
    ("GET", "/v1/accounts"): ("SendFunction", JWT),
    ("GET", "/v1/audit"): ("SendFunction", JWT),
    ("POST", "/v1/followups"): ("SchedulerFunction", JWT),
    ("GET", "/v1/followups"): ("SchedulerFunction", JWT),
    ("GET", "/v1/followups/{followup_id}"): ("SchedulerFunction", JWT),
    ("DELETE", "/v1/followups/{followup_id}"): ("SchedulerFunction", JWT),
    ("POST", "/v1/reengagements"): ("SchedulerFunction", JWT),
    ("GET", "/v1/reengagements/{job_id}"): ("SchedulerFunction", JWT),
}

FUNCTIONS = ("WebhookFunction", "SendFunction", "SchedulerFunction", "AwsInboundFunction")


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def _routes(cfn_template: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(METHOD, path) -> (function logical id, authorizer) from the generated OpenAPI body."""
    body = cfn_template["Resources"]["HttpApi"]["Properties"]["Body"]
    routes: dict[tuple[str, str], tuple[str, str | None]] = {}
    for path, methods in body["paths"].items():
        for method, definition in methods.items():
            uri = definition["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            function = re.search(r"\$\{(\w+)\.Arn\}", uri)
            assert function, uri
            security = definition.get("security") or body.get("security") or [{}]
            authorizer = next(iter(security[0]), None)
            routes[(method.upper(), path)] = (function.group(1), authorizer)
    return routes


def _statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def _actions(role: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in _statements(role):
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def _mentions(value: Any, logical_id: str) -> bool:
    """Whether an (intrinsic-laden) value refers to a resource by logical id."""
    text = json.dumps(value)
    return f'"Ref": "{logical_id}"' in text or f'["{logical_id}",' in text or f"${{{logical_id}" in text


# ---------------------------------------------------------------- routes and authorizer


def test_every_route_reaches_its_function_with_the_expected_authorizer(cfn_template: dict[str, Any]) -> None:
    assert _routes(cfn_template) == EXPECTED_ROUTES


@pytest.mark.parametrize(
    ("function", "module"),
    [
        ("WebhookFunction", "webhook_app"),
        ("SendFunction", "send_app"),
        ("SchedulerFunction", "scheduler_app"),
    ],
)
def test_template_routes_equal_the_routes_the_handler_serves(
    cfn_template: dict[str, Any], function: str, module: str
) -> None:
    """A route only in the code answers 404 from API Gateway; one only in the template, 404 from
    the function. The resolver's route table is the code's own declaration of what it serves."""
    app = importlib.import_module(module).app
    served = {
        (route.method.upper(), re.sub(r"<(\w+)>", r"{\1}", route.path))
        for route in [*app._static_routes, *app._dynamic_routes]
    }
    routed = {route for route, (target, _) in _routes(cfn_template).items() if target == function}
    assert routed == served


def test_jwt_authorizer_trusts_only_our_user_pool_and_its_clients(cfn_template: dict[str, Any]) -> None:
    body = cfn_template["Resources"]["HttpApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"][JWT]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "jwt"
    assert scheme["identitySource"] == "$request.header.Authorization"
    issuer = scheme["jwtConfiguration"]["issuer"]["Fn::Sub"]
    assert issuer == "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    audiences = {audience["Ref"] for audience in scheme["jwtConfiguration"]["audience"]}
    assert audiences == set(_of_type(cfn_template, "AWS::Cognito::UserPoolClient"))


def test_user_pool_has_the_groups_and_tenant_claim_windowkeeper_auth_reads(
    cfn_template: dict[str, Any],
) -> None:
    from windowkeeper import auth

    groups = {
        g["Properties"]["GroupName"] for g in _of_type(cfn_template, "AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {auth.AGENTS_GROUP, auth.AUTOMATION_GROUP}
    schema = cfn_template["Resources"]["UserPool"]["Properties"]["Schema"]
    custom_claims = {f"custom:{attribute['Name']}" for attribute in schema}
    assert {auth.TENANT_CLAIM, auth.AUTOMATION_KIND_CLAIM} <= custom_claims
    for client in _of_type(cfn_template, "AWS::Cognito::UserPoolClient").values():
        # A user who could write their own tenant id could read another tenant's contacts.
        assert auth.TENANT_CLAIM not in client["Properties"]["WriteAttributes"]
        assert client["Properties"]["GenerateSecret"] is False


def test_access_log_format_leaves_contact_ids_out(cfn_template: dict[str, Any]) -> None:
    stage = cfn_template["Resources"]["HttpApiApiGatewayDefaultStage"]["Properties"]
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert "$context.routeKey" in log_format.values()
    assert not any("$context.path" in value for value in log_format.values())


# ---------------------------------------------------------------- permissions


def test_webhook_role_can_write_but_never_delete_or_scan(cfn_template: dict[str, Any]) -> None:
    role = cfn_template["Resources"]["WebhookFunctionRole"]
    actions = _actions(role)
    # The conversation log goes through batch_writer (BatchWriteItem); exact DynamoDB grants per
    # function are checked against the code's call sites in test_dynamodb_grants.py.
    assert {"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "events:PutEvents", "s3:PutObject"} <= actions
    assert "secretsmanager:GetSecretValue" in actions
    assert not {a for a in actions if a.startswith("dynamodb:") and ("Delete" in a or "Scan" in a)}
    assert not {a for a in actions if a.startswith("s3:") and a != "s3:PutObject"}


def test_webhook_reads_only_the_webhook_secret_and_account_credentials(cfn_template: dict[str, Any]) -> None:
    """Meta's app secret, and the accounts' own credentials (the other platforms sign with them)."""
    role = cfn_template["Resources"]["WebhookFunctionRole"]
    secret_statements = [s for s in _statements(role) if "secretsmanager:GetSecretValue" in s["Action"]]
    assert secret_statements
    assert all(
        _mentions(s["Resource"], "WebhookSecret")
        or "${AccessTokenSecretPrefix}*" in json.dumps(s["Resource"])
        for s in secret_statements
    )
    assert any(_mentions(s["Resource"], "WebhookSecret") for s in secret_statements)


@pytest.mark.parametrize("function", ["SendFunction", "SchedulerFunction"])
def test_token_secrets_are_limited_to_the_token_prefix(cfn_template: dict[str, Any], function: str) -> None:
    role = cfn_template["Resources"][f"{function}Role"]
    secret_statements = [s for s in _statements(role) if "secretsmanager:GetSecretValue" in s["Action"]]
    assert secret_statements
    for statement in secret_statements:
        assert "${AccessTokenSecretPrefix}*" in json.dumps(statement["Resource"])
        assert not _mentions(statement["Resource"], "WebhookSecret")


def test_inline_policies_name_their_resources(cfn_template: dict[str, Any]) -> None:
    """Least privilege: no inline statement grants on "*" (the only "*" grants are AWS managed
    policies SAM attaches: basic logging and, where tracing can be on, X-Ray)."""
    for logical_id, role in _of_type(cfn_template, "AWS::IAM::Role").items():
        for statement in _statements(role):
            # NotResource names what is excluded (SMS: every SNS resource, so no topic).
            named = statement.get("Resource", statement.get("NotResource"))
            resources = named if isinstance(named, list) else [named]
            assert "*" not in resources, (logical_id, statement)
            assert "NotResource" not in statement or statement["Action"] == "sns:Publish", statement


def test_scheduler_function_manages_schedules_only_in_its_group(cfn_template: dict[str, Any]) -> None:
    statements = list(_statements(cfn_template["Resources"]["SchedulerFunctionRole"]))
    scheduler = [s for s in statements if any(a.startswith("scheduler:") for a in s["Action"])]
    assert len(scheduler) == 1
    assert set(scheduler[0]["Action"]) == {
        "scheduler:CreateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
    }
    assert scheduler[0]["Resource"]["Fn::Sub"].endswith(":schedule/${ScheduleGroup}/*")
    pass_role = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert len(pass_role) == 1
    assert pass_role[0]["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert pass_role[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_scheduler_role_is_for_scheduler_and_invokes_only_the_scheduler_function(
    cfn_template: dict[str, Any],
) -> None:
    role = cfn_template["Resources"]["SchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    target_arn = cfn_template["Resources"]["SchedulerFunction"]["Properties"]["Environment"]["Variables"][
        "SCHEDULER_TARGET_ARN"
    ]
    assert target_arn in invoke["Resource"]  # the ARN the function hands to CreateSchedule
    function_name = cfn_template["Resources"]["SchedulerFunction"]["Properties"]["FunctionName"]["Fn::Sub"]
    assert target_arn["Fn::Sub"].endswith(f":function:{function_name}")
    send = next(s for s in statements if s["Action"] == "sqs:SendMessage")
    assert send["Resource"] == {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}


# ---------------------------------------------------------------- functions, layer, schedules


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_run_python312_on_arm64_with_the_layer_and_the_env_contract(
    cfn_template: dict[str, Any], function: str
) -> None:
    properties = cfn_template["Resources"][function]["Properties"]
    assert properties["Runtime"] == "python3.12"
    assert properties["Architectures"] == ["arm64"]
    (layer,) = properties["Layers"]
    assert cfn_template["Resources"][layer["Ref"]]["Type"] == "AWS::Lambda::LayerVersion"
    assert set(properties["Environment"]["Variables"]) >= FUNCTION_ENVIRONMENT


@pytest.mark.parametrize(
    ("function", "code_dir", "module"),
    [
        ("WebhookFunction", "functions/webhook", "webhook_app"),
        ("SendFunction", "functions/send", "send_app"),
        ("SchedulerFunction", "functions/scheduler", "scheduler_app"),
        ("AwsInboundFunction", "functions/webhook", "aws_inbound_app"),
    ],
)
def test_code_uris_point_at_the_handler_modules(
    sam_template: dict[str, Any], template_path: Path, function: str, code_dir: str, module: str
) -> None:
    properties = sam_template["Resources"][function]["Properties"]
    code_path = (template_path.parent / properties["CodeUri"]).resolve()
    assert code_path == (REPO_ROOT / code_dir).resolve()
    assert (code_path / f"{module}.py").is_file()
    assert properties["Handler"] == f"{module}.handler"


def test_layer_is_built_from_shared_with_its_requirements(
    sam_template: dict[str, Any], template_path: Path
) -> None:
    layer = sam_template["Resources"]["SharedLayer"]
    content = (template_path.parent / layer["Properties"]["ContentUri"]).resolve()
    assert (content / "windowkeeper" / "__init__.py").is_file()
    assert (content / "requirements.txt").is_file()
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


def test_layer_build_installs_for_arm64_and_ships_hash_based_bytecode(
    sam_template: dict[str, Any], template_path: Path
) -> None:
    """Lambda's /opt is read-only: without shipped .pyc every cold start compiles the layer again."""
    layer = sam_template["Resources"]["SharedLayer"]
    makefile = (template_path.parent / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert "build-SharedLayer:" in makefile  # the target `sam build` runs for BuildMethod: makefile
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert "--platform manylinux2014_aarch64" in makefile
    assert "--requirement requirements.txt" in makefile
    assert "compileall" in makefile and "--invalidation-mode checked-hash" in makefile


def test_tracing_is_one_parameter_off_by_default_for_every_function(cfn_template: dict[str, Any]) -> None:
    assert cfn_template["Parameters"]["EnableTracing"]["Default"] == "false"
    for function in FUNCTIONS:
        mode = cfn_template["Resources"][function]["Properties"]["TracingConfig"]["Mode"]
        assert mode == {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}


def test_minute_sweep_runs_in_the_group_with_a_retry_policy_and_dead_letter_queue(
    cfn_template: dict[str, Any],
) -> None:
    (schedule,) = _of_type(cfn_template, "AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "rate(1 minute)"
    assert properties["GroupName"] == {"Ref": "ScheduleGroup"}
    target = properties["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["SchedulerFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"kind": "sweep"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] < 185  # not Scheduler's default


def test_scheduler_function_has_a_dead_letter_queue_for_failed_async_invocations(
    cfn_template: dict[str, Any],
) -> None:
    properties = cfn_template["Resources"]["SchedulerFunction"]["Properties"]
    queue = properties["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    assert cfn_template["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    assert "sqs:SendMessage" in _actions(cfn_template["Resources"]["SchedulerFunctionRole"])


# ---------------------------------------------------------------- state, logs, alarms


def test_table_indexes_are_the_ones_the_key_module_queries(sam_template: dict[str, Any]) -> None:
    properties = sam_template["Resources"]["Table"]["Properties"]
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == {keys.DUE_INDEX, keys.ACCOUNT_INDEX, keys.INBOX_INDEX, keys.AUDIT_INDEX}
    assert [k["AttributeName"] for k in indexes[keys.DUE_INDEX]["KeySchema"]] == ["due_bucket", "due_at_ms"]
    assert [k["AttributeName"] for k in indexes[keys.ACCOUNT_INDEX]["KeySchema"]] == [
        "account_shard",
        "last_customer_action_ms",
    ]
    assert [k["AttributeName"] for k in indexes[keys.AUDIT_INDEX]["KeySchema"]] == ["audit_shard", "sk"]
    assert [k["AttributeName"] for k in indexes[keys.INBOX_INDEX]["KeySchema"]] == [
        "account_shard",
        "last_activity_ms",
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"


@pytest.mark.parametrize("logical_id", ["Table", "QuarantineBucket", "UserPool"])
def test_stateful_resources_survive_a_stack_delete(sam_template: dict[str, Any], logical_id: str) -> None:
    resource = sam_template["Resources"][logical_id]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_quarantine_bucket_is_private_encrypted_and_expires(sam_template: dict[str, Any]) -> None:
    properties = sam_template["Resources"]["QuarantineBucket"]["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert 0 < rule["ExpirationInDays"] <= 365


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_log_group_with_retention(cfn_template: dict[str, Any], function: str) -> None:
    groups = [
        group["Properties"]
        for group in _of_type(cfn_template, "AWS::Logs::LogGroup").values()
        if group["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]
    assert len(groups) == 1
    assert groups[0]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_function_alarms_on_errors_and_throttles(cfn_template: dict[str, Any]) -> None:
    alarms = _of_type(cfn_template, "AWS::CloudWatch::Alarm").values()
    watched = {
        (alarm["Properties"]["MetricName"], alarm["Properties"]["Dimensions"][0]["Value"]["Ref"])
        for alarm in alarms
        if alarm["Properties"]["Namespace"] == "AWS/Lambda"
    }
    functions = _of_type(cfn_template, "AWS::Lambda::Function")
    assert watched == {(metric, f) for f in functions for metric in ("Errors", "Throttles")}


def test_every_queue_alarms_on_depth(cfn_template: dict[str, Any]) -> None:
    alarms = _of_type(cfn_template, "AWS::CloudWatch::Alarm").values()
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms
        if alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched == set(_of_type(cfn_template, "AWS::SQS::Queue"))


def test_outputs_give_what_an_operator_needs(cfn_template: dict[str, Any]) -> None:
    assert {"ApiUrl", "WebhookUrl", "TableName", "EventBusName", "UserPoolId", "WebhookSecretArn"} <= set(
        cfn_template["Outputs"]
    )


# ---------------------------------------------------------------- linting and deploy config


def test_cfn_lint_finds_nothing_in_the_template(template_path: Path) -> None:
    matches = lint_file(template_path, config=ManualArgs(regions=["eu-west-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_cfn_lint_finds_no_errors_in_the_transformed_template(cfn_template: dict[str, Any]) -> None:
    # Warnings are expected here: SAM inlines some parameter values (W2001 "not used").
    matches = lint(json.dumps(cfn_template), config=ManualArgs(regions=["eu-west-1"]))
    assert [str(m) for m in matches if m.rule.id.startswith("E")] == []


def test_samconfig_deploys_the_template_with_only_the_capabilities_it_needs() -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "windowkeeper"
    # IAM roles without custom names: CAPABILITY_IAM; the SAM transform: CAPABILITY_AUTO_EXPAND.
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert config["default"]["global"]["parameters"]["template_file"] == "infra/template.yaml"


# ---------------------------------------------------------------- SMS and e-mail


def test_the_inbound_function_is_invoked_by_the_two_inbound_topics_it_accepts(
    cfn_template: dict[str, Any],
) -> None:
    resources = cfn_template["Resources"]
    subscriptions = {
        r["Properties"]["TopicArn"]["Ref"]: r["Properties"]
        for r in _of_type(cfn_template, "AWS::SNS::Subscription").values()
        if r["Properties"]["Protocol"] == "lambda"
    }
    assert set(subscriptions) == {"SmsInboundTopic", "EmailInboundTopic"}
    assert all(p["Endpoint"] == {"Fn::GetAtt": ["AwsInboundFunction", "Arn"]} for p in subscriptions.values())
    variables = resources["AwsInboundFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["SMS_INBOUND_TOPIC_ARN"] == {"Ref": "SmsInboundTopic"}
    assert variables["EMAIL_INBOUND_TOPIC_ARN"] == {"Ref": "EmailInboundTopic"}
    permissions = [
        p["Properties"]
        for p in _of_type(cfn_template, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "sns.amazonaws.com"
    ]
    assert {p["SourceArn"]["Ref"] for p in permissions} == {"SmsInboundTopic", "EmailInboundTopic"}
    assert all(p["FunctionName"] == {"Ref": "AwsInboundFunction"} for p in permissions)


def test_the_inbound_function_reads_no_secret_and_never_deletes(cfn_template: dict[str, Any]) -> None:
    actions = _actions(cfn_template["Resources"]["AwsInboundFunctionRole"])
    assert {"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "events:PutEvents", "s3:PutObject"} <= actions
    assert not {a for a in actions if a.startswith("secretsmanager:")}
    assert not {a for a in actions if "Delete" in a or "Scan" in a}
    properties = cfn_template["Resources"]["AwsInboundFunction"]["Properties"]
    queue = properties["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
    assert cfn_template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def test_only_this_accounts_end_user_messaging_and_ses_may_publish_to_the_inbound_topics(
    cfn_template: dict[str, Any],
) -> None:
    (policy,) = _of_type(cfn_template, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    publishers = {s["Principal"]["Service"]: s["Resource"]["Ref"] for s in statements}
    assert publishers == {
        "sms-voice.amazonaws.com": "SmsInboundTopic",
        "ses.amazonaws.com": "EmailInboundTopic",
    }
    assert all(
        s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for s in statements
    )


def test_ses_receipt_rule_scans_and_publishes_to_the_email_topic(cfn_template: dict[str, Any]) -> None:
    (rule,) = _of_type(cfn_template, "AWS::SES::ReceiptRule").values()
    properties = rule["Properties"]["Rule"]
    assert properties["Enabled"] and properties["ScanEnabled"]  # spam and virus verdicts
    (action,) = properties["Actions"]
    assert action["SNSAction"]["TopicArn"] == {"Ref": "EmailInboundTopic"}
    assert rule["Properties"]["RuleSetName"] == {"Ref": "EmailReceiptRuleSet"}
    assert "EmailReceiptRuleSetName" in cfn_template["Outputs"]  # activated by hand: the README says how


@pytest.mark.parametrize("function", ["SendFunction", "SchedulerFunction"])
def test_senders_publish_sms_to_phone_numbers_only_and_email_from_our_identities(
    cfn_template: dict[str, Any], function: str
) -> None:
    statements = list(_statements(cfn_template["Resources"][f"{function}Role"]))
    (sms,) = [s for s in statements if s["Action"] == "sns:Publish"]
    assert "Resource" not in sms
    assert sms["NotResource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}  # no topic at all
    (email,) = [s for s in statements if s["Action"] == "ses:SendEmail"]
    assert all(":${AWS::AccountId}:" in r["Fn::Sub"] for r in email["Resource"])
