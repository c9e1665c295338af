using System.Net.Sockets;
using System.Text.Json;
using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.GrainTests.Alerts;

[Collection(ClusterCollection.Name)]
public sealed class AlertDeliveryTests(ClusterFixture fixture)
{
    private async Task<IBudgetGrain> BudgetNotifyingAsync(AlertTargets targets)
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"delivery:{Guid.NewGuid():N}");
        await budget.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day) { Notify = targets, Thresholds = [0.6m] });
        return budget;
    }

    private static async Task CrossSixtyPercentAsync(IBudgetGrain budget)
    {
        Assert.True((await budget.ReserveAsync("spend", 7m)).IsGranted);
        Assert.Equal(SettleOutcome.Settled, (await budget.SettleAsync("spend", 7m)).Outcome);
    }

    private static async Task<ChannelDelivery> DeliveryAsync(IBudgetGrain budget, AlertChannel channel) =>
        (await budget.GetAlertsAsync()).Single().Deliveries.Single(d => d.Channel == channel);

    /// <summary>
    /// Moves the fake clock forward one step at a time until <paramref name="condition"/> holds: the outbox's backoff
    /// waits on that clock, so nothing here waits in real time.
    /// </summary>
    private static async Task AdvanceUntilAsync(Func<Task<bool>> condition, TimeSpan step, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            ClusterFixture.Time.Advance(step);
            await Task.Yield();
        }
    }

    [Fact]
    public async Task A_webhook_that_fails_at_first_is_retried_with_exponential_backoff_and_delivered_once_it_answers()
    {
        await using var hook = await LoopbackWebhook.StartAsync(failFirst: 2);
        var budget = await BudgetNotifyingAsync(new AlertTargets(hook.Url, []));

        await CrossSixtyPercentAsync(budget);
        await Eventually.TrueAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).Backoffs.Count == 1, "the first attempt and its backoff");
        Assert.Single(hook.Received);
        await AdvanceUntilAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).State == DeliveryState.Delivered, TimeSpan.FromSeconds(1), "delivery");

        var delivery = await DeliveryAsync(budget, AlertChannel.Webhook);
        Assert.Equal(3, delivery.Attempts);
        Assert.Equal([AlertTestSetup.BaseDelay, AlertTestSetup.BaseDelay * 2], delivery.Backoffs.ToArray());
        Assert.NotNull(delivery.DeliveredAt);
        Assert.Null(delivery.LastError);
        Assert.Equal(3, hook.Received.Count);

        // Every attempt names the same alert, so the receiver can dedupe; the body says what was crossed.
        var alert = (await budget.GetAlertsAsync()).Single();
        Assert.Equal(AlertState.Delivered, alert.State);
        Assert.All(hook.Received, r => Assert.Equal(alert.Alert.AlertId, r.AlertId));
        using var body = JsonDocument.Parse(hook.Received.Last().Body);
        Assert.Equal(alert.Alert.AlertId, body.RootElement.GetProperty("alertId").GetString());
        Assert.Equal(budget.GetPrimaryKeyString(), body.RootElement.GetProperty("budgetId").GetString());
        Assert.Equal(0.6m, body.RootElement.GetProperty("threshold").GetDecimal());
        Assert.Equal(7m, body.RootElement.GetProperty("spentUsd").GetDecimal());
        Assert.Equal(10m, body.RootElement.GetProperty("limitUsd").GetDecimal());
        Assert.Equal("day", body.RootElement.GetProperty("period").GetString());
    }

    [Fact]
    public async Task The_second_attempt_waits_for_the_backoff()
    {
        await using var hook = await LoopbackWebhook.StartAsync(failFirst: 1);
        var budget = await BudgetNotifyingAsync(new AlertTargets(hook.Url, []));
        await CrossSixtyPercentAsync(budget);
        await Eventually.TrueAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).Backoffs.Count == 1, "the first attempt and its backoff");
        var first = await DeliveryAsync(budget, AlertChannel.Webhook);

        await AdvanceUntilAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).State == DeliveryState.Delivered, TimeSpan.FromSeconds(1), "delivery");

        var delivered = await DeliveryAsync(budget, AlertChannel.Webhook);
        Assert.True(delivered.LastAttemptAt - first.LastAttemptAt >= AlertTestSetup.BaseDelay,
            $"the retry came {delivered.LastAttemptAt - first.LastAttemptAt} after the first attempt, before the {AlertTestSetup.BaseDelay} backoff");
    }

    [Fact]
    public async Task A_webhook_that_never_answers_2xx_is_given_up_after_MaxAttempts()
    {
        await using var hook = await LoopbackWebhook.StartAsync(failFirst: int.MaxValue);
        var budget = await BudgetNotifyingAsync(new AlertTargets(hook.Url, []));

        await CrossSixtyPercentAsync(budget);
        await AdvanceUntilAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).State == DeliveryState.Failed, TimeSpan.FromSeconds(5), "the delivery to be given up");

        var delivery = await DeliveryAsync(budget, AlertChannel.Webhook);
        Assert.Equal(AlertTestSetup.MaxAttempts, delivery.Attempts);
        Assert.Equal(AlertTestSetup.MaxAttempts, hook.Received.Count);
        Assert.Contains("503", delivery.LastError);
        Assert.Equal(AlertState.Failed, (await budget.GetAlertsAsync()).Single().State);
    }

    [Fact]
    public async Task A_webhook_that_refuses_the_request_is_not_retried()
    {
        await using var hook = await LoopbackWebhook.StartAsync(failFirst: int.MaxValue, status: 404);
        var budget = await BudgetNotifyingAsync(new AlertTargets(hook.Url, []));

        await CrossSixtyPercentAsync(budget);
        await Eventually.TrueAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).State == DeliveryState.Failed, "the delivery to fail");

        var delivery = await DeliveryAsync(budget, AlertChannel.Webhook);
        Assert.Equal(1, delivery.Attempts);
        Assert.Contains("404", delivery.LastError);
        Assert.Single(hook.Received);
    }

    [Fact]
    public async Task An_alert_is_emailed_over_smtp()
    {
        var smtp = FakeSmtp.Instance;
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", AlertTestSetup.SmtpPort);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, "the fake SMTP server to listen");
        var budget = await BudgetNotifyingAsync(new AlertTargets(null, ["finance@example.com", "ops@example.com"]));

        await CrossSixtyPercentAsync(budget);
        await AdvanceUntilAsync(async () => (await DeliveryAsync(budget, AlertChannel.Email)).State != DeliveryState.Pending, TimeSpan.FromSeconds(1), "the e-mail");

        var delivery = await DeliveryAsync(budget, AlertChannel.Email);
        Assert.Equal(DeliveryState.Delivered, delivery.State);
        var alertId = (await budget.GetAlertsAsync()).Single().Alert.AlertId;
        var message = Assert.Single(smtp.Messages, m => m.Headers["X-MicroApps-Alert-Id"] == alertId);
        Assert.Equal(["finance@example.com", "ops@example.com"], message.To.Mailboxes.Select(m => m.Address).ToArray());
        Assert.Equal("alerts@microapps.test", message.From.Mailboxes.Single().Address);
        Assert.Contains(budget.GetPrimaryKeyString(), message.Subject);
        Assert.Contains("60%", message.Subject);
        Assert.Contains("$7", message.TextBody);
    }

    [Fact]
    public async Task Pending_deliveries_resume_after_the_outbox_is_deactivated()
    {
        await using var hook = await LoopbackWebhook.StartAsync(failFirst: 1);
        var budget = await BudgetNotifyingAsync(new AlertTargets(hook.Url, []));
        await CrossSixtyPercentAsync(budget);
        await Eventually.TrueAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).Backoffs.Count == 1, "the first attempt and its backoff");

        var outbox = fixture.Grains.GetGrain<IAlertOutboxGrain>(budget.GetPrimaryKeyString());
        await outbox.Cast<global::Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();

        // The stored outbox (attempt count, next attempt time) is all a new activation has to go on.
        await AdvanceUntilAsync(async () => (await DeliveryAsync(budget, AlertChannel.Webhook)).State == DeliveryState.Delivered, TimeSpan.FromSeconds(1), "delivery after reactivation");
        Assert.Equal(2, (await DeliveryAsync(budget, AlertChannel.Webhook)).Attempts);
        Assert.Equal(2, hook.Received.Count);
    }
}
