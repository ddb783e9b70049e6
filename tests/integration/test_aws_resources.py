"""create_all builds, under moto, exactly what infra/template.yaml declares."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.contract import RESOURCE_ENVIRONMENT
from windowkeeper import aws as wk_aws
from windowkeeper import bus, events, secrets
from windowkeeper.store import keys
from windowkeeper_tools.aws_resources import (
    IDEMPOTENCY_TABLE,
    TABLE,
    Resources,
    TemplateError,
    create_all,
    load_template,
    table_create_request,
)


def _client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1")  # type: ignore[call-overload]


def _by_name(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_table_key_schema_and_indexes_match_the_template(aws: Resources) -> None:
    declared = load_template()["Resources"][TABLE]["Properties"]
    described = _client("dynamodb").describe_table(TableName=aws.table_name)["Table"]

    assert described["KeySchema"] == declared["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        declared["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    created_indexes = _by_name(described["GlobalSecondaryIndexes"], "IndexName")
    declared_indexes = _by_name(declared["GlobalSecondaryIndexes"], "IndexName")
    assert (
        set(created_indexes)
        == set(declared_indexes)
        == {keys.DUE_INDEX, keys.ACCOUNT_INDEX, keys.INBOX_INDEX, keys.AUDIT_INDEX}
    )
    for name, declared_index in declared_indexes.items():
        assert created_indexes[name]["KeySchema"] == declared_index["KeySchema"]
        assert created_indexes[name]["Projection"] == declared_index["Projection"]


def test_ttl_is_enabled_on_the_attributes_the_template_names(aws: Resources) -> None:
    dynamodb = _client("dynamodb")
    resources = load_template()["Resources"]
    for logical_id, table_name in ((TABLE, aws.table_name), (IDEMPOTENCY_TABLE, aws.idempotency_table_name)):
        ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        declared = resources[logical_id]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": declared["AttributeName"]}


def test_idempotency_table_has_the_powertools_key(aws: Resources) -> None:
    described = _client("dynamodb").describe_table(TableName=aws.idempotency_table_name)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_point_in_time_recovery_is_on_for_the_main_table(aws: Resources) -> None:
    backups = _client("dynamodb").describe_continuous_backups(TableName=aws.table_name)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_sparse_due_index_holds_only_items_with_a_due_bucket(aws: Resources) -> None:
    dynamodb = _client("dynamodb")
    due = {"pk": {"S": "C#whatsapp#1#a"}, "sk": {"S": "STATE"}}
    due |= {"due_bucket": {"S": "DUE#2026-03-01T10:00#03"}, "due_at_ms": {"N": "1772359200000"}}
    not_due = {"pk": {"S": "C#whatsapp#1#b"}, "sk": {"S": "STATE"}}
    dynamodb.put_item(TableName=aws.table_name, Item=due)
    dynamodb.put_item(TableName=aws.table_name, Item=not_due)

    scanned = dynamodb.scan(TableName=aws.table_name, IndexName=keys.DUE_INDEX)["Items"]

    assert [item["pk"]["S"] for item in scanned] == ["C#whatsapp#1#a"]


def test_bus_bucket_group_and_queue_exist(aws: Resources) -> None:
    assert _client("events").describe_event_bus(Name=aws.bus_name)["Arn"] == aws.bus_arn
    s3 = _client("s3")
    s3.head_bucket(Bucket=aws.quarantine_bucket)
    block = s3.get_public_access_block(Bucket=aws.quarantine_bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=aws.quarantine_bucket)["Rules"]
    assert [rule["Expiration"]["Days"] for rule in lifecycle] == [90]
    group = _client("scheduler").get_schedule_group(Name=aws.schedule_group_name)
    assert group["State"] == "ACTIVE"
    queue = _client("sqs").get_queue_attributes(QueueUrl=aws.scheduler_dlq_url, AttributeNames=["QueueArn"])
    assert queue["Attributes"]["QueueArn"] == aws.scheduler_dlq_arn
    assert _client("iam").get_role(RoleName=aws.scheduler_role_arn.rsplit("/", 1)[1])["Role"]["Arn"] == (
        aws.scheduler_role_arn
    )


def test_webhook_secret_holds_the_given_values(aws: Resources, app_secret: str, verify_token: str) -> None:
    stored = _client("secretsmanager").get_secret_value(SecretId=aws.webhook_secret_id)["SecretString"]
    assert json.loads(stored) == {
        "app_secret": app_secret,
        "verify_token": verify_token,
    }


def test_environment_covers_the_contract_and_points_at_what_exists(aws: Resources) -> None:
    environment = aws.environment()
    assert set(environment) == RESOURCE_ENVIRONMENT
    parameters = load_template()["Parameters"]
    assert environment["GRAPH_API_VERSION"] == parameters["GraphApiVersion"]["Default"]
    assert environment["MAX_WEBHOOK_BODY_BYTES"] == str(parameters["MaxWebhookBodyBytes"]["Default"])
    lambda_arn_prefix = f"arn:aws:lambda:eu-west-1:{aws.account_id}:function:"
    assert environment["SCHEDULER_TARGET_ARN"].startswith(lambda_arn_prefix)


def test_names_follow_the_prefix_as_stack_name(aws: Resources) -> None:
    assert aws.bus_name == "windowkeeper-events"
    assert aws.schedule_group_name == "windowkeeper-followups"
    assert aws.table_name == "windowkeeper-table"
    assert aws.scheduler_target_arn.endswith(":function:windowkeeper-scheduler")


def test_create_all_twice_on_one_endpoint_keeps_resources_and_updates_the_secret() -> None:
    with mock_aws():
        first = create_all(app_secret="first")
        second = create_all(app_secret="second")
        value = _client("secretsmanager").get_secret_value(SecretId=second.webhook_secret_id)["SecretString"]

    assert first == second
    assert json.loads(value)["app_secret"] == "second"


def test_a_table_property_that_cannot_be_reproduced_is_refused() -> None:
    properties = dict(load_template()["Resources"][TABLE]["Properties"])
    properties["ImportSourceSpecification"] = {"S3BucketSource": {"S3Bucket": "x"}}

    with pytest.raises(TemplateError, match="ImportSourceSpecification"):
        table_create_request("t", properties)


def test_fixture_points_the_shared_adapters_at_the_created_resources(
    aws: Resources, app_secret: str, verify_token: str
) -> None:
    """What handlers do: read names from the env contract through windowkeeper's own adapters."""
    webhook_secret = secrets.get_json_secret(os.environ["WEBHOOK_SECRET_ID"])
    assert webhook_secret == {"app_secret": app_secret, "verify_token": verify_token}

    event = events.BusEvent(events.DetailType.CUSTOMER_ACTION, "evt-1", {"kind": "test"})
    published = bus.publish([event])
    assert published == 1

    wk_aws.table(os.environ["TABLE_NAME"]).put_item(Item={"pk": "SWEEP", "sk": "CURSOR"})
    key = {"pk": {"S": "SWEEP"}, "sk": {"S": "CURSOR"}}
    stored = _client("dynamodb").get_item(TableName=aws.table_name, Key=key)
    assert "Item" in stored
