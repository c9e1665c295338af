using System.Xml.Linq;
using MicroApps.Orleans.Security;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace MicroApps.Orleans.Client.AdminConsole;

/// <summary>
/// Keeps the data-protection key ring in <see cref="IDataProtectionKeysGrain"/>, so every front door of the cluster
/// protects and reads console cookies with the same keys.
/// </summary>
/// <remarks>
/// <see cref="IXmlRepository"/> is synchronous. The key ring is read once and then cached for hours by data
/// protection, and written only when a key is created, so blocking on these two grain calls is rare.
/// </remarks>
internal sealed class GrainXmlRepository(IGrainFactory grains) : IXmlRepository
{
    public const string RingName = "console";

    private IDataProtectionKeysGrain Ring => grains.GetGrain<IDataProtectionKeysGrain>(RingName);

    public IReadOnlyCollection<XElement> GetAllElements() =>
        Ring.GetAllAsync().GetAwaiter().GetResult().Select(XElement.Parse).ToList();

    public void StoreElement(XElement element, string friendlyName) =>
        Ring.StoreAsync(friendlyName, element.ToString(SaveOptions.DisableFormatting)).GetAwaiter().GetResult();
}
