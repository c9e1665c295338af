using Microsoft.Extensions.DependencyInjection;
using MicroApps.Orleans.Persistence;

namespace MicroApps.Orleans.Apps;

/// <summary>
/// A micro app: manifest, lifecycle, keys and quota windows. Admission is pure in-memory work
/// (no await), so the grain stays non-reentrant and every admission decision is exact.
/// </summary>
/// <remarks>
/// Manifest, lifecycle and key changes are durable before the reply. The token-per-day counter is
/// saved behind admissions on a timer and at deactivation: a crash can forget up to one flush
/// interval of counted tokens, which errs towards admitting, never towards losing spend (spend is
/// the budget grain's, and that is durable per call). The requests-per-minute window is memory only.
/// </remarks>
public sealed class MicroAppGrain(
    [PersistentState("app", "store")] IPersistentState<MicroAppState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, IMicroAppGrain
{
    private static readonly TimeSpan CounterFlushInterval = TimeSpan.FromSeconds(5);

    private GroupCommit? _commit;
    private QuotaWindows _quotas = new();

    private GroupCommit Commit => _commit ??= new GroupCommit(() => state.WriteStateAsync());

    private MicroAppState S => state.State;

    private string AppId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _quotas = new QuotaWindows(S.TokensDay, S.TokensToday);
        this.RegisterGrainTimer(FlushCountersAsync, new GrainTimerCreationOptions(CounterFlushInterval, CounterFlushInterval) { Interleave = true });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await FlushCountersAsync(cancellationToken);
    }

    public async Task<AppInfo> CreateAsync(AppManifest manifest)
    {
        ThrowIfInvalid(manifest);
        if (S.Exists)
        {
            if (!SameManifest(S.Manifest!, manifest))
            {
                throw new InvalidOperationException($"app '{AppId}' already exists with a different manifest");
            }

            // A retried create may have failed between saving and registering.
            await GrainFactory.GetGrain<IAppRegistryGrain>(0).RegisterAsync(AppId);
            return Info();
        }

        S.Exists = true;
        S.Manifest = manifest;
        S.Lifecycle = AppLifecycle.Active;
        S.CreatedAt = time.GetUtcNow();
        await SaveAsync();
        await GrainFactory.GetGrain<IAppRegistryGrain>(0).RegisterAsync(AppId);
        return Info();
    }

    public async Task<AppInfo> UpdateManifestAsync(AppManifest manifest)
    {
        RequireExists();
        ThrowIfInvalid(manifest);
        S.Manifest = manifest;
        await SaveAsync();
        return Info();
    }

    public Task<AppInfo?> GetAsync() => Task.FromResult(S.Exists ? Info() : null);

    public async Task<IssuedKey> IssueKeyAsync(string label)
    {
        RequireExists();
        var keyId = KeyHasher.NewKeyId();
        var secret = KeyHasher.NewSecret();
        var salt = KeyHasher.NewSalt();
        var now = time.GetUtcNow();
        S.Keys.Add(new StoredKey(keyId, string.IsNullOrWhiteSpace(label) ? keyId : label.Trim(), salt, KeyHasher.Hash(salt, secret), now, null));
        await SaveAsync();
        return new IssuedKey(keyId, ApiKeys.Format(AppId, keyId, secret), now);
    }

    public async Task<bool> RevokeKeyAsync(string keyId)
    {
        RequireExists();
        var index = S.Keys.FindIndex(k => k.KeyId == keyId);
        if (index < 0 || S.Keys[index].RevokedAt is not null)
        {
            return false;
        }

        S.Keys[index] = S.Keys[index] with { RevokedAt = time.GetUtcNow() };
        await SaveAsync();
        return true;
    }

    public async Task<AppInfo> SetQuotasAsync(AppQuotas quotas)
    {
        RequireExists();
        var manifest = S.Manifest! with { Quotas = quotas };
        ThrowIfInvalid(manifest);
        S.Manifest = manifest;
        await SaveAsync();
        return Info();
    }

    public async Task<AppInfo> SetLifecycleAsync(AppLifecycle lifecycle)
    {
        RequireExists();
        if (!Enum.IsDefined(lifecycle))
        {
            throw new ArgumentOutOfRangeException(nameof(lifecycle), lifecycle, "unknown lifecycle state");
        }

        S.Lifecycle = lifecycle;
        await SaveAsync();
        return Info();
    }

    public Task<QuotaUsage> GetQuotaUsageAsync()
    {
        RequireExists();
        var now = time.GetUtcNow();
        return Task.FromResult(new QuotaUsage(_quotas.RequestsThisMinute(now), _quotas.TokensOn(now), S.Manifest!.Quotas));
    }

    public Task<Admission> AdmitAsync(AdmissionRequest request)
    {
        var refusal = CheckKey(request.KeyId, request.KeySecret);
        if (refusal is not null)
        {
            return Task.FromResult(refusal);
        }

        var quotaRefusal = _quotas.TryAdmit(time.GetUtcNow(), Math.Max(0, request.TokensEstimate), S.Manifest!.Quotas);
        if (quotaRefusal is { } r)
        {
            return Task.FromResult(new Admission(r.Outcome, r.Message, r.RetryAfter, null));
        }

        return Task.FromResult(new Admission(AdmissionOutcome.Admitted, "admitted", null, Profile()));
    }

    public Task<AppProfile?> AuthenticateAsync(string keyId, string keySecret) =>
        Task.FromResult(CheckKey(keyId, keySecret) is null ? Profile() : null);

    public Task RecordUsageAsync(long tokensEstimated, long tokensActual)
    {
        _quotas.Correct(time.GetUtcNow(), tokensEstimated, tokensActual);
        return Task.CompletedTask;
    }

    // Lifecycle methods: placeholders until the lifecycle work lands (it replaces every one of them).
    public Task<AppInfo> CreateDraftAsync(AppManifest manifest, string author) => throw Pending();
    public Task<AppVersionInfo> AddVersionAsync(AppManifest manifest, string author) => throw Pending();
    public Task<AppVersionInfo?> GetVersionAsync(int version) => throw Pending();
    public Task<AppVersionInfo> SubmitAsync(int version, string actor) => throw Pending();
    public Task<AppVersionInfo> RecordGatesAsync(int version, IReadOnlyList<GateResult> gates, bool needsApprover) => throw Pending();
    public Task<AppVersionInfo> DecideAsync(int version, string approver, bool approve, string comment) => throw Pending();
    public Task<AppInfo> StartCanaryAsync(int version, double share, string actor) => throw Pending();
    public Task<AppInfo> PromoteAsync(int version, string actor) => throw Pending();
    public Task<AppInfo> RollbackAsync(string actor, string reason) => throw Pending();
    public Task<AppInfo> SetFeatureFlagAsync(string name, bool enabled) => throw Pending();
    public Task<IReadOnlyDictionary<string, bool>?> GetFlagsAsync(string keyId, string keySecret) => throw Pending();
    public Task<IssuedKey> IssueScopedKeyAsync(KeyKind kind, string holder, string label, int? pinnedVersion) => throw Pending();
    private static NotSupportedException Pending() => new("app versions are not built yet");

    private Admission? CheckKey(string keyId, string keySecret)
    {
        if (!S.Exists)
        {
            return new Admission(AdmissionOutcome.UnknownApp, "no such app", null, null);
        }

        var key = S.Keys.Find(k => k.KeyId == keyId);
        if (key is null || !KeyHasher.Matches(key.Salt, key.Hash, keySecret ?? ""))
        {
            return new Admission(AdmissionOutcome.InvalidKey, "invalid API key", null, null);
        }

        if (key.RevokedAt is not null)
        {
            return new Admission(AdmissionOutcome.RevokedKey, $"API key {key.KeyId} was revoked", null, null);
        }

        if (S.Lifecycle != AppLifecycle.Active)
        {
            return new Admission(AdmissionOutcome.Suspended, $"app '{AppId}' is {S.Lifecycle.ToString().ToLowerInvariant()}", null, null);
        }

        return null;
    }

    private async Task FlushCountersAsync(CancellationToken cancellationToken)
    {
        if (!S.Exists || (S.TokensDay == _quotas.TokensDay && S.TokensToday == _quotas.TokensToday))
        {
            return;
        }

        await SaveAsync();
    }

    private Task SaveAsync()
    {
        S.TokensDay = _quotas.TokensDay;
        S.TokensToday = _quotas.TokensToday;
        Commit.MarkChanged();
        return Commit.PersistAsync();
    }

    private AppProfile Profile()
    {
        var m = S.Manifest!;
        return new AppProfile(AppId, m.Team, m.Audience, m.DataClasses, m.AllowedTiers, m.DefaultTier, AppManifestRules.EffectiveBudgetId(AppId, m), m.PromptVersion);
    }

    private AppInfo Info() => new(
        AppId,
        S.Manifest!,
        S.Lifecycle,
        S.Keys.Select(k => new KeySummary(k.KeyId, k.Label, k.CreatedAt, k.RevokedAt)).ToList(),
        S.CreatedAt,
        AppManifestRules.EffectiveBudgetId(AppId, S.Manifest!));

    private void RequireExists()
    {
        if (!S.Exists)
        {
            throw new KeyNotFoundException($"app '{AppId}' does not exist");
        }
    }

    private void ThrowIfInvalid(AppManifest manifest)
    {
        var errors = AppManifestRules.Validate(AppId, manifest);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")), nameof(manifest));
        }
    }

    private static bool SameManifest(AppManifest a, AppManifest b) =>
        a with { DataClasses = [], AllowedTiers = [] } == b with { DataClasses = [], AllowedTiers = [] }
        && a.DataClasses.SequenceEqual(b.DataClasses)
        && a.AllowedTiers.SequenceEqual(b.AllowedTiers);
}
