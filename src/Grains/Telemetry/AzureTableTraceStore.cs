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
/// <item><c>{prefix}events</c>: PartitionKey <c>{appId}|{yyyyMMddHH}</c> (UTC hour of the event), RowKey a segment id;
/// a segment holds the partition's events of one <see cref="AppendAsync"/> as LZ4-compressed MessagePack in
/// <c>Payload</c> (continued in <c>Payload1</c>…). One entity per partition per write, not one per event: the storage
/// service (Azurite on the silo's own cores locally) pays per entity.</item>
/// <item><c>{prefix}requests</c>: the hour markers (PartitionKey <c>hour|{yyyyMMddHH}</c>, RowKey appId), the app's hours
/// (<c>ahour|{appId}</c>, RowKey the hour, for <see cref="FindAsync"/>), feedback (<c>fb|{appId}|{yyyyMMddHH}</c>, RowKey
/// the request id) and the prompt-sample day markers (<c>sday|{yyyyMMdd}</c>).</item>
/// <item><c>{prefix}samples</c>: prompt samples, PartitionKey <c>{appId}|{yyyyMMdd}</c>, RowKey newest first.</item>
/// </list>
/// A segment id is a SHA-256 of the segment's request ids in order, so a retried write inserts the same key, gets a
/// conflict and stores nothing twice. Exactly once is enforced on read: every read of an app's hour keeps one event per
/// request id (the earliest event; on a tie the segment written first, then the lowest segment id).
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
    private readonly TimeSpan _lookupWindow;
    private readonly TimeProvider _time;
    private readonly ILogger<AzureTableTraceStore> _logger;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, byte> _markersWritten = new(StringComparer.Ordinal);
    private Task? _tablesCreated;

    public AzureTableTraceStore(TableServiceClient service, IOptions<TraceWriterOptions> options, ILogger<AzureTableTraceStore> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        var prefix = options.Value.TablePrefix;
        _events = service.GetTableClient(prefix + "events");
        _requests = service.GetTableClient(prefix + "requests");
        _samples = service.GetTableClient(prefix + "samples");
        _lookupWindow = options.Value.LookupWindow;
        _time = time ?? TimeProvider.System;
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
        foreach (var partition in unique.GroupBy(e => (e.AppId, Hour: HourOf(e.Timestamp))))
        {
            foreach (var segment in Segments(EventPartition(partition.Key.AppId, partition.Key.Hour), partition.ToList()))
            {
                writes.Add(InsertSegmentAsync(segment, cancellationToken));
            }
        }

        var active = unique.Select(e => (Hour: HourOf(e.Timestamp), e.AppId)).Distinct().ToList();
        foreach (var hour in active.GroupBy(m => m.Hour))
        {
            writes.Add(WriteMarkersAsync("hour|" + hour.Key, hour.Select(m => (Key(m.AppId), m.AppId)), cancellationToken));
        }

        foreach (var app in active.GroupBy(m => m.AppId))
        {
            writes.Add(WriteMarkersAsync(AppHoursPartition(app.Key), app.Select(m => (m.Hour, app.Key)), cancellationToken));
        }

        foreach (var day in samples.DistinctBy(s => (s.AppId, s.RequestId)).GroupBy(s => SamplePartition(s.AppId, DayOf(s.Timestamp))))
        {
            var list = day.ToList();
            writes.Add(InsertFirstWinsAsync(_samples, day.Key, list.Select(ToSampleEntity).ToList(), cancellationToken));
            writes.Add(WriteMarkersAsync("sday|" + DayOf(list[0].Timestamp), [(Key(list[0].AppId), list[0].AppId)], cancellationToken));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    public async Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var size = Math.Clamp(query.PageSize, 1, TraceQuery.MaxPageSize);
        var hours = TraceHours.NewestFirst(query.From, query.To).ToList();
        var position = QueryPosition.Decode(query.ContinuationToken);
        if (position is not null && (position.TableToken is not null || !hours.Any(h => h.ToString(HourFormat, CultureInfo.InvariantCulture) == position.Slot)))
        {
            throw BadToken(query.ContinuationToken);
        }

        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
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
                var offset = 0;
                if (resuming is not null)
                {
                    if (string.CompareOrdinal(Key(appId), Key(resuming.AppId)) < 0)
                    {
                        continue;
                    }

                    offset = appId == resuming.AppId ? resuming.Skip : 0;
                    resuming = null;
                }

                // The whole partition is read and filtered here: a segment is opaque to the table's own filters.
                var matching = (await ReadPartitionAsync(appId, hour, cancellationToken).ConfigureAwait(false)).Where(r => query.Matches(r.Event)).ToList();
                var take = Math.Max(0, Math.Min(size - items.Count, matching.Count - offset));
                items.AddRange(matching.Skip(offset).Take(take));
                if (items.Count >= size)
                {
                    var next = offset + take < matching.Count
                        ? new QueryPosition(hour, appId, null, offset + take)
                        : NextAfter(hours, hourStart, apps, appId, query.AppId is not null);
                    return new TracePage(items, next?.Encode());
                }
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
        return (await FindWithHourAsync(appId, requestId, cancellationToken).ConfigureAwait(false))?.Record;
    }

    public async Task<FeedbackOutcome> AttachFeedbackAsync(string appId, string requestId, BizFeedback feedback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(requestId);
        ArgumentNullException.ThrowIfNull(feedback);
        await EnsureTablesAsync(cancellationToken).ConfigureAwait(false);
        if (await FindWithHourAsync(appId, requestId, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return FeedbackOutcome.UnknownRequest;
        }

        // Its own row beside the segments (which are never rewritten); later feedback replaces earlier, readers join it.
        var row = new TableEntity(FeedbackPartition(appId, found.Hour), Key(requestId))
        {
            ["Feedback"] = TracePayloads.Serialize(feedback),
            ["BizMetric"] = feedback.ToBizMetric(),
        };
        await _requests.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
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
        foreach (var record in await ReadPartitionAsync(appId, HourOf(hourStart), cancellationToken).ConfigureAwait(false))
        {
            yield return record.Event;
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

    private static string AppHoursPartition(string appId) => $"ahour|{Key(appId)}";

    private static string FeedbackPartition(string appId, string hour) => $"fb|{Key(appId)}|{hour}";

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

    /// <summary>Upserts marker rows (row key, app id) of one partition, once per silo: they only ever say "there is something".</summary>
    private async Task WriteMarkersAsync(string partition, IEnumerable<(string RowKey, string AppId)> markers, CancellationToken cancellationToken)
    {
        var missing = markers.Where(m => !_markersWritten.ContainsKey($"{partition}/{m.RowKey}")).DistinctBy(m => m.RowKey).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        foreach (var chunk in missing.Chunk(MaxTransactionActions))
        {
            var actions = chunk.Select(m => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(partition, m.RowKey) { ["AppId"] = m.AppId }));
            await _requests.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
        }

        if (_markersWritten.Count > 100_000)
        {
            _markersWritten.Clear();
        }

        foreach (var marker in missing)
        {
            _markersWritten.TryAdd($"{partition}/{marker.RowKey}", 0);
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

    /// <summary>
    /// The segments of one partition's events: normally one; when the compressed payload would pass the entity limit,
    /// the events are split in halves (again if need be). Each segment's id is a SHA-256 of its request ids in order,
    /// so the same events always give the same segments and the same keys.
    /// </summary>
    private static IEnumerable<TableEntity> Segments(string partition, List<TraceEvent> events)
    {
        var payload = TracePayloads.SerializeSegment(events);
        if (payload.Length > MaxPayloadBytes && events.Count > 1)
        {
            var half = events.Count / 2;
            return Segments(partition, events[..half]).Concat(Segments(partition, events[half..]));
        }

        var entity = new TableEntity(partition, SegmentId(events)) { ["Events"] = events.Count };
        WritePayload(entity, payload);
        return [entity];
    }

    private static string SegmentId(List<TraceEvent> events)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> separator = [0];
        foreach (var e in events)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(e.RequestId));
            hash.AppendData(separator);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private async Task InsertSegmentAsync(TableEntity segment, CancellationToken cancellationToken)
    {
        try
        {
            await _events.AddEntityAsync(segment, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // The same request ids in the same order were stored already (a retried write): nothing to add.
        }
        catch (RequestFailedException ex) when (ex.Status is >= 400 and < 500 and not 408 and not 429)
        {
            // Retrying a malformed entity would block the writer forever; it is dropped and logged instead.
            LogRefused(_events, segment, ex);
        }
    }

    /// <summary>
    /// One app's hour, once per request id, ordered by request id, with feedback joined. A request id stored in several
    /// segments (a retried call, or a write retried with other events) keeps its earliest event; on a tie the segment
    /// the table stored first, then the lowest segment id.
    /// </summary>
    private async Task<List<TraceRecord>> ReadPartitionAsync(string appId, string hour, CancellationToken cancellationToken)
    {
        var segmentsRead = ReadAllAsync(_events, EventPartition(appId, hour), null, cancellationToken);
        var feedbackRead = ReadAllAsync(_requests, FeedbackPartition(appId, hour), null, cancellationToken);
        await Task.WhenAll(segmentsRead, feedbackRead).ConfigureAwait(false);

        var first = new Dictionary<string, (TraceEvent Event, DateTimeOffset Stored, string Segment)>(StringComparer.Ordinal);
        foreach (var segment in segmentsRead.Result)
        {
            var stored = segment.Timestamp ?? DateTimeOffset.MaxValue;
            foreach (var e in TracePayloads.DeserializeSegment(ReadPayload(segment)))
            {
                if (e.AppId != appId)
                {
                    continue;
                }

                if (!first.TryGetValue(e.RequestId, out var kept)
                    || e.Timestamp < kept.Event.Timestamp
                    || (e.Timestamp == kept.Event.Timestamp && (stored < kept.Stored
                        || (stored == kept.Stored && string.CompareOrdinal(segment.RowKey, kept.Segment) < 0))))
                {
                    first[e.RequestId] = (e, stored, segment.RowKey);
                }
            }
        }

        var feedback = feedbackRead.Result
            .Where(f => f.GetBinary("Feedback") is not null)
            .ToDictionary(f => f.RowKey, f => TracePayloads.DeserializeFeedback(f.GetBinary("Feedback")), StringComparer.Ordinal);
        var records = new List<TraceRecord>(first.Count);
        foreach (var (requestId, kept) in first)
        {
            records.Add(feedback.TryGetValue(Key(requestId), out var f)
                ? new TraceRecord(kept.Event with { BizMetric = f.ToBizMetric() }, f)
                : new TraceRecord(kept.Event, null));
        }

        records.Sort((a, b) => string.CompareOrdinal(a.Event.RequestId, b.Event.RequestId));
        return records;
    }

    private static async Task<List<TableEntity>> ReadAllAsync(TableClient table, string partition, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, 1000, select, cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// The app's hours within the lookup window (from its hour markers), newest first, until one holds the request.
    /// The hour after the current one is read too, for an event stamped by a silo whose clock runs slightly ahead.
    /// </summary>
    private async Task<(TraceRecord Record, string Hour)?> FindWithHourAsync(string appId, string requestId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var from = HourOf(now - _lookupWindow);
        var to = HourOf(now.AddHours(1));
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AppHoursPartition(appId)} and RowKey ge {from} and RowKey le {to}");
        var hours = new List<string>();
        await foreach (var marker in _requests.QueryAsync<TableEntity>(filter, 1000, ["RowKey"], cancellationToken).ConfigureAwait(false))
        {
            hours.Add(marker.RowKey);
        }

        hours.Sort((a, b) => string.CompareOrdinal(b, a));
        foreach (var hour in hours)
        {
            var records = await ReadPartitionAsync(appId, hour, cancellationToken).ConfigureAwait(false);
            if (records.Find(r => r.Event.RequestId == requestId) is { } record)
            {
                return (record, hour);
            }
        }

        return null;
    }

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
