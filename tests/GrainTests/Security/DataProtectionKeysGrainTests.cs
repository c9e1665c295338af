using System.Xml.Linq;
using MicroApps.Orleans.Security;

namespace MicroApps.Orleans.GrainTests.Security;

[Collection(ClusterCollection.Name)]
public sealed class DataProtectionKeysGrainTests(ClusterFixture fixture)
{
    private IDataProtectionKeysGrain Ring() => fixture.Cluster.GrainFactory.GetGrain<IDataProtectionKeysGrain>("ring-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Stored_keys_are_read_back_in_the_order_stored()
    {
        var ring = Ring();
        await ring.StoreAsync("key-a", "<key id=\"a\" />");
        await ring.StoreAsync("key-b", "<key id=\"b\" />");

        var all = await ring.GetAllAsync();

        Assert.Equal(["a", "b"], all.Select(xml => (string)XElement.Parse(xml).Attribute("id")!));
    }

    [Fact]
    public async Task Storing_a_key_again_by_the_same_name_keeps_one_copy()
    {
        var ring = Ring();
        await ring.StoreAsync("key-a", "<key id=\"a\" />");
        await ring.StoreAsync("key-a", "<key id=\"a\" />");

        Assert.Single(await ring.GetAllAsync());
    }

    [Fact]
    public async Task A_new_ring_is_empty()
    {
        Assert.Empty(await Ring().GetAllAsync());
    }
}
