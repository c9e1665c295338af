using System.Globalization;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>Body of <c>POST /admin/prompts</c>.</summary>
/// <param name="Name">Prompt name: 3–60 characters of a-z, 0-9, '-' and '.'.</param>
/// <param name="Text">The prompt text; required unless <paramref name="ForkedFrom"/> is given, when it defaults to that version's text.</param>
/// <param name="Description">What changed or what it is for.</param>
/// <param name="ForkedFrom">The version this text was forked from, <c>name@version</c>.</param>
public sealed record PublishPromptBody(string? Name = null, string? Text = null, string? Description = null, string? ForkedFrom = null);

/// <summary>A prompt version as the admin API shows it.</summary>
public sealed record PromptVersionView(string Name, int Version, string Reference, string Text, string ContentHash, string? ForkedFrom, string Author, DateTimeOffset CreatedAt, string Description)
{
    public static PromptVersionView From(PromptVersionInfo p) =>
        new(p.Name, p.Version, p.Reference, p.Text, p.ContentHash, p.ForkedFrom, p.Author, p.CreatedAt, p.Description);
}

/// <summary>A prompt with its owner and versions (texts included).</summary>
public sealed record PromptView(string Name, string Owner, int LatestVersion, IReadOnlyList<PromptVersionView> Versions);

/// <summary>
/// The prompt registry: publish versions, list prompts, read a prompt and one version. Authors publish new versions
/// only of prompts they own (the prompt grain decides, so it holds under concurrent first publications) and fork any
/// prompt into a new name; admins publish to any prompt.
/// </summary>
internal static class PromptEndpoints
{
    public const int MaxDescriptionLength = 1000;

