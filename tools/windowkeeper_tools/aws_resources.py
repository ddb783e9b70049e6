"""Create the template's stateful resources in whatever AWS boto3 points at.

Tests run this inside ``moto.mock_aws()``; the local stack runs it against a moto server named by
``AWS_ENDPOINT_URL``. ``infra/template.yaml`` is the one definition: tables are created from
their own ``Properties`` there (translated from CloudFormation's shape to the API's), and a
property this module does not know how to translate is an error rather than silently dropped,
so the local tables cannot drift from the deployed ones.

Names: a resource whose template name is ``!Sub "${AWS::StackName}-..."`` gets that name with
``prefix`` as the stack name; unnamed resources get ``<prefix>-<logical-id-in-kebab-case>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from windowkeeper import aws

DEFAULT_TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"

# Logical ids in infra/template.yaml that the environment contract points at.
TABLE = "Table"
IDEMPOTENCY_TABLE = "IdempotencyTable"
EVENT_BUS = "EventBus"
QUARANTINE_BUCKET = "QuarantineBucket"
WEBHOOK_SECRET = "WebhookSecret"
SCHEDULE_GROUP = "ScheduleGroup"
SCHEDULER_DLQ = "SchedulerDeadLetterQueue"
SCHEDULER_ROLE = "SchedulerRole"
SCHEDULER_FUNCTION = "SchedulerFunction"

DEFAULT_APP_SECRET = "local-app-secret"
DEFAULT_VERIFY_TOKEN = "local-verify-token"

# CloudFormation table properties with no CreateTable equivalent that matters for a local copy
# (tags, insights, backups) or that are applied by a follow-up call (TTL, PITR).
_TABLE_PROPERTIES_APPLIED_LATER = {"TimeToLiveSpecification", "PointInTimeRecoverySpecification"}
_TABLE_PROPERTIES_IGNORED = {"Tags", "ContributorInsightsSpecification", "TableClass", "ResourcePolicy"}
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


class TemplateError(ValueError):
    """The template has something this module cannot reproduce locally."""


@dataclass(frozen=True)
class Resources:
    """Names and ARNs of what ``create_all`` made, and the env vars that point a function at it."""

    region: str
    account_id: str
    table_name: str
    idempotency_table_name: str
    bus_name: str
    bus_arn: str
    quarantine_bucket: str
    webhook_secret_id: str  # the secret's ARN, as ``!Ref WebhookSecret`` gives when deployed
    schedule_group_name: str
    scheduler_dlq_arn: str
    scheduler_dlq_url: str
    scheduler_role_arn: str
    scheduler_target_arn: str
    graph_api_base_url: str
    graph_api_version: str
    max_webhook_body_bytes: int
    # Every AWS::SQS::Queue in the template, by logical id.
    queue_arns: Mapping[str, str] = field(default_factory=dict)
    queue_urls: Mapping[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """The environment variable contract, as the SAM template sets it on the functions."""
        return {
            "TABLE_NAME": self.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
            "EVENT_BUS_NAME": self.bus_name,
            "QUARANTINE_BUCKET": self.quarantine_bucket,
            "WEBHOOK_SECRET_ID": self.webhook_secret_id,
            "GRAPH_API_BASE_URL": self.graph_api_base_url,
            "GRAPH_API_VERSION": self.graph_api_version,
            "SCHEDULE_GROUP_NAME": self.schedule_group_name,
            "SCHEDULER_TARGET_ARN": self.scheduler_target_arn,
            "SCHEDULER_ROLE_ARN": self.scheduler_role_arn,
            "SCHEDULER_DLQ_ARN": self.scheduler_dlq_arn,
            "MAX_WEBHOOK_BODY_BYTES": str(self.max_webhook_body_bytes),
        }


def load_template(template_path: str | Path | None = None) -> dict[str, Any]:
    """The template as a dict; intrinsics come back as ``{"Ref": ...}``/``{"Fn::Sub": ...}``."""
    from samtranslator.yaml_helper import yaml_parse

    path = Path(template_path) if template_path is not None else DEFAULT_TEMPLATE_PATH
    parsed: Any = yaml_parse(path.read_text(encoding="utf-8"))
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources section")
    return parsed


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every resource of one CloudFormation type."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == resource_type
    }


def kebab(logical_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id).lower()


def create_all(
    template_path: str | Path | None = None,
    *,
    app_secret: str = DEFAULT_APP_SECRET,
    verify_token: str = DEFAULT_VERIFY_TOKEN,
    prefix: str = "windowkeeper",
    session: boto3.session.Session | None = None,
) -> Resources:
    """Create tables, bus, bucket, secret, schedule group, queues and the scheduler role.

    Safe to call again against the same endpoint (a restarted local stack): what exists is kept,
    and the webhook secret is set to the given values.
    """
    template = load_template(template_path)
    region = (session.region_name if session else None) or aws.region()
    session = session or _shared_session()
    builder = _Builder(template, session, region, prefix)

    tables = {
        logical_id: builder.create_table(logical_id, resource)
        for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table").items()
    }
    queues = {
        logical_id: builder.create_queue(logical_id, resource)
        for logical_id, resource in resources_of_type(template, "AWS::SQS::Queue").items()
    }
    bus_name, bus_arn = builder.create_event_bus(EVENT_BUS)
    bucket = builder.create_bucket(QUARANTINE_BUCKET)
    webhook_secret = {"app_secret": app_secret, "verify_token": verify_token}
    secret_arn = builder.create_secret(WEBHOOK_SECRET, webhook_secret)
    group_name = builder.create_schedule_group(SCHEDULE_GROUP)
    role_arn = builder.create_role(SCHEDULER_ROLE)

    if SCHEDULER_DLQ not in queues:
        raise TemplateError(f"the template has no {SCHEDULER_DLQ} queue")
    # No Lambda runs under moto; the ARN is what the deployed function's would look like.
    declared_function_name = builder.properties(SCHEDULER_FUNCTION).get("FunctionName")
    function_name = builder.name(SCHEDULER_FUNCTION, declared_function_name)
    target_arn = f"arn:aws:lambda:{region}:{builder.account_id}:function:{function_name}"
    return Resources(
        region=region,
        account_id=builder.account_id,
        table_name=tables[TABLE],
        idempotency_table_name=tables[IDEMPOTENCY_TABLE],
        bus_name=bus_name,
        bus_arn=bus_arn,
        quarantine_bucket=bucket,
        webhook_secret_id=secret_arn,
        schedule_group_name=group_name,
        scheduler_dlq_arn=queues[SCHEDULER_DLQ][0],
        scheduler_dlq_url=queues[SCHEDULER_DLQ][1],
        scheduler_role_arn=role_arn,
        scheduler_target_arn=target_arn,
        graph_api_base_url=str(builder.parameter_default("GraphApiBaseUrl", "https://graph.facebook.com")),
        graph_api_version=str(builder.parameter_default("GraphApiVersion", "v25.0")),
        max_webhook_body_bytes=int(builder.parameter_default("MaxWebhookBodyBytes", 1048576)),
        queue_arns={logical_id: arn for logical_id, (arn, _) in queues.items()},
        queue_urls={logical_id: url for logical_id, (_, url) in queues.items()},
    )


@cache
def _shared_session() -> boto3.session.Session:
    """One session for every call: a fresh one re-reads botocore's endpoint and service models
    (~200 ms), which would dominate each test's fixture. Credentials come from the environment."""
    return boto3.session.Session()


