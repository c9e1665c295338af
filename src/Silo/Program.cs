using MicroApps.Orleans.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

// Content root is the app folder so appsettings.json is found whatever the working directory is.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

IHost host;
try
{
    builder.AddMicroAppsSilo().AddMicroAppsTelemetry("microapps-silo");
    host = builder.Build();
}
catch (OptionsValidationException ex)
{
    // The hosting extensions validate while building, before Orleans reads any of it.
    return ConfigurationError(ex);
}

try
{
    // Run every ValidateOnStart check (budgets, models, gateway…) now: Orleans resolves its components
    // while starting, before the host would run them, and a bad value would end in a stack trace.
    host.Services.GetService<IStartupValidator>()?.Validate();
}
catch (Exception ex) when (ex is OptionsValidationException or AggregateException || IsBindingFailure(ex))
{
    host.Dispose();
    return ConfigurationError(ex);
}

var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
lifetime.ApplicationStarted.Register(() =>
{
    // The readiness contract: exactly one line, once the silo has joined the cluster.
    var silo = host.Services.GetRequiredService<ILocalSiloDetails>();
    Console.Out.WriteLine($"SILO READY {silo.SiloAddress}");
    Console.Out.Flush();
});

try
{
    // RunAsync stops gracefully on SIGTERM / Ctrl-C: the silo leaves the membership table and hands its grains over.
    await host.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is OptionsValidationException || IsBindingFailure(ex))
{
    return ConfigurationError(ex);
}
catch (OrleansConfigurationException ex)
{
    return ConfigurationError(ex);
}
catch (Exception ex)
{
    // Storage unreachable, a port in use: the host already logged the details.
    Console.Error.WriteLine($"silo: failed to start: {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
    return 1;
}
finally
{
    host.Dispose();
}

static bool IsBindingFailure(Exception ex) =>
    ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);

static int ConfigurationError(Exception ex)
{
    var message = ex switch
    {
        OptionsValidationException validation => string.Join(" ", validation.Failures),
        AggregateException aggregate => string.Join(" ", aggregate.InnerExceptions.Select(e =>
            e is OptionsValidationException v ? string.Join(" ", v.Failures) : e.Message)),
        _ => ex.Message,
    };
    message = message.ReplaceLineEndings(" ");
    Console.Error.WriteLine($"silo: configuration error: {message}");
    return 2;
}
