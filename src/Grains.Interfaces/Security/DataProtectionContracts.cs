namespace MicroApps.Orleans.Security;

/// <summary>
/// The ASP.NET Core data-protection key ring of the front doors (key: the ring's name, e.g. <c>console</c>), kept as
/// grain state so every front door of a cluster reads and writes the same keys: a console sign-in cookie issued by
/// one front door is accepted by the others and survives restarts.
/// </summary>
public interface IDataProtectionKeysGrain : IGrainWithStringKey
{
    /// <summary>Every stored key element, as XML text, in the order stored.</summary>
    [ReadOnly]
    Task<IReadOnlyList<string>> GetAllAsync();

    /// <summary>Stores one key element; durable before it returns. Idempotent by <paramref name="name"/>.</summary>
    Task StoreAsync(string name, string xml);
}
