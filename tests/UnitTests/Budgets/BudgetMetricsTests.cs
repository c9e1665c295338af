using System.Diagnostics.Metrics;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.UnitTests.Budgets;

public sealed class BudgetMetricsTests
{
    [Fact]
    public void The_gauge_reports_each_budget_under_the_cap_and_the_highest_of_the_rest_as_other()
    {
        using var metrics = new BudgetMetrics(null, seriesCap: 2);
        metrics.Report("app:a", 0.25);
        metrics.Report("app:b", 0.5);
        var first = metrics.Observe().ToDictionary(m => (string)m.Tags[0].Value!, m => m.Value);
        metrics.Report("app:c", 0.9);
        metrics.Report("app:d", 0.1);

        var observed = metrics.Observe().ToDictionary(m => (string)m.Tags[0].Value!, m => m.Value);

        Assert.Equal(2, first.Count);
        Assert.Equal(3, observed.Count);
        Assert.Equal(0.25, observed["app:a"]);
        Assert.Equal(0.5, observed["app:b"]);
        Assert.Equal(0.9, observed[SeriesCap.Other]);
    }

    [Fact]
    public void Five_thousand_budgets_make_at_most_cap_plus_one_series()
    {
        using var metrics = new BudgetMetrics(null, seriesCap: 100);
        for (var i = 0; i < 5_000; i++)
        {
            metrics.Report($"app:{i}", i / 5_000d);
        }

        Assert.Equal(101, metrics.Observe().Count);
    }

    [Fact]
    public void A_budget_that_left_the_silo_is_no_longer_reported()
    {
        using var metrics = new BudgetMetrics(null, seriesCap: 10);
        metrics.Report("app:a", 0.3);

        metrics.Remove("app:a");

        Assert.Empty(metrics.Observe());
    }

    [Fact]
    public void The_gauge_is_published_on_the_platform_meter()
    {
        using var metrics = new BudgetMetrics(null, seriesCap: 10);
        metrics.Report("team:finance", 0.75);
        var seen = new List<(string Budget, double Value)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "MicroApps.Orleans" && instrument.Name == BudgetMetrics.GaugeName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => seen.Add(((string)tags[0].Value!, value)));
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Contains(("team:finance", 0.75), seen);
    }
}
