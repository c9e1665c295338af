namespace MicroApps.Orleans.Security;

/// <summary>Stored key elements of one data-protection key ring, by name.</summary>
[GenerateSerializer, Alias("microapps.DataProtectionKeysState")]
public sealed class DataProtectionKeysState
{
    [Id(0)]
    public List<KeyValuePair<string, string>> Elements { get; set; } = [];
}

/// <inheritdoc cref="IDataProtectionKeysGrain"/>
public sealed class DataProtectionKeysGrain(
    [PersistentState("dataprotection", "store")] IPersistentState<DataProtectionKeysState> state) : Grain, IDataProtectionKeysGrain
{
    public Task<IReadOnlyList<string>> GetAllAsync() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Elements.Select(e => e.Value).ToList());

    public async Task StoreAsync(string name, string xml)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(xml);
        if (state.State.Elements.Any(e => e.Key == name))
        {
            return;
        }

        state.State.Elements.Add(new(name, xml));
        await state.WriteStateAsync();
    }
}
