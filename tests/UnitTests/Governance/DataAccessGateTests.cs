using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Governance;
using static MicroApps.Orleans.UnitTests.Governance.GateTestData;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class DataAccessGateTests
{
    private static readonly string[] Restricted = ["ssn", "card_number", "iban"];

    [Fact]
    public void An_app_without_connectors_passes()
    {
        var result = DataAccessGate.Evaluate(Manifest(dataClasses: ["email"]), Restricted, At);

        Assert.True(result.Passed, result.Detail);
        Assert.Equal(GateNames.DataAccess, result.Gate);
        Assert.Equal(At, result.At);
    }

    [Fact]
    public void Connectors_on_the_allowlist_returning_declared_classes_pass()
    {
        var manifest = Manifest(
            dataClasses: ["email", "phone"],
            connectors: [new ConnectorRef("crm", "api.crm.example.com", ["email", "phone"]), new ConnectorRef("wiki", "wiki.example.org", [])],
            egress: ["*.crm.example.com", "wiki.example.org"]);

        var result = DataAccessGate.Evaluate(manifest, Restricted, At);

        Assert.True(result.Passed, result.Detail);
        Assert.Contains("2 connector(s)", result.Detail);
    }

    [Fact]
    public void A_connector_host_off_the_allowlist_fails_naming_connector_and_host()
    {
        var manifest = Manifest(connectors: [new ConnectorRef("crm", "api.crm.example.com", [])], egress: ["wiki.example.org"]);

        var result = DataAccessGate.Evaluate(manifest, Restricted, At);

        Assert.False(result.Passed);
        Assert.Contains("connector 'crm' reaches host 'api.crm.example.com'", result.Detail);
        Assert.Contains("not on the egress allowlist", result.Detail);
    }

    [Fact]
    public void A_connector_returning_undeclared_data_fails_naming_the_classes()
    {
        var manifest = Manifest(
            dataClasses: ["email"],
            connectors: [new ConnectorRef("hr", "hr.example.com", ["email", "ssn", "phone"])],
            egress: ["hr.example.com"]);

        var result = DataAccessGate.Evaluate(manifest, Restricted, At);

        Assert.False(result.Passed);
        Assert.Contains("connector 'hr' returns data classes the app does not declare: ssn, phone", result.Detail);
    }

    [Fact]
    public void An_external_app_may_not_declare_restricted_classes()
    {
        var result = DataAccessGate.Evaluate(Manifest(Audience.External, dataClasses: ["email", "iban", "ssn"]), Restricted, At);

        Assert.False(result.Passed);
        Assert.Contains("external-audience app may not declare restricted data classes: iban, ssn", result.Detail);
    }

    [Fact]
    public void An_internal_app_may_declare_restricted_classes()
    {
        var result = DataAccessGate.Evaluate(Manifest(Audience.Internal, dataClasses: ["iban", "ssn"]), Restricted, At);

        Assert.True(result.Passed, result.Detail);
    }

    [Fact]
    public void The_restricted_list_is_the_configured_one()
    {
        var manifest = Manifest(Audience.External, dataClasses: ["ssn", "health"]);

        var result = DataAccessGate.Evaluate(manifest, ["health"], At);

        Assert.False(result.Passed);
        Assert.Contains("restricted data classes: health", result.Detail);
        Assert.DoesNotContain("ssn", result.Detail);
    }

    [Fact]
    public void Every_problem_is_named_in_one_detail()
    {
        var manifest = Manifest(
            Audience.External,
            dataClasses: ["card_number"],
            connectors: [new ConnectorRef("pay", "pay.example.net", ["card_number", "iban"])],
            egress: []);

        var result = DataAccessGate.Evaluate(manifest, Restricted, At);

        Assert.False(result.Passed);
        Assert.Contains("'pay.example.net'", result.Detail);
        Assert.Contains("does not declare: iban", result.Detail);
        Assert.Contains("restricted data classes: card_number", result.Detail);
    }

    [Fact]
    public void Default_restricted_classes_apply_when_none_are_configured()
    {
        Assert.Equal(["ssn", "card_number", "iban"], new PromotionGateOptions().EffectiveRestrictedDataClasses);
        Assert.Equal(["health"], new PromotionGateOptions { RestrictedDataClasses = [" health ", ""] }.EffectiveRestrictedDataClasses);
    }
}
