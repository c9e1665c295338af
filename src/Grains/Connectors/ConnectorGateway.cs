namespace MicroApps.Orleans.Connectors;

/// <summary>Placeholder until the certified connectors land: refuses every call. The API stays.</summary>
public sealed class ConnectorGateway : IConnectorGateway
{
    public Task<ConnectorResponse> ReadAsync(ConnectorCall call, CancellationToken cancellationToken) =>
        Task.FromResult(ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}' cannot be called yet"));

    public Task<ConnectorResponse> SendAsync(ConnectorCall call, string jsonBody, CancellationToken cancellationToken) =>
        Task.FromResult(ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}' cannot be called yet"));
}
