namespace MicroApps.Orleans;

/// <summary>
/// The clock the platform's own decisions use (quota windows, budget periods, reservation expiry,
/// cache TTLs, circuit breakers): a keyed <see cref="TimeProvider"/>, so tests can move it without
/// moving the clock Orleans itself runs membership and timeouts on.
/// </summary>
public static class PlatformClock
{
    public const string Key = "microapps:clock";
}
