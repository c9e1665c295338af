using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Persistence;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.Apps;

/// <summary>
/// A micro app: its numbered versions and their lifecycle, the release (published and canary), feature flags,
/// keys and quota windows. Admission is pure in-memory work (no await), so the grain stays non-reentrant and
/// every admission decision is exact; a promotion or rollback is seen by the very next admission.
/// </summary>
/// <remarks>
/// Manifest, lifecycle and key changes are durable before the reply. The token-per-day counter is
/// saved behind admissions on a timer and at deactivation: a crash can forget up to one flush
/// interval of counted tokens, which errs towards admitting, never towards losing spend (spend is
/// the budget grain's, and that is durable per call). The requests-per-minute window and the test-key windows
/// are memory only. Every version transition is durable, and in the version's history, before the reply.
/// The adaptive premium share (apps with <c>Savings.Sampling</c>) is recomputed during an admission at most every
/// <c>Savings:Sampling:AdjustEvery</c> from the app budget's burn rate, and saved behind like the token counter: a
/// lost adjustment only costs one more budget read.
/// </remarks>
public sealed class MicroAppGrain(
    [PersistentState("app", "store")] IPersistentState<MicroAppState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<LifecycleOptions> lifecycleOptions,
    IOptions<SamplingOptions> samplingOptions) : Grain, IMicroAppGrain
{
    private static readonly TimeSpan CounterFlushInterval = TimeSpan.FromSeconds(5);
    private const int MaxFlags = 100;

    private GroupCommit? _commit;

    // Set when a write failed: memory holds a change storage does not, so nothing may be saved from it any more.
    private bool _unsaved;
    private QuotaWindows _quotas = new();

    // The premium share changed since it was last saved.
    private bool _shareUnsaved;

    // Test keys are counted apart so that an author's testing never eats the production quota (and the reverse).
    private readonly QuotaWindows _testQuotas = new();

    private GroupCommit Commit => _commit ??= new GroupCommit(() => state.WriteStateAsync());

    private MicroAppState S => state.State;

    private LifecycleOptions Options => lifecycleOptions.Value;

    private string AppId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _quotas = new QuotaWindows(S.TokensDay, S.TokensToday);
        if (S.Exists && S.Versions.Count == 0 && S.Manifest is not null)
        {
            // Apps stored before versions existed were live: they become version 1, published.
            var v1 = NewVersion(1, S.Manifest, S.Manifest.Owner, VersionState.Published, S.CreatedAt);
            S.Versions.Add(v1);
            S.PublishedVersion = 1;
        }

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
            return await RegisteredInfoAsync();
        }

        // The admin bootstrap: version 1 is published at once, without gates.
        return await CreateFirstVersionAsync(manifest, manifest.Owner, VersionState.Published);
    }

    public async Task<AppInfo> UpdateManifestAsync(AppManifest manifest)
    {
        RequireExists();
        ThrowIfInvalid(manifest);
        CurrentVersion().Manifest = manifest;
        SyncManifest();
        await SaveAsync();
        return Info();
    }

    public Task<AppInfo?> GetAsync() => Task.FromResult(S.Exists ? Info() : null);

    public Task<IssuedKey> IssueKeyAsync(string label) => IssueAsync(KeyKind.Production, "", label, null);

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
        ThrowIfInvalid(S.Manifest! with { Quotas = quotas });

        // An admin's quotas are the app's: every version, released or not, takes them.
        foreach (var version in S.Versions)
        {
            version.Manifest = version.Manifest with { Quotas = quotas };
        }

        SyncManifest();
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

        if (S.Lifecycle == AppLifecycle.Retired && lifecycle != AppLifecycle.Retired)
        {
            throw new InvalidOperationException($"app '{AppId}' is retired; a retired app cannot become {lifecycle.ToString().ToLowerInvariant()} again");
        }

        // A repeated retire still revokes keys an app retired before retiring revoked them kept.
        if (S.Lifecycle == lifecycle && !(lifecycle == AppLifecycle.Retired && S.Keys.Any(k => k.RevokedAt is null)))
        {
            return Info();
        }

        S.Lifecycle = lifecycle;
        if (lifecycle == AppLifecycle.Retired)
        {
            // Retiring frees the keys for good, in the same write: a key that outlives its app is a credential nobody owns.
            var now = time.GetUtcNow();
            for (var i = 0; i < S.Keys.Count; i++)
            {
                if (S.Keys[i].RevokedAt is null)
                {
                    S.Keys[i] = S.Keys[i] with { RevokedAt = now };
                }
            }
        }

        await SaveAsync();
        if (lifecycle == AppLifecycle.Retired)
        {
            // Nobody should be asked to approve a version of an app that will never serve again.
            var queue = GrainFactory.GetGrain<IApprovalQueueGrain>(0);
            foreach (var waiting in S.Versions.Where(v => v.NeedsApprover))
            {
                await queue.RemoveAsync(AppId, waiting.Number);
            }
        }

        return Info();
    }

    public Task<QuotaUsage> GetQuotaUsageAsync()
    {
        RequireExists();
        var now = time.GetUtcNow();
        return Task.FromResult(new QuotaUsage(_quotas.RequestsThisMinute(now), _quotas.TokensOn(now), S.Manifest!.Quotas));
    }

    public async Task<Admission> AdmitAsync(AdmissionRequest request)
    {
        var (key, refusal) = CheckKey(request.KeyId, request.KeySecret);
        if (refusal is not null)
        {
            return refusal;
        }

        var stickyKey = string.IsNullOrEmpty(request.StickyKey) ? Guid.NewGuid().ToString("N") : request.StickyKey;
        var (served, channel, notServed) = Resolve(key!, stickyKey);
        if (notServed is not null)
        {
            return notServed;
        }

        var (window, quotas) = key!.Kind switch
        {
            KeyKind.Production => (_quotas, EffectiveQuotas(served!.Manifest.Quotas, request.PolicyQuotas)),
            KeyKind.Test => (_testQuotas, Options.TestQuotas.ToQuotas()),
            _ => ((QuotaWindows?)null, (AppQuotas?)null),
        };

        if (window is not null && window.TryAdmit(time.GetUtcNow(), Math.Max(0, request.TokensEstimate), quotas!) is { } r)
        {
            var message = key.Kind == KeyKind.Test ? $"test key: {r.Message}" : r.Message;
            return new Admission(r.Outcome, message, r.RetryAfter, null);
        }

        if (served!.Manifest.Savings?.Sampling is { } bounds)
        {
            await AdjustPremiumShareAsync(served.Manifest, bounds);
        }

        return new Admission(AdmissionOutcome.Admitted, "admitted", null, Profile(served, channel));
    }

    public Task<PremiumShareStatus?> GetPremiumShareAsync()
    {
        if (!S.Exists)
        {
            return Task.FromResult<PremiumShareStatus?>(null);
        }

        var manifest = S.Manifest!;
        var budgetId = AppManifestRules.EffectiveBudgetId(AppId, manifest);
        var stored = S.PremiumShare;
        var status = manifest.Savings?.Sampling is { } bounds
            ? new PremiumShareStatus(AppId, true, PremiumShareController.Clamp(stored?.Share, bounds), bounds.MinShare, bounds.MaxShare,
                stored?.BurnRatio, stored?.SpentShare, stored?.ElapsedShare, stored?.AdjustedAt, budgetId)
            : new PremiumShareStatus(AppId, false, null, null, null, stored?.BurnRatio, stored?.SpentShare, stored?.ElapsedShare, stored?.AdjustedAt, budgetId);
        return Task.FromResult<PremiumShareStatus?>(status);
    }

    /// <summary>
    /// Recomputes the premium share when the last adjustment is older than <see cref="SamplingOptions.AdjustEvery"/>.
    /// The budget read is awaited inside the admission (once per interval per app), so the share the admission
    /// returns is already the adjusted one; a budget that cannot be read leaves the share as it is until the next interval.
    /// </summary>
    private async Task AdjustPremiumShareAsync(AppManifest manifest, PremiumSampling bounds)
    {
        var now = time.GetUtcNow();
        var options = samplingOptions.Value;
        if (S.PremiumShare is { } last && now - last.AdjustedAt < options.AdjustEvery)
        {
            return;
        }

        var current = S.PremiumShare?.Share;
        var state = S.PremiumShare ??= new StoredPremiumShare { Share = PremiumShareController.Initial(bounds) };
        state.AdjustedAt = now;
        _shareUnsaved = true;
        BudgetSnapshot budget;
        try
        {
            budget = await GrainFactory.GetGrain<IBudgetGrain>(AppManifestRules.EffectiveBudgetId(AppId, manifest)).GetAsync();
        }
        catch (Exception)
        {
            // Sampling is a saving, not a guard: an unreadable budget keeps the share until the next interval.
            return;
        }

        var decision = new PremiumShareController(options).Next(current, bounds, budget, now);
        state.Share = decision.Share;
        state.BurnRatio = decision.BurnRatio;
        state.SpentShare = decision.SpentShare;
        state.ElapsedShare = decision.ElapsedShare;
    }

    public Task<AppProfile?> AuthenticateAsync(string keyId, string keySecret)
    {
        var (key, refusal) = CheckKey(keyId, keySecret);
        if (refusal is not null)
        {
            return Task.FromResult<AppProfile?>(null);
        }

        // Listing models counts nothing and splits nobody: a production key is shown the published version.
        var (served, channel, notServed) = Resolve(key!, stickyKey: null);
        return Task.FromResult(notServed is null ? Profile(served!, channel) : null);
    }

    public Task<Runtime.ServedManifest?> ResolveManifestAsync(string keyId, string keySecret, string stickyKey)
    {
        var (key, refusal) = CheckKey(keyId, keySecret);
        if (refusal is not null)
        {
            return Task.FromResult<Runtime.ServedManifest?>(null);
        }

        var (served, channel, notServed) = Resolve(key!, stickyKey);
        return Task.FromResult(notServed is null ? new Runtime.ServedManifest(AppId, served!.Number, channel, served.Manifest) : null);
    }

    public Task RecordUsageAsync(long tokensEstimated, long tokensActual)
    {
        _quotas.Correct(time.GetUtcNow(), tokensEstimated, tokensActual);
        return Task.CompletedTask;
    }

    public async Task<AppInfo> CreateDraftAsync(AppManifest manifest, string author)
    {
        ThrowIfInvalid(manifest);
        RequireActor(author, nameof(author));
        if (S.Exists)
        {
            var first = S.Versions.Find(v => v.Number == 1);
            if (first is null || !SameManifest(first.Manifest, manifest) || first.Author != author)
            {
                throw new InvalidOperationException($"app '{AppId}' already exists; add a version to change it");
            }

            return await RegisteredInfoAsync();
        }

        return await CreateFirstVersionAsync(manifest, author, VersionState.Draft);
    }

    /// <summary>Creates the app with version 1 in <paramref name="state"/> (published or draft), durable and registered.</summary>
    private async Task<AppInfo> CreateFirstVersionAsync(AppManifest manifest, string author, VersionState state)
    {
        var now = time.GetUtcNow();
        S.Exists = true;
        S.Lifecycle = AppLifecycle.Active;
        S.CreatedAt = now;
        S.Versions.Add(NewVersion(1, manifest, author, state, now));
        if (state == VersionState.Published)
        {
            S.PublishedVersion = 1;
        }

        SyncManifest();
        await SaveAsync();
        return await RegisteredInfoAsync();
    }

    private async Task<AppInfo> RegisteredInfoAsync()
    {
        await GrainFactory.GetGrain<IAppRegistryGrain>(0).RegisterAsync(AppId);
        return Info();
    }

    public async Task<AppVersionInfo> AddVersionAsync(AppManifest manifest, string author)
    {
        RequireExists();
        RequireNotRetired();
        ThrowIfInvalid(manifest);
        RequireActor(author, nameof(author));
        var number = S.Versions.Count == 0 ? 1 : S.Versions.Max(v => v.Number) + 1;
        var version = NewVersion(number, manifest, author, VersionState.Draft, time.GetUtcNow());
        S.Versions.Add(version);
        SyncManifest();
        await SaveAsync();
        return ToInfo(version);
    }

    public Task<AppVersionInfo?> GetVersionAsync(int version) =>
        Task.FromResult(S.Exists && FindVersion(version) is { } v ? ToInfo(v) : null);

    public async Task<AppVersionInfo> SubmitAsync(int version, string actor)
    {
        RequireExists();
        RequireNotRetired();
        RequireActor(actor, nameof(actor));
        var v = RequireVersion(version);
        Move(v, VersionState.Submitted, actor, "submitted for promotion");
        v.Gates = [];
        v.Approval = null;
        v.NeedsApprover = false;
        v.SubmittedAt = time.GetUtcNow();
        await SaveAsync();
        return ToInfo(v);
    }

    public async Task<AppVersionInfo> RecordGatesAsync(int version, IReadOnlyList<GateResult> gates, bool needsApprover)
    {
        RequireExists();
        ArgumentNullException.ThrowIfNull(gates);
        var v = RequireVersion(version);
        if (v.State != VersionState.Submitted || v.NeedsApprover)
        {
            // Gates are recorded once per submission; a version waiting for an approver already has them.
            throw new InvalidOperationException(v.State == VersionState.Submitted
                ? $"version {version} of app '{AppId}' already passed its gates and waits for an approver"
                : $"version {version} of app '{AppId}' is {VersionLifecycle.Name(v.State)}; gates are recorded only for a submitted version");
        }

        v.Gates = [.. gates];
        var failed = gates.Where(g => !g.Passed).ToList();
        var queue = GrainFactory.GetGrain<IApprovalQueueGrain>(0);
        if (failed.Count > 0)
        {
            var reasons = string.Join("; ", failed.Select(g => $"{g.Gate}: {g.Detail}"));
            Move(v, VersionState.Draft, "platform", $"gates failed: {reasons}");
            await SaveAsync();
            return ToInfo(v);
        }

        if (v.Manifest.Audience == Audience.Internal && !needsApprover)
        {
            v.Manifest = v.Manifest with { Quotas = Tighten(v.Manifest.Quotas, Options.AutoApprovedQuotas.ToQuotas()) };
            v.Approval = new ApprovalDecision("platform", true, "internal app, every gate passed: approved automatically with the auto-approval quotas", time.GetUtcNow(), Automatic: true);
            Move(v, VersionState.Approved, "platform", "auto-approved: internal app, every gate passed");
            SyncManifest();
            await SaveAsync();
            return ToInfo(v);
        }

        v.NeedsApprover = true;
        var why = v.Manifest.Audience == Audience.External ? "external app" : "a gate asked for an approver";
        v.History.Add(new VersionTransition(v.State, v.State, "platform", $"every gate passed; waits for an approver ({why})", time.GetUtcNow()));
        await SaveAsync();
        await queue.AddAsync(new PendingApproval(AppId, v.Number, v.Author, v.Manifest.Team, v.Manifest.Audience, v.SubmittedAt ?? time.GetUtcNow(), v.Gates));
        return ToInfo(v);
    }

    public async Task<AppVersionInfo> DecideAsync(int version, string approver, bool approve, string comment)
    {
        RequireExists();
        RequireActor(approver, nameof(approver));
        if (string.IsNullOrWhiteSpace(comment))
        {
            throw new ArgumentException("a decision carries a comment", nameof(comment));
        }

        var v = RequireVersion(version);
        var to = approve ? VersionState.Approved : VersionState.Rejected;
        VersionLifecycle.EnsureCanMove(AppId, v.Number, v.State, to);
        if (!v.NeedsApprover)
        {
            throw new InvalidOperationException($"version {version} of app '{AppId}' has not passed its gates yet; it is decided once every gate has passed");
        }

        if (string.Equals(v.Author, approver, StringComparison.Ordinal))
        {
            throw new UnauthorizedAccessException($"'{approver}' wrote version {version} of app '{AppId}' and cannot decide on it; another approver must");
        }

        var now = time.GetUtcNow();
        v.Approval = new ApprovalDecision(approver, approve, comment.Trim(), now, Automatic: false);
        v.NeedsApprover = false;
        Move(v, to, approver, comment.Trim());
        await SaveAsync();
        await GrainFactory.GetGrain<IApprovalQueueGrain>(0).RemoveAsync(AppId, v.Number);
        return ToInfo(v);
    }

    public async Task<AppInfo> StartCanaryAsync(int version, double share, string actor)
    {
        RequireExists();
        RequireNotRetired();
        RequireActor(actor, nameof(actor));
        if (double.IsNaN(share))
        {
            share = Options.DefaultCanaryShare;
        }

        if (!(share > 0 && share <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(share), share, "a canary share is greater than 0 and at most 1");
        }

        var v = RequireVersion(version);
        if (S.CanaryVersion == v.Number)
        {
            // Changing the share of the running canary is not a transition; it is still recorded.
            S.CanaryShare = share;
            v.History.Add(new VersionTransition(v.State, v.State, actor, $"canary share set to {share:0.###}", time.GetUtcNow()));
            await SaveAsync();
            return Info();
        }

        VersionLifecycle.EnsureCanMove(AppId, v.Number, v.State, VersionState.Canary);
        if (S.PublishedVersion is null)
        {
            throw new InvalidOperationException($"app '{AppId}' has no published version for a canary to run beside; promote version {version} instead");
        }

        if (S.CanaryVersion is { } running)
        {
            throw new InvalidOperationException($"version {running} of app '{AppId}' is already in canary; promote it or roll it back first");
        }

        Move(v, VersionState.Canary, actor, $"canary with {share:0.###} of production callers");
        S.CanaryVersion = v.Number;
        S.CanaryShare = share;
        await SaveAsync();
        return Info();
    }

    public async Task<AppInfo> PromoteAsync(int version, string actor)
    {
        RequireExists();
        RequireNotRetired();
        RequireActor(actor, nameof(actor));
        var v = RequireVersion(version);
        VersionLifecycle.EnsureCanMove(AppId, v.Number, v.State, VersionState.Published);
        if (FindVersion(S.PublishedVersion) is { } previous)
        {
            Move(previous, VersionState.Superseded, actor, $"superseded by version {v.Number}");
        }

        Move(v, VersionState.Published, actor, v.State == VersionState.Superseded ? "published again" : "promoted");
        S.PublishedVersion = v.Number;
        if (S.CanaryVersion == v.Number)
        {
            S.CanaryVersion = null;
            S.CanaryShare = 0;
        }

        SyncManifest();
        await SaveAsync();
        return Info();
    }

    public async Task<AppInfo> RollbackAsync(string actor, string reason)
    {
        RequireExists();
        RequireActor(actor, nameof(actor));
        reason = string.IsNullOrWhiteSpace(reason) ? "rolled back" : reason.Trim();
        if (FindVersion(S.CanaryVersion) is { } canary)
        {
            Move(canary, VersionState.RolledBack, actor, reason);
            S.CanaryVersion = null;
            S.CanaryShare = 0;
            await SaveAsync();
            return Info();
        }

        if (FindVersion(S.PublishedVersion) is not { } published)
        {
            throw new InvalidOperationException($"app '{AppId}' has no canary and no published version; there is nothing to roll back");
        }

        var restore = S.Versions.Where(x => x.State == VersionState.Superseded).MaxBy(x => x.Number)
            ?? throw new InvalidOperationException(
                $"version {published.Number} of app '{AppId}' is published and no earlier published version exists to restore; suspend or retire the app instead");

        Move(published, VersionState.RolledBack, actor, reason);
        Move(restore, VersionState.Published, actor, $"restored by the rollback of version {published.Number}: {reason}");
        S.PublishedVersion = restore.Number;
        SyncManifest();
        await SaveAsync();
        return Info();
    }

    public async Task<AppInfo> SetFeatureFlagAsync(string name, bool enabled)
    {
        RequireExists();
        if (!FeatureFlags.IsValidName(name))
        {
            throw new ArgumentException($"flag name '{name}' must be {FeatureFlags.NameRule}", nameof(name));
        }

        if (S.Flags.TryGetValue(name, out var current) && current == enabled)
        {
            return Info();
        }

        if (!S.Flags.ContainsKey(name) && S.Flags.Count >= MaxFlags)
        {
            throw new InvalidOperationException($"app '{AppId}' already has {MaxFlags} feature flags");
        }

        S.Flags[name] = enabled;
        await SaveAsync();
        return Info();
    }

    public Task<IReadOnlyDictionary<string, bool>?> GetFlagsAsync(string keyId, string keySecret)
    {
        var (_, refusal) = CheckKey(keyId, keySecret);
        return Task.FromResult<IReadOnlyDictionary<string, bool>?>(
            refusal is null ? SortedFlags() : null);
    }

    public Task<IssuedKey> IssueScopedKeyAsync(KeyKind kind, string holder, string label, int? pinnedVersion) =>
        IssueAsync(kind, holder, label, pinnedVersion);

    private async Task<IssuedKey> IssueAsync(KeyKind kind, string holder, string label, int? pinnedVersion)
    {
        RequireExists();
        if (kind != KeyKind.Production)
        {
            // A production key of a retired app is refused at every call anyway; test and gate keys would only mislead.
            RequireNotRetired();
        }

        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown key kind");
        }

        if (kind != KeyKind.Production)
        {
            RequireActor(holder, nameof(holder));
        }

        if (pinnedVersion is { } pinned && FindVersion(pinned) is null)
        {
            throw new KeyNotFoundException($"app '{AppId}' has no version {pinned}");
        }

        if (kind == KeyKind.Production && pinnedVersion is not null)
        {
            throw new ArgumentException("a production key follows the release and cannot be pinned to a version", nameof(pinnedVersion));
        }

        if (kind == KeyKind.Gate && pinnedVersion is null)
        {
            // A gate tests one version; pin it now so a newer draft cannot change what the gate measured.
            pinnedVersion = NewestUnreleased()?.Number
                ?? throw new InvalidOperationException($"app '{AppId}' has no unreleased version for a gate key to test");
        }

        var keyId = KeyHasher.NewKeyId();
        var secret = KeyHasher.NewSecret();
        var salt = KeyHasher.NewSalt();
        var now = time.GetUtcNow();
        S.Keys.Add(new StoredKey(keyId, string.IsNullOrWhiteSpace(label) ? keyId : label.Trim(), salt, KeyHasher.Hash(salt, secret), now, null,
            kind, holder?.Trim() ?? "", pinnedVersion));
        await SaveAsync();
        return new IssuedKey(keyId, ApiKeys.Format(AppId, keyId, secret), now);
    }

    private (StoredKey? Key, Admission? Refusal) CheckKey(string keyId, string keySecret)
    {
        if (!S.Exists)
        {
            return (null, new Admission(AdmissionOutcome.UnknownApp, "no such app", null, null));
        }

        var key = S.Keys.Find(k => k.KeyId == keyId);
        if (key is null || !KeyHasher.Matches(key.Salt, key.Hash, keySecret ?? ""))
        {
            return (null, new Admission(AdmissionOutcome.InvalidKey, "invalid API key", null, null));
        }

        // Retiring revokes every key; the caller learns the app is retired rather than that one key was revoked.
        if (key.RevokedAt is not null && S.Lifecycle != AppLifecycle.Retired)
        {
            return (null, new Admission(AdmissionOutcome.RevokedKey, $"API key {key.KeyId} was revoked", null, null));
        }

        if (S.Lifecycle != AppLifecycle.Active)
        {
            return (null, new Admission(AdmissionOutcome.Suspended, $"app '{AppId}' is {S.Lifecycle.ToString().ToLowerInvariant()}", null, null));
        }

        return (key, null);
    }

    /// <summary>The version a key reaches now; with a null sticky key a production key is never split to the canary.</summary>
    private (StoredVersion? Version, ReleaseChannel Channel, Admission? Refusal) Resolve(StoredKey key, string? stickyKey)
    {
        switch (key.Kind)
        {
            case KeyKind.Production:
                if (stickyKey is not null && FindVersion(S.CanaryVersion) is { } canary
                    && CanarySplit.IsCanary(AppId, canary.Number, stickyKey, S.CanaryShare))
                {
                    return (canary, ReleaseChannel.Canary, null);
                }

                if (FindVersion(S.PublishedVersion) is { } published)
                {
                    return (published, ReleaseChannel.Published, null);
                }

                return (null, ReleaseChannel.Published, new Admission(AdmissionOutcome.NotPublished,
                    $"app '{AppId}' has no published version; use a test key to call a draft", null, null));

            default:
                var version = key.PinnedVersion is { } pinned ? FindVersion(pinned) : NewestUnreleased();
                return version is null
                    ? (null, ReleaseChannel.Test, new Admission(AdmissionOutcome.NotPublished,
                        $"app '{AppId}' has no unreleased version for this test key; add a version or use a production key", null, null))
                    : (version, ReleaseChannel.Test, null);
        }
    }

    private StoredVersion? NewestUnreleased() =>
        S.Versions.Where(v => v.State is VersionState.Draft or VersionState.Submitted or VersionState.Approved or VersionState.Canary)
            .MaxBy(v => v.Number);

    /// <summary>
    /// A per-app override from the policy set replaces the app's quotas; the policy default is a ceiling on each limit.
    /// </summary>
    internal static AppQuotas EffectiveQuotas(AppQuotas app, PolicyQuotas? policy) =>
        policy is null ? app : policy.IsAppOverride ? policy.Quotas : Tighten(app, policy.Quotas);

    /// <summary>Each limit the stricter of the two, where 0 means no limit.</summary>
    internal static AppQuotas Tighten(AppQuotas a, AppQuotas ceiling) =>
        new(StricterLimit(a.RequestsPerMinute, ceiling.RequestsPerMinute), StricterLimit(a.TokensPerDay, ceiling.TokensPerDay));

    private static int StricterLimit(int a, int b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    private static long StricterLimit(long a, long b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);

    private void Move(StoredVersion version, VersionState to, string actor, string reason)
    {
        VersionLifecycle.EnsureCanMove(AppId, version.Number, version.State, to);
        version.History.Add(new VersionTransition(version.State, to, actor, reason, time.GetUtcNow()));
        version.State = to;
    }

    private static StoredVersion NewVersion(int number, AppManifest manifest, string author, VersionState state, DateTimeOffset now)
    {
        var reason = state == VersionState.Published ? "created published (admin bootstrap)" : "created";
        return new StoredVersion
        {
            Number = number,
            Manifest = manifest,
            State = state,
            Author = author,
            CreatedAt = now,
            History = [new VersionTransition(state, state, author, reason, now)],
        };
    }

    private StoredVersion? FindVersion(int? number) => number is { } n ? S.Versions.Find(v => v.Number == n) : null;

    private StoredVersion RequireVersion(int number) =>
        FindVersion(number) ?? throw new KeyNotFoundException($"app '{AppId}' has no version {number}");

    /// <summary>The version the app's manifest shows: the published one, else the newest.</summary>
    private StoredVersion CurrentVersion() => FindVersion(S.PublishedVersion) ?? S.Versions.MaxBy(v => v.Number)!;

    private void SyncManifest() => S.Manifest = CurrentVersion().Manifest;

    private async Task FlushCountersAsync(CancellationToken cancellationToken)
    {
        if (_unsaved || !S.Exists || (S.TokensDay == _quotas.TokensDay && S.TokensToday == _quotas.TokensToday && !_shareUnsaved))
        {
            return;
        }

        await SaveAsync();
    }

    private async Task SaveAsync()
    {
        if (_unsaved)
        {
            throw new InvalidOperationException($"app '{AppId}' is reloading after a failed write; retry");
        }

        S.TokensDay = _quotas.TokensDay;
        S.TokensToday = _quotas.TokensToday;
        _shareUnsaved = false;
        Commit.MarkChanged();
        try
        {
            await Commit.PersistAsync();
        }
        catch
        {
            // Every change is made in memory before it is written. The caller is told this one failed, so the
            // activation must not serve it, nor save it later with the token counters: drop the activation and
            // let the next call read what storage holds.
            _unsaved = true;
            DeactivateOnIdle();
            throw;
        }
    }

    private AppProfile Profile(StoredVersion version, ReleaseChannel channel)
    {
        var m = version.Manifest;
        return new AppProfile(AppId, m.Team, m.Audience, m.DataClasses, m.AllowedTiers, m.DefaultTier,
            AppManifestRules.EffectiveBudgetId(AppId, m), Prompts.PromptVersions.Label(m), version.Number, channel, m.Owner, m.PromptSampleShare, m.Savings,
            m.Savings?.Sampling is { } bounds ? PremiumShareController.Clamp(S.PremiumShare?.Share, bounds) : null);
    }

    private static AppVersionInfo ToInfo(StoredVersion v) =>
        new(v.Number, v.Manifest, v.State, v.Author, v.CreatedAt, [.. v.Gates], v.Approval, [.. v.History], v.NeedsApprover);

    private AppInfo Info() => new(
        AppId,
        S.Manifest!,
        S.Lifecycle,
        S.Keys.Select(k => new KeySummary(k.KeyId, k.Label, k.CreatedAt, k.RevokedAt, k.Kind, k.Holder, k.PinnedVersion)).ToList(),
        S.CreatedAt,
        AppManifestRules.EffectiveBudgetId(AppId, S.Manifest!),
        new AppRelease(S.PublishedVersion, S.CanaryVersion, S.CanaryShare),
        S.Versions.OrderBy(v => v.Number).Select(ToInfo).ToList(),
        SortedFlags());

    private Dictionary<string, bool> SortedFlags() =>
        S.Flags.OrderBy(f => f.Key, StringComparer.Ordinal).ToDictionary(f => f.Key, f => f.Value);

    private void RequireExists()
    {
        if (!S.Exists)
        {
            throw new KeyNotFoundException($"app '{AppId}' does not exist");
        }
    }

    private void RequireNotRetired()
    {
        if (S.Lifecycle == AppLifecycle.Retired)
        {
            throw new InvalidOperationException($"app '{AppId}' is retired");
        }
    }

    private static void RequireActor(string actor, string parameter)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new ArgumentException($"{parameter} is required", parameter);
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

    private static bool SameManifest(AppManifest a, AppManifest b) => AppManifestRules.SameManifest(a, b);
}