def table_create_request(name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation ``AWS::DynamoDB::Table`` Properties -> a ``CreateTable`` request."""
    handled = {
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "StreamSpecification",
        "SSESpecification",
        "DeletionProtectionEnabled",
        "TableName",
    }
    unknown = set(properties) - handled - _TABLE_PROPERTIES_APPLIED_LATER - _TABLE_PROPERTIES_IGNORED
    if unknown:
        raise TemplateError(f"table {name}: cannot reproduce properties {sorted(unknown)} locally")
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": list(properties["AttributeDefinitions"]),
        "KeySchema": list(properties["KeySchema"]),
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in properties:
        request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(index_kind):
            request[index_kind] = [
                {key: index[key] for key in _INDEX_KEYS if key in index} for index in properties[index_kind]
            ]
    if "StreamSpecification" in properties:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
        }
    if "SSESpecification" in properties:
        sse = properties["SSESpecification"]
        request["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled", False)),
            **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
        }
    if "DeletionProtectionEnabled" in properties:
        request["DeletionProtectionEnabled"] = bool(properties["DeletionProtectionEnabled"])
    return request


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _Builder:
    def __init__(self, template: Mapping[str, Any], session: boto3.session.Session, region: str, prefix: str):
        self.template = template
        self.session = session
        self.region = region
        self.prefix = prefix
        self._account_id: str | None = None

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)  # type: ignore[call-overload]

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = str(self.client("sts").get_caller_identity()["Account"])
        return self._account_id

    def resource(self, logical_id: str, resource_type: str) -> dict[str, Any]:
        resource = self.template["Resources"].get(logical_id)
        if not resource or resource.get("Type") != resource_type:
            raise TemplateError(f"the template has no {resource_type} named {logical_id}")
        return dict(resource)

    def properties(self, logical_id: str) -> dict[str, Any]:
        resource = self.template["Resources"].get(logical_id) or {}
        return dict(resource.get("Properties") or {})

    def parameter_default(self, name: str, fallback: str | int) -> str | int:
        parameter = self.template.get("Parameters", {}).get(name, {})
        value: str | int = parameter.get("Default", fallback)
        return value

    def name(self, logical_id: str, value: Any) -> str:
        """A template name (plain or ``!Sub`` of pseudo parameters), or the prefix-based default."""
        if value is None:
            return f"{self.prefix}-{kebab(logical_id)}"
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
            resolved = (
                value["Fn::Sub"]
                .replace("${AWS::StackName}", self.prefix)
                .replace("${AWS::Region}", self.region)
                .replace("${AWS::AccountId}", self.account_id)
            )
            if "${" not in resolved:
                return str(resolved)
        raise TemplateError(f"{logical_id}: cannot resolve its name {value!r} locally")

    def create_table(self, logical_id: str, resource: Mapping[str, Any]) -> str:
        properties = resource.get("Properties", {})
        name = self.name(logical_id, properties.get("TableName"))
        dynamodb = self.client("dynamodb")
        try:
            dynamodb.create_table(**table_create_request(name, properties))
        except ClientError as error:
            if _error_code(error) != "ResourceInUseException":
                raise
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            try:
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            except ClientError as error:
                # Already enabled from an earlier run against the same endpoint.
                if _error_code(error) != "ValidationException":
                    raise
        pitr = properties.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        return name

    def create_queue(self, logical_id: str, resource: Mapping[str, Any]) -> tuple[str, str]:
        properties = resource.get("Properties", {})
        name = self.name(logical_id, properties.get("QueueName"))
        # Scalar attributes only; a redrive policy naming another queue is not reproduced.
        attributes = {
            key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in properties.items()
            if key not in {"QueueName", "Tags"} and isinstance(value, str | int | bool)
        }
        if name.endswith(".fifo"):
            attributes["FifoQueue"] = "true"
        sqs = self.client("sqs")
        url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        queue_attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        arn = str(queue_attributes["QueueArn"])
        return arn, url

    def create_event_bus(self, logical_id: str) -> tuple[str, str]:
        properties = self.resource(logical_id, "AWS::Events::EventBus").get("Properties", {})
        name = self.name(logical_id, properties.get("Name"))
        events = self.client("events")
        try:
            arn = str(events.create_event_bus(Name=name)["EventBusArn"])
        except ClientError as error:
            if _error_code(error) != "ResourceAlreadyExistsException":
                raise
            arn = str(events.describe_event_bus(Name=name)["Arn"])
        return name, arn

    def create_bucket(self, logical_id: str) -> str:
        properties = self.resource(logical_id, "AWS::S3::Bucket").get("Properties", {})
        name = self.name(logical_id, properties.get("BucketName"))
        s3 = self.client("s3")
        request: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            s3.create_bucket(**request)
        except ClientError as error:
            if _error_code(error) != "BucketAlreadyOwnedByYou":
                raise
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in properties:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                        for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        rules = properties.get("LifecycleConfiguration", {}).get("Rules", [])
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(rule) for rule in rules]}
            )
        return name

    def create_secret(self, logical_id: str, value: Mapping[str, str]) -> str:
        properties = self.resource(logical_id, "AWS::SecretsManager::Secret").get("Properties", {})
        name = self.name(logical_id, properties.get("Name"))
        secrets = self.client("secretsmanager")
        secret_string = json.dumps(dict(value))
        try:
            return str(secrets.create_secret(Name=name, SecretString=secret_string)["ARN"])
        except ClientError as error:
            if _error_code(error) != "ResourceExistsException":
                raise
        return str(secrets.put_secret_value(SecretId=name, SecretString=secret_string)["ARN"])

    def create_schedule_group(self, logical_id: str) -> str:
        properties = self.resource(logical_id, "AWS::Scheduler::ScheduleGroup").get("Properties", {})
        name = self.name(logical_id, properties.get("Name"))
        try:
            self.client("scheduler").create_schedule_group(Name=name)
        except ClientError as error:
            if _error_code(error) != "ConflictException":
                raise
        return name

    def create_role(self, logical_id: str) -> str:
        """The role EventBridge Scheduler assumes. Only a trust policy is reproduced: moto does
        not enforce IAM, so the template's permission statements would be decoration here."""
        name = self.name(logical_id, self.properties(logical_id).get("RoleName"))
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "scheduler.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam = self.client("iam")
        try:
            created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
            return str(created["Role"]["Arn"])
        except ClientError as error:
            if _error_code(error) != "EntityAlreadyExists":
                raise
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation lifecycle rule -> the S3 API's shape (only the fields the template uses)."""
    translated: dict[str, Any] = {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        translated["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        translated["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return translated
