using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// The durable trace store on Azure Table storage (Azurite locally). Tables (prefix from
/// <see cref="TraceWriterOptions.TablePrefix"/>):
/// <list type="bullet">
/// <item><c>{prefix}events</c>: PartitionKey <c>{appId}|{yyyyMMddHH}</c> (UTC hour of the event), RowKey the request id;
/// the whole event as MessagePack in <c>Payload</c>, plus columns for server-side filters (Team, Model, Tier, Outcome,
/// PromptVersion, EventTime, CostActualUsd, ErrorCode) and <c>Feedback</c> once the app reported some.</item>
/// <item><c>{prefix}requests</c>: the request index (PartitionKey appId, RowKey request id, <c>Hour</c>), the hour markers
/// (PartitionKey <c>hour|{yyyyMMddHH}</c>, RowKey appId) and the prompt-sample day markers (<c>sday|{yyyyMMdd}</c>).</item>
/// <item><c>{prefix}samples</c>: prompt samples, PartitionKey <c>{appId}|{yyyyMMdd}</c>, RowKey newest first.</item>
/// </list>
/// Writes are inserts, never replaces: the first event of a request wins and a repeated write is a conflict that
/// is ignored. Batches go per partition in transactions of at most 100; a batch that hits a conflict is written
/// again one entity at a time. The request index is written with the events and is the arbiter when the same
/// request id arrives in two different hours: the event of the hour the index does not name is removed.
/// Key characters Azure Tables forbid (<c>/ \ # ?</c>, control characters) are escaped as <c>%XX</c>.
/// </summary>
public sealed class AzureTableTraceStore : ITraceStore
{
    private const int MaxTransactionActions = 100;
    private const int MaxTransactionBytes = 3 * 1024 * 1024;
    private const int MaxBinaryProperty = 63 * 1024;
    private const int MaxPayloadBytes = 900 * 1024;
    private const int SearchPageSize = 200;
    private const string HourFormat = "yyyyMMddHH";
    private const string DayFormat = "yyyyMMdd";

    private readonly TableClient _events;
    private readonly TableClient _requests;
    private readonly TableClient _samples;
    private readonly ILogger<AzureTableTraceStore> _logger;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, byte> _markersWritten = new(StringComparer.Ordinal);
    private Task? _tablesCreated;

    public AzureTableTraceStore(TableServiceClient service, IOptions<TraceWriterOptions> options, ILogger<AzureTableTraceStore> logger)
    {
        ArgumentNullException.ThrowIfNull(service);
        var prefix = options.Value.TablePrefix;
        _events = service.GetTableClient(prefix + "events");
        _requests = service.GetTableClient(prefix + "requests");
        _samples = service.GetTableClient(prefix + "samples");
        _logger = logger;
    }

