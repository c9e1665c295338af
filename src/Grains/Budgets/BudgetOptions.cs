namespace MicroApps.Orleans.Budgets;

/// <summary>Settings shared by every budget grain (configuration section <c>Budgets</c>).</summary>
public sealed class BudgetOptions
{
    public const string Section = "Budgets";

    /// <summary>How long a reservation that is never settled holds its amount before it is released.</summary>
    public TimeSpan ReservationTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many settled or released request ids a budget remembers to answer retries precisely.</summary>
    public int ClosedRequestIdsRetained { get; set; } = 1024;
}
