namespace MicroApps.Orleans.GrainTests;

/// <summary>
/// Waits for the effect of a one-way call: one-way messages are not ordered with the caller's later
/// calls, so a test polls the condition (yielding, no fixed sleep) until it holds or a deadline passes.
/// </summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Yield();
        }
    }
}
