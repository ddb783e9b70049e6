"""The alarms and the dashboard that let operations see trouble, checked offline against the code.

Every alarm on a custom metric watches a name the functions really emit (a typo would be an alarm
that never fires), and the dashboard is valid JSON once CloudFormation substitutes it, shows every
alarm on the service's own metrics, and charts only metrics that exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "Windowkeeper"

# What the issue asked to page someone on, and the metric each alarm watches.
REQUIRED_ALARMS = {
    "GraphErrorsAlarm": "GraphErrors",
    "PageTokenInvalidAlarm": "PageTokenInvalid",
    "WebhookSignatureRejectedAlarm": "SignatureRejected",
    "DeliveryUnknownAlarm": "DeliveryUnknown",
    "WebhookDeferredAlarm": "WebhookDeferred",
}


def _source_text() -> str:
    files = [*REPO_ROOT.glob("shared/windowkeeper/**/*.py"), *REPO_ROOT.glob("functions/*/*.py")]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def emitted(metric: str, source: str) -> bool:
    """The code names the metric: ``name="X"``, ``_count("X")``, an outcome's ``"X":`` counter or
    the webhook's ``_error(..., X=1)``."""
    quoted = re.search(rf'["\']{re.escape(metric)}["\']', source)
    return quoted is not None or re.search(rf"\b{re.escape(metric)}=", source) is not None


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


@pytest.mark.parametrize(("logical_id", "metric"), sorted(REQUIRED_ALARMS.items()))
def test_the_trouble_that_paged_nobody_now_has_an_alarm(
    sam_template: dict[str, Any], logical_id: str, metric: str
) -> None:
    alarm = _alarms(sam_template)[logical_id]
    assert (alarm["Namespace"], alarm["MetricName"]) == (NAMESPACE, metric)
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "windowkeeper"}]  # powertools' default
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is not trouble
    assert alarm["AlarmDescription"].endswith(".") and len(alarm["AlarmDescription"]) > 40


def test_every_alarm_on_a_service_metric_watches_a_metric_the_code_emits(
    sam_template: dict[str, Any],
) -> None:
    source = _source_text()
    watched = {a["MetricName"] for a in _alarms(sam_template).values() if a["Namespace"] == NAMESPACE}
    assert set(REQUIRED_ALARMS.values()) <= watched
    assert [m for m in sorted(watched) if not emitted(m, source)] == []


def _dashboard_body(sam_template: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The dashboard JSON with CloudFormation's ``${...}`` substituted by placeholders."""
    body = sam_template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    references = set(re.findall(r"\$\{([^}]+)\}", body))
    return json.loads(re.sub(r"\$\{([^}]+)\}", r"ref:\1", body)), references


def test_the_dashboard_is_valid_json_and_references_only_resources_of_the_template(
    sam_template: dict[str, Any],
) -> None:
    body, references = _dashboard_body(sam_template)
    assert body["widgets"]
    resources = set(sam_template["Resources"])
    for reference in references:
        name = reference.split(".")[0]
        assert name.startswith("AWS::") or name in resources, reference


def test_the_dashboard_shows_every_alarm_on_the_services_own_metrics(sam_template: dict[str, Any]) -> None:
    body, _ = _dashboard_body(sam_template)
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {a.removeprefix("ref:").removesuffix(".Arn") for a in alarm_widget["properties"]["alarms"]}
    own = {k for k, a in _alarms(sam_template).items() if a["Namespace"] == NAMESPACE}
    assert own <= shown
    assert shown <= set(_alarms(sam_template))


def test_the_dashboard_charts_only_metrics_the_code_emits(sam_template: dict[str, Any]) -> None:
    body, _ = _dashboard_body(sam_template)
    source = _source_text()
    charted = {
        line[1]
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for line in widget["properties"]["metrics"]
        if line[0] == NAMESPACE
    }
    assert {"MessagesSent", "GraphErrors", "ParsedEvents", "SignatureRejected"} <= charted
    assert [m for m in sorted(charted) if not emitted(m, source)] == []
