using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MicroApps.Orleans.UnitTests.Connectors;

/// <summary>A request as the loopback server saw it.</summary>
public sealed record SeenRequest(string Method, string PathAndQuery, string? DeliveryId, string? ContentType, string Body);

/// <summary>
/// A real HTTP server on a loopback port (HttpListener) that records every request and answers with the test's handler.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<HttpListenerContext, int, Task> _handler;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<SeenRequest> _requests = new();
    private readonly Task _loop;
    private int _count;

    private LoopbackServer(HttpListener listener, string host, int port, Func<HttpListenerContext, int, Task> handler)
    {
        _listener = listener;
        _handler = handler;
        Host = host;
        Port = port;
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The host name it is reached by (<c>127.0.0.1</c> or <c>localhost</c>).</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary><c>http://{Host}:{Port}</c> without a trailing slash.</summary>
    public string Origin => $"http://{Host}:{Port}";

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<SeenRequest> Requests => _requests.ToArray();

    /// <summary>Starts a server on a free loopback port; the handler gets the context and the 1-based request number.</summary>
    public static LoopbackServer Start(Func<HttpListenerContext, int, Task> handler, string host = "127.0.0.1")
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://{host}:{port}/");
            try
            {
                listener.Start();
                return new LoopbackServer(listener, host, port, handler);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Another process took the port between probing and binding; try another.
                listener.Close();
            }
        }
    }

    /// <summary>Writes a whole answer.</summary>
    public static async Task AnswerAsync(HttpListenerContext context, int status, string? contentType, string body, bool chunked = false)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        if (contentType is not null)
        {
            context.Response.ContentType = contentType;
        }

        if (chunked)
        {
            context.Response.SendChunked = true;
        }
        else
        {
            context.Response.ContentLength64 = bytes.Length;
        }

        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        _requests.Enqueue(new SeenRequest(request.HttpMethod, request.Url!.PathAndQuery, request.Headers["X-MicroApps-Delivery-Id"], request.ContentType, body));
        var number = Interlocked.Increment(ref _count);
        try
        {
            await _handler(context, number);
        }
        catch (Exception)
        {
            // The client may have gone (timeouts, size caps); the test asserts on what the gateway returned.
            try
            {
                context.Response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