    internal static void MapPromptEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/prompts", PublishAsync)
            .WithName("PublishPrompt").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("Publishes a prompt version (201), or returns the latest version (200) when its text is identical.")
            .WithDescription("The author of a prompt's first version owns it. Authors publish only to prompts they own (403 naming the owner otherwise) " +
                "and fork any prompt into a new name they then own (forkedFrom, text optional); admins publish to any prompt.")
            .Accepts<PublishPromptBody>("application/json")
            .Produces<PromptVersionView>(StatusCodes.Status201Created)
            .Produces<PromptVersionView>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden);

        admin.MapGet("/prompts", ListAsync)
            .WithName("ListPrompts").AllowRoles(AdminAccess.Everyone).Produces<PromptSummary[]>();

        admin.MapGet("/prompts/{name}", GetAsync)
            .WithName("GetPrompt").AllowRoles(AdminAccess.Everyone)
            .Produces<PromptView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/prompts/{name}/versions/{version}", GetVersionAsync)
            .WithName("GetPromptVersion").AllowRoles(AdminAccess.Everyone)
            .Produces<PromptVersionView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<IResult> PublishAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<PublishPromptBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var name = body.Name?.Trim() ?? "";
        if (!PromptNames.IsValid(name))
        {
            errors["name"] = ["Must be 3–60 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."];
        }

        var forkedFrom = string.IsNullOrWhiteSpace(body.ForkedFrom) ? null : body.ForkedFrom.Trim();
        if (string.IsNullOrWhiteSpace(body.Text))
        {
            if (forkedFrom is null)
            {
                errors["text"] = ["Required (it may be left out only with forkedFrom, to copy that version's text)."];
            }
        }
        else if (body.Text.Length > PromptNames.MaxTextLength)
        {
            errors["text"] = [$"At most {PromptNames.MaxTextLength} characters."];
        }

        var description = body.Description?.Trim() ?? "";
        if (description.Length > MaxDescriptionLength)
        {
            errors["description"] = [$"At most {MaxDescriptionLength} characters."];
        }

        var sourceName = "";
        var sourceVersion = 0;
        if (forkedFrom is not null && !PromptNames.TryParseReference(forkedFrom, out sourceName, out sourceVersion))
        {
            errors["forkedFrom"] = ["Must name a prompt version as name@version, e.g. summary@2."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var text = body.Text;
        if (string.IsNullOrWhiteSpace(text))
        {
            var source = grains.GetGrain<IPromptGrain>(sourceName);
            var copied = await cluster.RunAsync(_ => new ValueTask<PromptVersionInfo?>(source.GetAsync(sourceVersion)), context.RequestAborted);
            if (copied is null)
            {
                return AdminJson.Invalid("forkedFrom", $"forkedFrom '{forkedFrom}' does not exist in the prompt registry");
            }

            text = copied.Text;
        }

        var principal = context.AdminPrincipal();
        var prompt = grains.GetGrain<IPromptGrain>(name);
        var before = await cluster.RunAsync(_ => new ValueTask<PromptVersionInfo?>(prompt.GetAsync(null)), context.RequestAborted);
        PromptPublishResult result;
        try
        {
            // The grain checks the owner: a check here, before the call, would let two first publications both pass.
            // Safe to retry: publishing the same text again returns the version already published.
            var publication = new PromptPublication(text, principal.Name, description, forkedFrom, principal.MayPublishToAnyPrompt());
            result = await cluster.RunAsync(_ => new ValueTask<PromptPublishResult>(prompt.PublishAsync(publication)), context.RequestAborted);
        }
        catch (ArgumentException ex)
        {
            return AdminJson.Invalid(ex.ParamName == "forkedFrom" || ex.Message.Contains("forkedFrom", StringComparison.Ordinal) ? "forkedFrom" : "text", ex.Message);
        }

        var published = result.Version;
        if (result.Outcome == PromptPublishOutcome.NotOwner)
        {
            return AdminAccess.NotPromptOwner(principal, name, result.Owner, published.Reference);
        }

        // "Unchanged" with a version of ours newer than the one we saw: a retried call whose first attempt published it.
        var ours = result.Outcome == PromptPublishOutcome.Published
            || (published.Version > (before?.Version ?? 0) && string.Equals(published.Author, principal.Name, StringComparison.Ordinal));
        if (!ours)
        {
            return TypedResults.Ok(PromptVersionView.From(published));
        }

        var lineage = published.ForkedFrom is null ? "" : $" (forked from {published.ForkedFrom})";
        await context.AuditAsync(grains, "prompt.published", $"prompt:{published.Reference}", $"sha256 {published.ContentHash}{lineage}: {description}");
        return TypedResults.Created($"/admin/prompts/{published.Name}/versions/{published.Version}", PromptVersionView.From(published));
    }

    internal static async Task<IResult> ListAsync(IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<IPromptRegistryGrain>(0);
        return TypedResults.Ok(await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<PromptSummary>>(registry.ListAsync()), cancellationToken));
    }

    internal static async Task<IResult> GetAsync(string name, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!PromptNames.IsValid(name))
        {
            return InvalidName();
        }

        var prompt = grains.GetGrain<IPromptGrain>(name);
        var info = await cluster.RunAsync(_ => new ValueTask<PromptInfo?>(prompt.GetInfoAsync()), cancellationToken);
        return info is null
            ? NotFound($"No prompt is named '{name}'.")
            : TypedResults.Ok(new PromptView(name, info.Owner, info.Versions[^1].Version, info.Versions.Select(PromptVersionView.From).ToArray()));
    }

    internal static async Task<IResult> GetVersionAsync(string name, string version, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!PromptNames.IsValid(name))
        {
            return InvalidName();
        }

        if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            return AdminJson.Invalid("version", $"Must be a version number (1, 2, …); got '{version}'.");
        }

        var prompt = grains.GetGrain<IPromptGrain>(name);
        var found = await cluster.RunAsync(_ => new ValueTask<PromptVersionInfo?>(prompt.GetAsync(number)), cancellationToken);
        return found is null
            ? NotFound($"Prompt '{name}' has no version {number}.")
            : TypedResults.Ok(PromptVersionView.From(found));
    }

    private static IResult InvalidName() =>
        AdminJson.Invalid("name", "Must be 3–60 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.");

    private static IResult NotFound(string detail) =>
        TypedResults.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);
}
