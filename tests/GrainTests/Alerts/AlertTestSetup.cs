using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace MicroApps.Orleans.GrainTests.Alerts;

/// <summary>
/// Alert delivery settings of the shared cluster: backoff on the fake clock (10 s doubling, no jitter, so tests
/// advance time instead of waiting) and SMTP on a loopback port whose fake server <see cref="FakeSmtp"/> starts on demand.
/// </summary>
internal static class AlertTestSetup
{
    public static readonly TimeSpan BaseDelay = TimeSpan.FromSeconds(10);
    public const int MaxAttempts = 4;

    public static int SmtpPort { get; private set; }

#pragma warning disable CA2255 // The shared cluster reads its settings when it starts; this runs before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure()
    {
        var settings = ClusterFixture.SiloSettings;
        settings["Alerts:Webhook:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Alerts:Webhook:BaseDelay"] = BaseDelay.ToString();
        settings["Alerts:Webhook:MaxDelay"] = "00:10:00";
        settings["Alerts:Webhook:UseJitter"] = "false";
        settings["Alerts:Smtp:BaseDelay"] = BaseDelay.ToString();
        settings["Alerts:Smtp:UseJitter"] = "false";

        // The port is chosen now because the silos read it once; the server binds it when a test needs it.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        SmtpPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        settings["Alerts:Smtp:Host"] = "127.0.0.1";
        settings["Alerts:Smtp:Port"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Alerts:Smtp:From"] = "MicroApps alerts <alerts@microapps.test>";
        settings["Alerts:Smtp:UseTls"] = "false";
    }
}

/// <summary>A webhook receiver on Kestrel at 127.0.0.1 (a free port) that answers the first N posts with 503.</summary>
internal sealed class LoopbackWebhook : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    private LoopbackWebhook(WebApplication app, int failFirst, int status)
    {
        _app = app;
        _failuresLeft = failFirst;
        FailureStatus = status;
    }

    public string Url { get; private set; } = "";

    public int FailureStatus { get; }

    public ConcurrentQueue<(string? AlertId, string Body)> Received { get; } = new();

    /// <summary>Starts a receiver whose first <paramref name="failFirst"/> answers are <paramref name="status"/> (int.MaxValue: always).</summary>
    public static async Task<LoopbackWebhook> StartAsync(int failFirst, int status = StatusCodes.Status503ServiceUnavailable)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var hook = new LoopbackWebhook(app, failFirst, status);
        app.MapPost("/hook", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            hook.Received.Enqueue((context.Request.Headers["X-MicroApps-Alert-Id"].ToString(), await reader.ReadToEndAsync()));
            context.Response.StatusCode = Interlocked.Decrement(ref hook._failuresLeft) >= 0 ? hook.FailureStatus : StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        hook.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/hook";
        return hook;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The SmtpServer library on <see cref="AlertTestSetup.SmtpPort"/>, keeping every message it accepts.</summary>
internal sealed class FakeSmtp : MessageStore
{
    private static readonly Lazy<FakeSmtp> Shared = new(() => new FakeSmtp());

    private FakeSmtp()
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("fake-smtp.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, AlertTestSetup.SmtpPort)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(this);
        _ = new SmtpServer.SmtpServer(options, services).StartAsync(CancellationToken.None);
    }

    /// <summary>The one server for the test run, started on first use.</summary>
    public static FakeSmtp Instance => Shared.Value;

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();

    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(buffer.ToArray());
        Messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
        return SmtpResponse.Ok;
    }
}
