using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.FrontDoorTests.Approvals;

/// <summary>
/// The requester's webhook: a real HTTP listener on 127.0.0.1 (a free port) that keeps every notification it gets,
/// answers 204, and lets a test wait for one with a deadline.
/// </summary>
internal sealed class ApprovalsWebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<Notification> _arrivals = Channel.CreateUnbounded<Notification>();
    private readonly List<Notification> _seen = [];

    private ApprovalsWebhookReceiver(WebApplication app) => _app = app;

    public sealed record Notification(string DeliveryId, JsonElement Body)
    {
        public string Event => Body.GetProperty("event").GetString()!;
    }

    public string Url { get; private set; } = "";

    public static async Task<ApprovalsWebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new ApprovalsWebhookReceiver(app);
        app.MapPost("/notify", async context =>
        {
            using var json = await JsonDocument.ParseAsync(context.Request.Body);
            await receiver._arrivals.Writer.WriteAsync(new Notification(context.Request.Headers["X-MicroApps-Delivery-Id"].ToString(), json.RootElement.Clone()));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/notify";
        return receiver;
    }

    /// <summary>Every notification received so far (those a wait has already taken included).</summary>
    public IReadOnlyList<Notification> Seen
    {
        get
        {
            while (_arrivals.Reader.TryRead(out var n))
            {
                _seen.Add(n);
            }

            return _seen;
        }
    }

    /// <summary>Waits for the notification of <paramref name="event"/>, failing after <paramref name="within"/>.</summary>
    public async Task<Notification> WaitForAsync(string @event, TimeSpan within)
    {
        if (Seen.FirstOrDefault(n => n.Event == @event) is { } already)
        {
            return already;
        }

        using var deadline = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var next = await _arrivals.Reader.ReadAsync(deadline.Token);
                _seen.Add(next);
                if (next.Event == @event)
                {
                    return next;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException(
                $"No '{@event}' notification within {within}; received: [{string.Join(", ", _seen.Select(n => n.Event))}].");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
