using MicroApps.Orleans.Client;
using Microsoft.Extensions.Options;

try
{
    var app = FrontDoorApplication.Create(args);
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (FindValidationFailure(ex) is { } invalid)
{
    // A wrong setting stops the host with one clear line rather than a stack trace.
    Console.Error.WriteLine($"Front door configuration is invalid: {string.Join(" ", invalid.Failures)}");
    return 2;
}

static OptionsValidationException? FindValidationFailure(Exception? ex)
{
    for (; ex is not null; ex = ex.InnerException)
    {
        if (ex is OptionsValidationException invalid)
        {
            return invalid;
        }

        if (ex is AggregateException aggregate)
        {
            return aggregate.InnerExceptions.Select(FindValidationFailure).FirstOrDefault(e => e is not null);
        }
    }

    return null;
}
