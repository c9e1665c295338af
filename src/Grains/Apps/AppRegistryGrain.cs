namespace MicroApps.Orleans.Apps;

/// <summary>The list of app ids (key 0), for the admin API. Written only when an app is created.</summary>
public sealed class AppRegistryGrain(
    [PersistentState("registry", "store")] IPersistentState<AppRegistryState> state) : Grain, IAppRegistryGrain
{
    public async Task RegisterAsync(string appId)
    {
        if (!state.State.AppIds.Contains(appId))
        {
            state.State.AppIds.Add(appId);
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.AppIds.Order(StringComparer.Ordinal)]);
}
