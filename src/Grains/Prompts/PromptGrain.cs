using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.Prompts;

/// <summary>Stored versions of one prompt.</summary>
[GenerateSerializer, Alias("microapps.PromptState")]
public sealed class PromptState
{
    [Id(0)]
    public List<PromptVersionInfo> Versions { get; set; } = [];

    /// <summary>
    /// The principal who published the first version. Null before the first publication, and in state stored before
    /// owners were recorded: activation then takes the first version's author.
    /// </summary>
    [Id(1)]
    public string? Owner { get; set; }
}

/// <summary>
/// A canonical prompt and its immutable versions. Each publish is durable before the reply; the registry
/// listing is updated after, and a retried publish (same text) brings it up to date again. The owner is decided
/// here rather than by the caller: publications are not interleaved, so of two first publications one owns the
/// prompt and the other is checked against that owner.
/// </summary>
public sealed class PromptGrain(
    [PersistentState("prompt", "store")] IPersistentState<PromptState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, IPromptGrain
{
    private string Name => this.GetPrimaryKeyString();

    private List<PromptVersionInfo> Versions => state.State.Versions;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Stored before owners were recorded: the first version's author owns the prompt. Written with the next version.
        if (state.State.Owner is null && Versions.Count > 0)
        {
            state.State.Owner = Versions[0].Author;
        }

        return Task.CompletedTask;
    }

    public async Task<PromptVersionInfo> PublishVersionAsync(string text, string author, string description, string? forkedFrom) =>
        (await PublishAsync(new PromptPublication(text, author, description, forkedFrom, MayPublishToAnyPrompt: true))).Version;

    public async Task<PromptPublishResult> PublishAsync(PromptPublication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        var (text, author, forkedFrom) = (publication.Text, publication.Author, publication.ForkedFrom);
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

        author = author.Trim();
        var latest = Versions.Count > 0 ? Versions[^1] : null;
        if (latest is not null && state.State.Owner is { } owner && !publication.MayPublishToAnyPrompt
            && !string.Equals(owner, author, StringComparison.Ordinal))
        {
            // Refused before the same-text shortcut too: a non-owner learns nothing new from a 403, and gets no 200.
            return new PromptPublishResult(PromptPublishOutcome.NotOwner, latest, owner);
        }

        if (latest is not null && string.Equals(latest.Text, text, StringComparison.Ordinal))
        {
            await RegisterAsync(latest);
            return new PromptPublishResult(PromptPublishOutcome.Unchanged, latest, state.State.Owner ?? latest.Author);
        }

        if (forkedFrom is not null)
        {
            await RequireExistsAsync(forkedFrom);
        }

        var version = new PromptVersionInfo(
            Name, Versions.Count + 1, text, PromptNames.Hash(text), forkedFrom, author, time.GetUtcNow(), publication.Description?.Trim() ?? "");
        var first = state.State.Owner is null;
        Versions.Add(version);
        state.State.Owner ??= author;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // GetAsync interleaves, so a version that is not durable must not stay visible.
            Versions.RemoveAt(Versions.Count - 1);
            if (first)
            {
                state.State.Owner = null;
            }

            throw;
        }

        await RegisterAsync(version);
        return new PromptPublishResult(PromptPublishOutcome.Published, version, state.State.Owner);
    }

    public Task<PromptInfo?> GetInfoAsync() =>
        Task.FromResult(Versions.Count == 0 ? null : new PromptInfo(Name, state.State.Owner ?? Versions[0].Author, Versions.ToList()));

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
            latest.Name, latest.Version, latest.ContentHash, latest.Author, latest.CreatedAt, latest.Description, Versions[0].ForkedFrom,
            state.State.Owner ?? Versions[0].Author));
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
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var unowned = state.State.Prompts.Values.Where(p => p.Owner is null).ToList();
        if (unowned.Count == 0)
        {
            return;
        }

        // Summaries stored before owners were recorded: the owner is the author of the prompt's first version.
        // GetAsync interleaves, so a prompt that is itself waiting to register a new version here still answers.
        var firsts = await Task.WhenAll(unowned.Select(p => GrainFactory.GetGrain<IPromptGrain>(p.Name).GetAsync(1)));
        foreach (var (summary, first) in unowned.Zip(firsts))
        {
            if (first is not null)
            {
                state.State.Prompts[summary.Name] = summary with { Owner = first.Author };
            }
        }

        await state.WriteStateAsync();
    }

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
