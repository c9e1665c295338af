using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// Manifest documents: validate one without creating anything, serve the JSON Schema editors use, and read a version's
/// manifest back as a JSON or YAML document (docs/manifests.md).
/// </summary>
internal static class ManifestEndpoints
{
    /// <summary>Name of the schema embedded in the Client assembly (docs/schemas/microapp-manifest.schema.json).</summary>
    public const string SchemaResource = "MicroApps.Orleans.Client.microapp-manifest.schema.json";

    private static readonly Lazy<string> SchemaText = new(() =>
    {
        using var stream = typeof(ManifestEndpoints).Assembly.GetManifestResourceStream(SchemaResource)
            ?? throw new InvalidOperationException($"The manifest schema resource '{SchemaResource}' is missing from the Client assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>The published JSON Schema of the manifest document.</summary>
    public static string Schema => SchemaText.Value;

    public static void MapManifestEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/manifests/validate", ValidateAsync)
            .WithName("ValidateManifest").AllowRoles(AdminRole.Author, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Checks a manifest document (JSON or YAML) exactly as POST /admin/apps would, without creating anything; returns it normalised.")
            .Accepts<CreateAppBody>("application/json", [.. ManifestYaml.ContentTypes])
            .Produces<ManifestValidView>().ProducesValidationProblem();

        admin.MapGet("/manifests/schema", () => Results.Text(Schema, "application/schema+json"))
            .WithName("GetManifestSchema").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The JSON Schema (draft 2020-12) of the manifest document, for editors.")
            .Produces<JsonObject>(contentType: "application/schema+json");

        admin.MapGet("/apps/{appId}/manifest", GetManifestAsync)
            .WithName("GetAppManifest").AllowRoles(AdminAccess.Everyone)
            .WithSummary("A version's manifest as a document (format=json|yaml; version defaults to the published one, else the newest).")
            .Produces<JsonObject>().Produces<string>(contentType: "application/yaml")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<IResult> ValidateAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await ManifestDocument.ReadAsync(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var checkedBody = await AdminEndpoints.CheckCreateAsync(read.Value!, context, grains, cluster);
        if (checkedBody.Error is not null)
        {
            return checkedBody.Error;
        }

        var normalised = await ManifestValidation.NormaliseAsync(checkedBody.Manifest!, context, grains, cluster);
        var document = ManifestDocument.Document(checkedBody.AppId, normalised, ManifestDocument.Options(context));
        return TypedResults.Ok(new ManifestValidView(true, document));
    }

    internal static async Task<IResult> GetManifestAsync(string appId, int? version, string? format, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var yaml = false;
        switch (format?.Trim().ToLowerInvariant())
        {
            case null or "" or "json":
                break;
            case "yaml" or "yml":
                yaml = true;
                break;
            default:
                return AdminJson.Invalid("format", $"Must be 'json' (the default) or 'yaml'; got '{format}'.");
        }

        var (app, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        AppManifest manifest;
        if (version is { } wanted)
        {
            var found = await cluster.RunAsync(_ => new ValueTask<AppVersionInfo?>(app!.GetVersionAsync(wanted)), context.RequestAborted);
            if (found is null)
            {
                return TypedResults.Problem(title: "Version not found", detail: $"App '{appId}' has no version {wanted}.", statusCode: StatusCodes.Status404NotFound);
            }

            manifest = found.Manifest;
        }
        else
        {
            var versions = info!.Versions ?? [];
            var shown = versions.FirstOrDefault(v => v.Version == info.Release?.PublishedVersion) ?? versions.MaxBy(v => v.Version);
            manifest = shown?.Manifest ?? info.Manifest;
        }

        var document = ManifestDocument.Document(appId, manifest, ManifestDocument.Options(context));
        return yaml
            ? Results.Text(ManifestYaml.FromJson(document), "application/yaml")
            : Results.Text(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), "application/json");
    }
}

/// <summary>Answer of <c>POST /admin/manifests/validate</c>: the normalised document (template defaults filled in).</summary>
public sealed record ManifestValidView(bool Valid, JsonObject Manifest);