    /// <summary>
    /// Client options for the store's table client: the writer retries failed batches itself, so the SDK retries
    /// briefly and a hung request ends well before the writer's next attempt.
    /// </summary>
    public static TableClientOptions ClientOptions()
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(50);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(15);
        return options;
    }

    /// <summary>The table names this store uses.</summary>
    public IReadOnlyList<string> TableNames => [_events.Name, _requests.Name, _samples.Name];

    public async Task AppendAsync(IReadOnlyList<TraceEvent> events, IReadOnlyList<PromptSample> samples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(samples);
        if (events.Count == 0 && samples.Count == 0)
        {
            return;
        }

        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);

        // One request id once per batch: the first wins, as it would in storage.
        var unique = new List<TraceEvent>(events.Count);
        var seen = new HashSet<(string, string)>();
        foreach (var e in events)
        {
            if (seen.Add((e.AppId, e.RequestId)))
            {
                unique.Add(e);
            }
        }

        var writes = new List<Task>();
        var eventWrites = new List<(string Partition, List<TraceEvent> Events, Task<HashSet<string>> Inserted)>();
        foreach (var partition in unique.GroupBy(e => EventPartition(e.AppId, HourOf(e.Timestamp))))
        {
            var list = partition.ToList();
            var task = InsertFirstWinsAsync(_events, partition.Key, list.Select(ToEntity).ToList(), cancellationToken);
            eventWrites.Add((partition.Key, list, task));
            writes.Add(task);
        }

        var indexWrites = new List<(List<TraceEvent> Events, Task<HashSet<string>> Inserted)>();
        foreach (var app in unique.GroupBy(e => e.AppId))
        {
            var list = app.ToList();
            var task = InsertFirstWinsAsync(_requests, Key(app.Key), list.Select(ToIndexEntity).ToList(), cancellationToken);
            indexWrites.Add((list, task));
            writes.Add(task);
        }

        foreach (var hour in unique.Select(e => (Hour: HourOf(e.Timestamp), e.AppId)).Distinct().GroupBy(m => m.Hour))
        {
            writes.Add(WriteMarkersAsync("hour|" + hour.Key, hour.Select(m => m.AppId), cancellationToken));
        }

        foreach (var day in samples.DistinctBy(s => (s.AppId, s.RequestId)).GroupBy(s => SamplePartition(s.AppId, DayOf(s.Timestamp))))
        {
            var list = day.ToList();
            writes.Add(InsertFirstWinsAsync(_samples, day.Key, list.Select(ToSampleEntity).ToList(), cancellationToken));
            writes.Add(WriteMarkersAsync("sday|" + DayOf(list[0].Timestamp), [list[0].AppId], cancellationToken));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);

        // A request id whose index entry was already there: when that entry names another hour, the event of
        // this hour is a second one for the request (a retry that crossed an hour) and goes.
        var reconcile = indexWrites
            .SelectMany(w => w.Events.Where(e => !w.Inserted.Result.Contains(Key(e.RequestId))))
            .Select(e => RemoveIfIndexedElsewhereAsync(e, eventWrites, cancellationToken))
            .ToList();
        await Task.WhenAll(reconcile).ConfigureAwait(false);
    }

    public async Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var size = Math.Clamp(query.PageSize, 1, TraceQuery.MaxPageSize);
        var hours = TraceHours.NewestFirst(query.From, query.To).ToList();
        var position = QueryPosition.Decode(query.ContinuationToken);
        if (position is not null && !hours.Any(h => h.ToString(HourFormat, CultureInfo.InvariantCulture) == position.Slot))
        {
            throw BadToken(query.ContinuationToken);
        }

        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var filter = EventFilter(query);
        var items = new List<TraceRecord>(Math.Min(size, 256));
        var resuming = position;
        foreach (var hourStart in hours)
        {
            var hour = hourStart.ToString(HourFormat, CultureInfo.InvariantCulture);
            if (resuming is not null && resuming.Slot != hour)
            {
                continue;
            }

            var apps = query.AppId is not null ? [query.AppId] : await MarkedAppsAsync("hour|" + hour, cancellationToken).ConfigureAwait(false);
            foreach (var appId in apps)
            {
                string? tableToken = null;
                if (resuming is not null)
                {
                    if (string.CompareOrdinal(Key(appId), Key(resuming.AppId)) < 0)
                    {
                        continue;
                    }

                    tableToken = appId == resuming.AppId ? resuming.TableToken : null;
                    resuming = null;
                }

                var partitionFilter = $"{TableClient.CreateQueryFilter($"PartitionKey eq {EventPartition(appId, hour)}")}{filter}";
                do
                {
                    var pages = _events.QueryAsync<TableEntity>(partitionFilter, size - items.Count, cancellationToken: cancellationToken)
                        .AsPages(tableToken, size - items.Count);
                    await using var pager = pages.GetAsyncEnumerator(cancellationToken);
                    if (!await pager.MoveNextAsync().ConfigureAwait(false))
                    {
                        tableToken = null;
                        break;
                    }

                    items.AddRange(pager.Current.Values.Select(ToRecord));
                    tableToken = pager.Current.ContinuationToken;
                    if (items.Count >= size)
                    {
                        var next = tableToken is not null
                            ? new QueryPosition(hour, appId, tableToken, 0)
                            : NextAfter(hours, hourStart, apps, appId, query.AppId is not null);
                        return new TracePage(items, next?.Encode());
                    }
                }
                while (tableToken is not null);
            }

            resuming = null;
        }

        return new TracePage(items, null);
    }

    public async Task<TraceRecord?> FindAsync(string appId, string requestId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(requestId);
        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var entity = await FindEntityAsync(appId, requestId, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : ToRecord(entity);
    }

    public async Task<FeedbackOutcome> AttachFeedbackAsync(string appId, string requestId, BizFeedback feedback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var entity = await FindEntityAsync(appId, requestId, cancellationToken).ConfigureAwait(false);
        if (entity is null)
        {
            return FeedbackOutcome.UnknownRequest;
        }

        // A merge of two columns: the stored event (first write) stays as it was; readers apply the feedback.
        var update = new TableEntity(entity.PartitionKey, entity.RowKey)
        {
            ["Feedback"] = TracePayloads.Serialize(feedback),
            ["BizMetric"] = feedback.ToBizMetric(),
        };
        await _events.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
        return FeedbackOutcome.Recorded;
    }

    public async Task<PromptSamplePage> SearchSamplesAsync(PromptSearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (string.IsNullOrEmpty(query.Text))
        {
            throw new ArgumentException("the search text must not be empty", nameof(query));
        }

        var size = Math.Clamp(query.PageSize, 1, TraceQuery.MaxPageSize);
        var days = DaysNewestFirst(query.From, query.To).ToList();
        var position = QueryPosition.Decode(query.ContinuationToken);
        if (position is not null && !days.Contains(position.Slot))
        {
            throw BadToken(query.ContinuationToken);
        }

        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($" and SampleTime ge {query.From.ToUniversalTime()} and SampleTime lt {query.To.ToUniversalTime()}");
        if (query.Team is not null)
        {
            filter += TableClient.CreateQueryFilter($" and Team eq {query.Team}");
        }

        var items = new List<PromptSample>();
        var resuming = position;
        foreach (var day in days)
        {
            if (resuming is not null && resuming.Slot != day)
            {
                continue;
            }

            var apps = query.AppId is not null ? [query.AppId] : await MarkedAppsAsync("sday|" + day, cancellationToken).ConfigureAwait(false);
            foreach (var appId in apps)
            {
                string? tableToken = null;
                var skip = 0;
                if (resuming is not null)
                {
                    if (string.CompareOrdinal(Key(appId), Key(resuming.AppId)) < 0)
                    {
                        continue;
                    }

                    if (appId == resuming.AppId)
                    {
                        (tableToken, skip) = (resuming.TableToken, resuming.Skip);
                    }

                    resuming = null;
                }

                var partitionFilter = $"{TableClient.CreateQueryFilter($"PartitionKey eq {SamplePartition(appId, day)}")}{filter}";
                do
                {
                    var pageStart = tableToken;
                    var pages = _samples.QueryAsync<TableEntity>(partitionFilter, SearchPageSize, cancellationToken: cancellationToken)
                        .AsPages(tableToken, SearchPageSize);
                    await using var pager = pages.GetAsyncEnumerator(cancellationToken);
                    if (!await pager.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    var consumed = 0;
                    foreach (var entity in pager.Current.Values)
                    {
                        var sample = TracePayloads.DeserializeSample(ReadPayload(entity));
                        if (!sample.RedactedPrompt.Contains(query.Text, StringComparison.OrdinalIgnoreCase)
                            && !sample.RedactedResponse.Contains(query.Text, StringComparison.OrdinalIgnoreCase))
                        {
                            continue;
                        }

                        if (++consumed <= skip)
                        {
                            continue;
                        }

                        if (items.Count == size)
                        {
                            // One more match exists: the next page starts at it.
                            return new PromptSamplePage(items, new QueryPosition(day, appId, pageStart, consumed - 1).Encode());
                        }

                        items.Add(sample);
                    }

                    skip = 0;
                    tableToken = pager.Current.ContinuationToken;
                }
                while (tableToken is not null);
            }

            resuming = null;
        }

        return new PromptSamplePage(items, null);
    }

    public async Task<IReadOnlyList<string>> AppsActiveInHourAsync(DateTimeOffset hourStart, CancellationToken cancellationToken = default)
    {
        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        return await MarkedAppsAsync("hour|" + HourOf(hourStart), cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<TraceEvent> ScanHourAsync(string appId, DateTimeOffset hourStart, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(appId);
        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {EventPartition(appId, HourOf(hourStart))}");
        await foreach (var entity in _events.QueryAsync<TableEntity>(filter, 1000, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            yield return ToRecord(entity).Event;
        }
    }

    /// <summary>Escapes a value for a PartitionKey or RowKey: <c>% / \ # ? |</c> and control characters become <c>%XX</c>.</summary>
    public static string Key(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        StringBuilder? builder = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var escape = c is '%' or '/' or '\\' or '#' or '?' or '|' || char.IsControl(c);
            if (escape)
            {
                builder ??= new StringBuilder(value.Length + 8).Append(value, 0, i);
                builder.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder?.Append(c);
            }
        }

        var key = builder?.ToString() ?? value;

        // Keys are at most 1 KiB; an overlong request id keeps a readable head and a hash of the whole.
        return key.Length <= 400 ? key : $"{key[..300]}~{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))}";
    }

    private static string HourOf(DateTimeOffset time) => TraceHours.StartOf(time).ToString(HourFormat, CultureInfo.InvariantCulture);

    private static string DayOf(DateTimeOffset time) => time.UtcDateTime.ToString(DayFormat, CultureInfo.InvariantCulture);

    private static string EventPartition(string appId, string hour) => $"{Key(appId)}|{hour}";

    private static string SamplePartition(string appId, string day) => $"{Key(appId)}|{day}";

    private static IEnumerable<string> DaysNewestFirst(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            yield break;
        }

        var first = from.UtcDateTime.Date;
        for (var day = (to - TimeSpan.FromTicks(1)).UtcDateTime.Date; day >= first; day = day.AddDays(-1))
        {
            yield return day.ToString(DayFormat, CultureInfo.InvariantCulture);
        }
    }

    private static ArgumentException BadToken(string? token) =>
        new($"continuation token '{token}' is not one this store issued for this query", "ContinuationToken");

    private static string EventFilter(TraceQuery q)
    {
        var filter = TableClient.CreateQueryFilter($" and EventTime ge {q.From.ToUniversalTime()} and EventTime lt {q.To.ToUniversalTime()}");
        void And(string column, string? value)
        {
            if (value is not null)
            {
                filter += $" and {column} eq " + TableClient.CreateQueryFilter($"{value}");
            }
        }

        And("Team", q.Team);
        And("Model", q.Model);
        And("Tier", q.Tier);
        And("Outcome", q.Outcome);
        And("PromptVersion", q.PromptVersion);
        if (q.RequestId is not null)
        {
            filter += " and " + TableClient.CreateQueryFilter($"RowKey eq {Key(q.RequestId)}");
        }

        return filter;
    }

    private static QueryPosition? NextAfter(List<DateTimeOffset> hours, DateTimeOffset hourStart, IReadOnlyList<string> apps, string appId, bool singleApp)
    {
        // The page ended exactly at the end of a partition: resume at the next app of the hour, else the next hour.
        var index = -1;
        for (var i = 0; i < apps.Count; i++)
        {
            if (apps[i] == appId)
            {
                index = i;
            }
        }

        if (!singleApp && index >= 0 && index + 1 < apps.Count)
        {
            return new QueryPosition(hourStart.ToString(HourFormat, CultureInfo.InvariantCulture), apps[index + 1], null, 0);
        }

        var hourIndex = hours.IndexOf(hourStart);
        if (hourIndex + 1 >= hours.Count)
        {
            return null;
        }

        return new QueryPosition(hours[hourIndex + 1].ToString(HourFormat, CultureInfo.InvariantCulture), singleApp ? appId : "", null, 0);
    }

    private async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        Task created;
        lock (_lock)
        {
            if (_tablesCreated is null || _tablesCreated.IsFaulted || _tablesCreated.IsCanceled)
            {
                _tablesCreated = Task.WhenAll(
                    _events.CreateIfNotExistsAsync(CancellationToken.None),
                    _requests.CreateIfNotExistsAsync(CancellationToken.None),
                    _samples.CreateIfNotExistsAsync(CancellationToken.None));
            }

            created = _tablesCreated;
        }

        await created.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Inserts entities of one partition, keeping what is stored: transactions of up to 100; a transaction that
    /// fails on a conflict (or on one bad entity) is redone one entity at a time, ignoring conflicts.
    /// Returns the row keys this call inserted (the others were already there or were refused as malformed).
    /// </summary>
    private async Task<HashSet<string>> InsertFirstWinsAsync(TableClient table, string partition, List<TableEntity> entities, CancellationToken cancellationToken)
    {
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        var rows = entities.DistinctBy(e => e.RowKey).ToList();
        var chunk = new List<TableEntity>(MaxTransactionActions);
        var chunkBytes = 0;
        foreach (var entity in rows)
        {
            var size = EstimateSize(entity);
            if (chunk.Count == MaxTransactionActions || (chunk.Count > 0 && chunkBytes + size > MaxTransactionBytes))
            {
                await InsertChunkAsync(table, chunk, inserted, cancellationToken).ConfigureAwait(false);
                chunk = new List<TableEntity>(MaxTransactionActions);
                chunkBytes = 0;
            }

            chunk.Add(entity);
            chunkBytes += size;
        }

        if (chunk.Count > 0)
        {
            await InsertChunkAsync(table, chunk, inserted, cancellationToken).ConfigureAwait(false);
        }

        return inserted;
    }

    private async Task InsertChunkAsync(TableClient table, List<TableEntity> chunk, HashSet<string> inserted, CancellationToken cancellationToken)
    {
        try
        {
            if (chunk.Count == 1)
            {
                await table.AddEntityAsync(chunk[0], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), cancellationToken).ConfigureAwait(false);
            }

            inserted.UnionWith(chunk.Select(e => e.RowKey));
            return;
        }
        catch (RequestFailedException ex) when (ex.Status is >= 400 and < 500 && chunk.Count > 1)
        {
            // Some of the batch is already stored (a retried write) or one entity is refused: go one by one.
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return;
        }
        catch (RequestFailedException ex) when (ex.Status is >= 400 and < 500 and not 408 and not 429)
        {
            LogRefused(table, chunk[0], ex);
            return;
        }

        foreach (var entity in chunk)
        {
            try
            {
                await table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                inserted.Add(entity.RowKey);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // First write wins: the stored one stays.
            }
            catch (RequestFailedException ex) when (ex.Status is >= 400 and < 500 and not 408 and not 429)
            {
                // Retrying a malformed entity would block the writer forever; it is dropped and logged instead.
                LogRefused(table, entity, ex);
            }
        }
    }

    private void LogRefused(TableClient table, TableEntity entity, RequestFailedException ex) =>
        _logger.LogError(ex, "Table {Table} refused trace entity {PartitionKey}/{RowKey} ({Status} {Code}); it is not stored",
            table.Name, entity.PartitionKey, entity.RowKey, ex.Status, ex.ErrorCode);

    private async Task WriteMarkersAsync(string partition, IEnumerable<string> appIds, CancellationToken cancellationToken)
    {
        var missing = appIds.Where(a => !_markersWritten.ContainsKey($"{partition}/{a}")).Distinct().ToList();
        if (missing.Count == 0)
        {
            return;
        }

        foreach (var chunk in missing.Chunk(MaxTransactionActions))
        {
            var actions = chunk.Select(a => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(partition, Key(a)) { ["AppId"] = a }));
            await _requests.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
        }

        if (_markersWritten.Count > 100_000)
        {
            _markersWritten.Clear();
        }

        foreach (var appId in missing)
        {
            _markersWritten.TryAdd($"{partition}/{appId}", 0);
        }
    }

    private async Task<IReadOnlyList<string>> MarkedAppsAsync(string partition, CancellationToken cancellationToken)
    {
        var apps = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var marker in _requests.QueryAsync<TableEntity>(filter, 1000, ["AppId", "RowKey"], cancellationToken).ConfigureAwait(false))
        {
            apps.Add(marker.GetString("AppId") ?? marker.RowKey);
        }

        apps.Sort((a, b) => string.CompareOrdinal(Key(a), Key(b)));
        return apps;
    }

    private async Task RemoveIfIndexedElsewhereAsync(TraceEvent e, List<(string Partition, List<TraceEvent> Events, Task<HashSet<string>> Inserted)> eventWrites, CancellationToken cancellationToken)
    {
        var hour = HourOf(e.Timestamp);
        var index = await _requests.GetEntityIfExistsAsync<TableEntity>(Key(e.AppId), Key(e.RequestId), ["Hour"], cancellationToken).ConfigureAwait(false);
        var indexedHour = index.HasValue ? index.Value!.GetString("Hour") : null;
        if (indexedHour is null || indexedHour == hour)
        {
            return;
        }

        var partition = EventPartition(e.AppId, hour);
        var ours = eventWrites.Any(w => w.Partition == partition && w.Inserted.Result.Contains(Key(e.RequestId)));
        if (!ours)
        {
            return;
        }

        try
        {
            await _events.DeleteEntityAsync(partition, Key(e.RequestId), ETag.All, cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("Request {AppId}/{RequestId} was traced in hour {Hour} already; the second event (hour {Other}) was removed",
                e.AppId, e.RequestId, indexedHour, hour);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    private async Task<TableEntity?> FindEntityAsync(string appId, string requestId, CancellationToken cancellationToken)
    {
        var index = await _requests.GetEntityIfExistsAsync<TableEntity>(Key(appId), Key(requestId), ["Hour"], cancellationToken).ConfigureAwait(false);
        if (!index.HasValue || index.Value!.GetString("Hour") is not { } hour)
        {
            return null;
        }

        var stored = await _events.GetEntityIfExistsAsync<TableEntity>(EventPartition(appId, hour), Key(requestId), cancellationToken: cancellationToken).ConfigureAwait(false);
        return stored.HasValue ? stored.Value : null;
    }

    private static TableEntity ToEntity(TraceEvent e)
    {
        var entity = new TableEntity(EventPartition(e.AppId, HourOf(e.Timestamp)), Key(e.RequestId))
        {
            ["AppId"] = e.AppId,
            ["RequestId"] = e.RequestId,
            ["Team"] = e.Team,
            ["Model"] = e.Model,
            ["Tier"] = e.ModelTier,
            ["Outcome"] = e.Outcome,
            ["PromptVersion"] = e.PromptVersion,
            ["EventTime"] = e.Timestamp.ToUniversalTime(),
            ["CostActualUsd"] = (double)e.CostActualUsd,
            ["ErrorCode"] = e.ErrorCode,
        };
        WritePayload(entity, TracePayloads.Serialize(e));
        return entity;
    }

    private static TableEntity ToIndexEntity(TraceEvent e) =>
        new(Key(e.AppId), Key(e.RequestId)) { ["Hour"] = HourOf(e.Timestamp) };

    private static TableEntity ToSampleEntity(PromptSample s)
    {
        var inverted = (DateTimeOffset.MaxValue.UtcTicks - s.Timestamp.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
        var entity = new TableEntity(SamplePartition(s.AppId, DayOf(s.Timestamp)), $"{inverted}|{Key(s.RequestId)}")
        {
            ["AppId"] = s.AppId,
            ["RequestId"] = s.RequestId,
            ["Team"] = s.Team,
            ["Model"] = s.Model,
            ["SampleTime"] = s.Timestamp.ToUniversalTime(),
        };
        var payload = TracePayloads.Serialize(s);
        while (payload.Length > MaxPayloadBytes)
        {
            // Beyond an entity's 1 MiB even compressed: keep the beginning of the longer text.
            s = s.RedactedPrompt.Length >= s.RedactedResponse.Length
                ? s with { RedactedPrompt = s.RedactedPrompt[..(s.RedactedPrompt.Length * 3 / 4)] }
                : s with { RedactedResponse = s.RedactedResponse[..(s.RedactedResponse.Length * 3 / 4)] };
            payload = TracePayloads.Serialize(s);
        }

        WritePayload(entity, payload);
        return entity;
    }

    private static TraceRecord ToRecord(TableEntity entity)
    {
        var traceEvent = TracePayloads.DeserializeEvent(ReadPayload(entity));
        if (entity.GetBinary("Feedback") is { } feedbackBytes)
        {
            var feedback = TracePayloads.DeserializeFeedback(feedbackBytes);
            return new TraceRecord(traceEvent with { BizMetric = feedback.ToBizMetric() }, feedback);
        }

        return new TraceRecord(traceEvent, null);
    }

    /// <summary>A binary property holds at most 64 KiB: larger payloads continue in Payload1, Payload2…</summary>
    private static void WritePayload(TableEntity entity, byte[] payload)
    {
        if (payload.Length <= MaxBinaryProperty)
        {
            entity["Payload"] = payload;
            return;
        }

        for (int offset = 0, part = 0; offset < payload.Length; offset += MaxBinaryProperty, part++)
        {
            entity[part == 0 ? "Payload" : $"Payload{part}"] = payload.AsSpan(offset, Math.Min(MaxBinaryProperty, payload.Length - offset)).ToArray();
        }
    }

    private static ReadOnlyMemory<byte> ReadPayload(TableEntity entity)
    {
        var first = entity.GetBinary("Payload") ?? throw new InvalidDataException($"trace entity {entity.PartitionKey}/{entity.RowKey} has no payload");
        if (entity.GetBinary("Payload1") is null)
        {
            return first;
        }

        var whole = new List<byte>(first);
        for (var part = 1; entity.GetBinary($"Payload{part}") is { } next; part++)
        {
            whole.AddRange(next);
        }

        return whole.ToArray();
    }

    private static int EstimateSize(TableEntity entity)
    {
        var size = 512;
        foreach (var value in ((IDictionary<string, object>)entity).Values)
        {
            size += value switch
            {
                byte[] bytes => bytes.Length * 4 / 3 + 64,
                string text => text.Length * 2 + 64,
                _ => 64,
            };
        }

        return size;
    }

    /// <summary>Where a page ended: the hour (or day) slot, the app, the table's own continuation, matches to skip.</summary>
    private sealed record QueryPosition(string Slot, string AppId, string? TableToken, int Skip)
    {
        public string Encode()
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
            {
                ["v"] = 1,
                ["s"] = Slot,
                ["a"] = AppId,
                ["t"] = TableToken,
                ["k"] = Skip,
            });
            return Convert.ToBase64String(json).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        public static QueryPosition? Decode(string? token)
        {
            if (token is null)
            {
                return null;
            }

            try
            {
                var base64 = token.Replace('-', '+').Replace('_', '/');
                base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
                using var json = JsonDocument.Parse(Convert.FromBase64String(base64));
                var root = json.RootElement;
                if (root.GetProperty("v").GetInt32() != 1)
                {
                    throw BadToken(token);
                }

                var tableToken = root.GetProperty("t");
                var position = new QueryPosition(
                    root.GetProperty("s").GetString() ?? throw BadToken(token),
                    root.GetProperty("a").GetString() ?? throw BadToken(token),
                    tableToken.ValueKind == JsonValueKind.Null ? null : tableToken.GetString(),
                    root.GetProperty("k").GetInt32());
                return position.Skip < 0 ? throw BadToken(token) : position;
            }
            catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw BadToken(token);
            }
        }
    }
}
