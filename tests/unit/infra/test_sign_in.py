"""The console's sign-in in infra/template.yaml: a hosted UI domain and a public client that uses
the authorization code flow (PKCE is the console's side) with callback and logout URLs."""

from __future__ import annotations

from typing import Any


def _resource(template: dict[str, Any], logical_id: str, resource_type: str) -> dict[str, Any]:
    resource = template["Resources"][logical_id]
    assert resource["Type"] == resource_type
    properties: dict[str, Any] = resource["Properties"]
    return properties


def test_user_pool_has_a_hosted_ui_domain_from_a_prefix_parameter(cfn_template: dict[str, Any]) -> None:
    domain = _resource(cfn_template, "UserPoolDomain", "AWS::Cognito::UserPoolDomain")
    assert domain["UserPoolId"] == {"Ref": "UserPool"}
    assert domain["Domain"] == {"Ref": "AuthDomainPrefix"}
    assert "Default" not in cfn_template["Parameters"]["AuthDomainPrefix"]  # unique per region: asked


def test_console_client_signs_in_with_the_code_flow_and_no_secret(cfn_template: dict[str, Any]) -> None:
    client = _resource(cfn_template, "ConsoleClient", "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False  # a browser cannot keep a secret: PKCE instead
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]  # never the implicit flow
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["CallbackURLs"] == [{"Ref": "ConsoleUrl"}]
    assert client["LogoutURLs"] == [{"Ref": "ConsoleUrl"}]
    assert "ALLOW_REFRESH_TOKEN_AUTH" in client["ExplicitAuthFlows"]


def test_console_tokens_last_an_hour_and_the_refresh_token_thirty_days(cfn_template: dict[str, Any]) -> None:
    client = _resource(cfn_template, "ConsoleClient", "AWS::Cognito::UserPoolClient")
    validity = (client["IdTokenValidity"], client["AccessTokenValidity"], client["RefreshTokenValidity"])
    assert validity == (60, 60, 30)
    units = client["TokenValidityUnits"]
    assert units == {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"}
    # The console reads the tenant from the ID token: the client must be allowed to read it.
    assert "custom:tenant_id" in client["ReadAttributes"]


def test_outputs_name_the_hosted_ui_and_its_sign_in_page(cfn_template: dict[str, Any]) -> None:
    outputs = cfn_template["Outputs"]
    domain = outputs["HostedUiDomain"]["Value"]["Fn::Sub"]
    assert domain == "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"
    sign_in = outputs["SignInUrl"]["Value"]["Fn::Sub"]
    assert sign_in.startswith(domain + "/oauth2/authorize?")
    for part in ("client_id=${ConsoleClient}", "response_type=code", "redirect_uri=${ConsoleUrl}"):
        assert part in sign_in
    assert "ConsoleClientId" in outputs
