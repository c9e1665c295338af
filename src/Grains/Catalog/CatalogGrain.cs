using Orleans.Runtime;

namespace MicroApps.Orleans.Catalog;

/// <summary>Published prompt and chain versions; built-in templates and connectors are not stored, they come with the code.</summary>
[GenerateSerializer, Alias("microapps.CatalogState")]
public sealed class CatalogState
{
    [Id(0)] public List<CatalogEntry> Published { get; set; } = [];
}

/// <summary>The catalog (key "default"): built-ins from <see cref="BuiltInCatalog"/> plus published prompts and chains.</summary>
public sealed class CatalogGrain(
    [PersistentState("catalog", "store")] IPersistentState<CatalogState> state) : Grain, ICatalogGrain
{
    private IEnumerable<CatalogEntry> Entries => BuiltInCatalog.All.Concat(state.State.Published);

    public Task<IReadOnlyList<CatalogEntry>> SearchAsync(CatalogQuery query)
    {
        var matches = Entries
            .Where(e => query.Kind is null || e.Kind == query.Kind)
            .Where(e => string.IsNullOrWhiteSpace(query.Tag) || e.Tags.Contains(query.Tag.Trim(), StringComparer.OrdinalIgnoreCase))
            .Where(e => string.IsNullOrWhiteSpace(query.Text) || Matches(e, query.Text.Trim()));
        if (!query.AllVersions)
        {
            matches = matches.GroupBy(e => (e.Kind, e.Name)).Select(g => g.MaxBy(e => e.Ref.SemVer)!);
        }

        // A list, not a collection expression: the answer crosses a grain call, and Orleans cannot serialize compiler-generated collections.
        IReadOnlyList<CatalogEntry> result = matches.OrderBy(e => e.Kind).ThenBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Ref.SemVer).ToList();
        return Task.FromResult(result);
    }

    public Task<CatalogEntry?> GetAsync(CatalogKind kind, CatalogRef reference) =>
        Task.FromResult(Find(kind, reference));

    public Task<CatalogEntry?> ResolveAsync(CatalogKind kind, CatalogRef reference) =>
        Task.FromResult(Resolve(kind, reference));

    public async Task<CatalogEntry> PublishAsync(CatalogEntry entry)
    {
        if (entry.Kind is not (CatalogKind.Prompt or CatalogKind.Chain))
        {
            throw new ArgumentException($"only prompts and chains are published; {entry.Kind.ToString().ToLowerInvariant()}s come with the platform");
        }

        if (!CatalogRef.TryParse(entry.Ref.ToString(), out _))
        {
            throw new ArgumentException($"'{entry.Ref}' is not a catalog reference ({CatalogRef.Format})");
        }

        if (CatalogComponents.Validate(entry) is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems.Select(p => $"{p.Field}: {p.Message}")), problems[0].Field);
        }

        // The parameters are the placeholders: derived here so a caller can never publish ones that disagree with the text.
        entry = entry with { Parameters = CatalogComponents.ParametersOf(entry.Text, entry.Steps) };

        if (Find(entry.Kind, entry.Ref) is { } existing)
        {
            if (SameBody(existing, entry))
            {
                return existing;
            }

            throw new InvalidOperationException($"{entry.Ref} is already published with a different body; publish a new version");
        }

        if (Entries.Any(e => e.Name == entry.Name && e.Kind != entry.Kind))
        {
            throw new InvalidOperationException($"'{entry.Name}' is already a {Entries.First(e => e.Name == entry.Name).Kind.ToString().ToLowerInvariant()}");
        }

        state.State.Published.Add(entry);
        await state.WriteStateAsync();
        return entry;
    }

    public Task<IReadOnlyList<UpgradeProposal>> UpgradesAsync(IReadOnlyList<CatalogUse> references) =>
        Task.FromResult(CatalogResolution.Upgrades(Entries.ToList(), references));

    private CatalogEntry? Find(CatalogKind kind, CatalogRef reference) => CatalogResolution.Find(Entries, kind, reference);

    private CatalogEntry? Resolve(CatalogKind kind, CatalogRef reference) => CatalogResolution.Resolve(Entries.ToList(), kind, reference);

    private static bool Matches(CatalogEntry e, string text) =>
        e.Name.Contains(text, StringComparison.OrdinalIgnoreCase)
        || e.Description.Contains(text, StringComparison.OrdinalIgnoreCase)
        || e.Tags.Any(t => t.Equals(text, StringComparison.OrdinalIgnoreCase));

    private static bool SameBody(CatalogEntry a, CatalogEntry b) =>
        a.Owner == b.Owner && a.Description == b.Description && a.Text == b.Text && a.SafeUpgrade == b.SafeUpgrade
        && a.Tags.SequenceEqual(b.Tags) && a.Steps.SequenceEqual(b.Steps) && a.Parameters.SequenceEqual(b.Parameters);
}
