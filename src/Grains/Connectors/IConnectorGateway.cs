using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Connectors;

/// <summary>A call of one of an app's declared connectors, as a template run makes it.</summary>
/// <param name="AppId">The app making the call.</param>
/// <param name="Manifest">The manifest of the version being run: its connectors and egress allowlist decide what may be reached.</param>
/// <param name="Connector">The connector's name in the manifest.</param>
/// <param name="Path">What to read: a path under the HTTP connector's base URL (with query), or a blob name under the container.</param>
/// <param name="IdempotencyKey">Sent with webhooks (<c>X-MicroApps-Delivery-Id</c>) so receivers can drop repeats; null for reads.</param>
public sealed record ConnectorCall(string AppId, AppManifest Manifest, string Connector, string Path, string? IdempotencyKey = null);

/// <summary>What a connector call gave back, or why it did not.</summary>
/// <param name="Ok">The call succeeded.</param>
/// <param name="Content">The text read (JSON, CSV or plain text), at most the connector's size cap.</param>
/// <param name="ContentType">Its media type.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="ErrorCode">
/// On failure: <c>connector_not_declared</c>, <c>egress_refused</c> (refused before leaving the platform),
/// <c>connector_timeout</c>, <c>connector_too_large</c>, <c>connector_not_found</c>, <c>connector_unsupported_content</c>, <c>connector_failed</c>.
/// </param>
/// <param name="ErrorMessage">What was wrong, naming the connector and host.</param>
public sealed record ConnectorResponse(bool Ok, string Content, string ContentType, long Bytes, string? ErrorCode = null, string? ErrorMessage = null)
{
    /// <summary>The call never left the platform (not declared, or outside the app's egress allowlist).</summary>
    public bool Refused => ErrorCode is "connector_not_declared" or "egress_refused";

    public static ConnectorResponse Failure(string code, string message) => new(false, "", "", 0, code, message);
}

/// <summary>
/// The certified connectors (<c>http-json</c>, <c>azure-blob</c>, <c>webhook</c>): the only way a template run reaches
/// anything outside the platform. Each call is checked against the app's declared connectors and egress allowlist first,
/// then made with the connector's timeout and size cap.
/// </summary>
public interface IConnectorGateway
{
    /// <summary>Reads a document: an HTTP JSON GET under the connector's base URL, or a blob (CSV, JSON, text).</summary>
    Task<ConnectorResponse> ReadAsync(ConnectorCall call, CancellationToken cancellationToken);

    /// <summary>POSTs a JSON body: an outgoing webhook (or an HTTP JSON connector's POST).</summary>
    Task<ConnectorResponse> SendAsync(ConnectorCall call, string jsonBody, CancellationToken cancellationToken);
}
