using MicroApps.Orleans.Client.OpenAI;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>Counts failures that reached the last-resort handler, so tests can show bad input never does.</summary>
public sealed class UnhandledFailures
{
    private long count;

    public long Count => Interlocked.Read(ref count);

    internal void Increment() => Interlocked.Increment(ref count);
}

/// <summary>
/// The last resort: anything the endpoints did not turn into a typed error. Body-size and protocol
/// errors from Kestrel keep their 4xx status; an unreachable cluster is a 503; the rest is a logged 500,
/// in OpenAI error JSON under <c>/v1</c> and problem details elsewhere.
/// </summary>
internal sealed class FrontDoorExceptionHandler(
    ILogger<FrontDoorExceptionHandler> logger,
    IProblemDetailsService problems,
    IOptions<FrontDoorOptions> options,
    UnhandledFailures failures) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is nobody to answer.
            return true;
        }

        var isOpenAI = context.Request.Path.StartsWithSegments("/v1");
        int status;
        string message;
        string? code;
        TimeSpan? retryAfter = null;
        switch (exception)
        {
            case BadHttpRequestException bad:
                status = bad.StatusCode;
                code = status == StatusCodes.Status413PayloadTooLarge ? "request_too_large" : "bad_request";
                if (status == StatusCodes.Status413PayloadTooLarge)
                {
                    // The rest of the body is never read: the connection cannot carry another request.
                    context.Response.Headers.Connection = "close";
                }

                message = status == StatusCodes.Status413PayloadTooLarge
                    ? $"The request body is larger than the limit of {options.Value.MaxRequestBodyBytes} bytes."
                    : bad.Message;
                break;
            case var _ when ClusterCalls.IsTransient(exception):
                status = StatusCodes.Status503ServiceUnavailable;
                code = "cluster_unavailable";
                message = "The platform cluster is unreachable; retry later.";
                retryAfter = TimeSpan.FromSeconds(options.Value.ClusterUnavailableRetryAfterSeconds);
                logger.LogWarning(exception, "Cluster unreachable for {Method} {Path}", context.Request.Method, context.Request.Path);
                break;
            default:
                failures.Increment();
                logger.LogError(exception, "Unhandled failure for {Method} {Path}", context.Request.Method, context.Request.Path);
                status = StatusCodes.Status500InternalServerError;
                code = "internal_error";
                message = "The front door failed unexpectedly; the failure was logged.";
                break;
        }

        if (context.Response.HasStarted)
        {
            return true;
        }

        if (isOpenAI)
        {
            await OpenAIErrors.WriteAsync(context, status, message, OpenAIErrors.TypeFor(status), null, code, retryAfter);
            return true;
        }

        context.Response.StatusCode = status;
        if (retryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = OpenAIErrors.RetryAfterSeconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = code, Detail = message },
        });
    }
}
