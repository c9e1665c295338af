using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.Prompts;

/// <summary>Stored versions of one prompt.</summary>
[GenerateSerializer, Alias("microapps.PromptState")]
public sealed class PromptState
{
    [Id(0)]
    public List<PromptVersionInfo> Versions { get; set; } = [];
}

/// <summary>
/// A canonical prompt and its immutable versions. Each publish is durable before the reply; the registry
/// listing is updated after, and a retried publish (same text) brings it up to date again.
/// </summary>
public sealed class PromptGrain(
    [PersistentState("prompt", "store")] IPersistentState<PromptState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, IPromptGrain
{
    private string Name => this.GetPrimaryKeyString();

    private List<PromptVersionInfo> Versions => state.State.Versions;

    public async Task<PromptVersionInfo> PublishVersionAsync(string text, string author, string description, string? forkedFrom)
    {
        if (!PromptNames.IsValid(Name))
        {
            throw new ArgumentException($"'{Name}' is not a valid prompt name: {PromptNames.NameRule}", nameof(text));
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("text must not be empty", nameof(text));
        }

        if (text.Length > PromptNames.MaxTextLength)
        {
            throw new ArgumentException($"text must be at most {PromptNames.MaxTextLength} characters", nameof(text));
        }

        if (string.IsNullOrWhiteSpace(author))
        {
            throw new ArgumentException("author is required", nameof(author));
        }

        var latest = Versions.Count > 0 ? Versions[^1] : null;
        if (latest is not null && string.Equals(latest.Text, text, StringComparison.Ordinal))
        {
            await RegisterAsync(latest);
            return latest;
        }

        if (forkedFrom is not null)
        {
            await RequireExistsAsync(forkedFrom);
        }

        var version = new PromptVersionInfo(
            Name, Versions.Count + 1, text, PromptNames.Hash(text), forkedFrom, author.Trim(), time.GetUtcNow(), description?.Trim() ?? "");
        Versions.Add(version);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // GetAsync interleaves, so a version that is not durable must not stay visible.
            Versions.RemoveAt(Versions.Count - 1);
            throw;
        }

        await RegisterAsync(version);
        return version;
    }

    public Task<PromptVersionInfo?> GetAsync(int? version)
    {
        if (Versions.Count == 0)
        {
            return Task.FromResult<PromptVersionInfo?>(null);
        }

        var wanted = version ?? Versions.Count;
        return Task.FromResult(wanted >= 1 && wanted <= Versions.Count ? Versions[wanted - 1] : null);
    }

    public Task<IReadOnlyList<PromptVersionInfo>> ListVersionsAsync() =>
        Task.FromResult<IReadOnlyList<PromptVersionInfo>>(Versions.ToList());

    public async Task<PromptVersionInfo> ForkAsync(string targetName, string author, string description, int? version)
    {
        if (!PromptNames.IsValid(targetName))
        {
            throw new ArgumentException($"'{targetName}' is not a valid prompt name: {PromptNames.NameRule}", nameof(targetName));
        }

        var source = await GetAsync(version)
            ?? throw new ArgumentException(version is null ? $"prompt '{Name}' does not exist" : $"prompt '{Name}' has no version {version}", nameof(version));
        if (string.Equals(targetName, Name, StringComparison.Ordinal))
        {
            // A fork into itself is a new version with lineage; calling our own grain would deadlock.
            return await PublishVersionAsync(source.Text, author, description, source.Reference);
        }

        return await GrainFactory.GetGrain<IPromptGrain>(targetName).PublishVersionAsync(source.Text, author, description, source.Reference);
    }

    private async Task RequireExistsAsync(string reference)
    {
        if (!PromptNames.TryParseReference(reference, out var name, out var number))
        {
            throw new ArgumentException($"forkedFrom '{reference}' must look like name@version", "forkedFrom");
        }

        var found = string.Equals(name, Name, StringComparison.Ordinal)
            ? await GetAsync(number)
            : await GrainFactory.GetGrain<IPromptGrain>(name).GetAsync(number);
        if (found is null)
        {
            throw new ArgumentException($"forkedFrom '{reference}' does not exist in the prompt registry", "forkedFrom");
        }
    }

    private Task RegisterAsync(PromptVersionInfo latest) =>
        GrainFactory.GetGrain<IPromptRegistryGrain>(0).RegisterAsync(new PromptSummary(
            latest.Name, latest.Version, latest.ContentHash, latest.Author, latest.CreatedAt, latest.Description, Versions[0].ForkedFrom));
}

/// <summary>Stored summaries of every prompt.</summary>
[GenerateSerializer, Alias("microapps.PromptRegistryState")]
public sealed class PromptRegistryState
{
    [Id(0)]
    public Dictionary<string, PromptSummary> Prompts { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The registry listing (key 0): the latest version of every prompt, for <c>GET /admin/prompts</c>.</summary>
public sealed class PromptRegistryGrain(
    [PersistentState("prompt-registry", "store")] IPersistentState<PromptRegistryState> state) : Grain, IPromptRegistryGrain
{
    public Task RegisterAsync(PromptSummary summary)
    {
        // A late registration of an older version never replaces a newer one.
        if (state.State.Prompts.TryGetValue(summary.Name, out var known) && known.LatestVersion >= summary.LatestVersion)
        {
            return Task.CompletedTask;
        }

        state.State.Prompts[summary.Name] = summary;
        return state.WriteStateAsync();
    }

    public Task<IReadOnlyList<PromptSummary>> ListAsync() =>
        Task.FromResult<IReadOnlyList<PromptSummary>>(state.State.Prompts.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList());
}
