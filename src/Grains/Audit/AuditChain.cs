using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MicroApps.Orleans.Audit;

/// <summary>
/// The audit log's hash chain: each entry's hash is SHA-256 over the previous entry's hash and a canonical,
/// length-prefixed form of the entry (sequence, time in UTC ticks, actor, role, action, target, reason), so editing,
/// removing or reordering an entry changes every later hash.
/// </summary>
public static class AuditChain
{
    /// <summary>The "previous hash" of the first entry ever appended.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>Longest kept reason; longer reasons are cut (the log never refuses an entry for a long comment).</summary>
    public const int MaxReasonLength = 2000;

    /// <summary>Longest kept actor, role, action or target.</summary>
    public const int MaxFieldLength = 300;

    public static string Hash(string previousHash, long sequence, DateTimeOffset at, AuditRecord record)
    {
        var canonical = new StringBuilder(previousHash.Length + 256);
        Field(canonical, previousHash);
        Field(canonical, sequence.ToString(CultureInfo.InvariantCulture));
        Field(canonical, at.UtcTicks.ToString(CultureInfo.InvariantCulture));
        Field(canonical, record.Actor);
        Field(canonical, record.Role);
        Field(canonical, record.Action);
        Field(canonical, record.Target);
        Field(canonical, record.Reason);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }

    /// <summary>Whether an entry hashes to its stored hash given its predecessor's hash.</summary>
    public static bool Holds(string previousHash, AuditEntry entry) =>
        string.Equals(Hash(previousHash, entry.Sequence, entry.At, entry.Record), entry.Hash, StringComparison.Ordinal);

    /// <summary>
    /// Checks consecutive entries that should follow the entry (<paramref name="previousSequence"/>,
    /// <paramref name="previousHash"/>): the first problem found, or null when the chain holds.
    /// </summary>
    public static (long Sequence, string Problem)? FirstBreak(long previousSequence, string previousHash, IEnumerable<AuditEntry> entries)
    {
        foreach (var entry in entries)
        {
            var expected = previousSequence + 1;
            if (entry.Sequence != expected)
            {
                return (expected, entry.Sequence > expected
                    ? $"entry {expected} is missing (the next stored entry is {entry.Sequence})"
                    : $"entry {entry.Sequence} is out of place (expected {expected})");
            }

            if (!Holds(previousHash, entry))
            {
                return (entry.Sequence, $"entry {entry.Sequence} does not hash to its stored hash over the previous entry's hash: it or its predecessor was altered");
            }

            previousSequence = entry.Sequence;
            previousHash = entry.Hash;
        }

        return null;
    }

    /// <summary>
    /// The record as stored: whitespace trimmed, over-long fields cut. Throws when the actor or action is missing or
    /// the action is not dotted lower-case (<c>app.promoted</c>): those are programming errors, not user input.
    /// </summary>
    public static AuditRecord Normalize(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var actor = (record.Actor ?? "").Trim();
        var action = (record.Action ?? "").Trim();
        if (actor.Length == 0)
        {
            throw new ArgumentException("An audit record needs an actor (a principal name or 'system').", nameof(record));
        }

        if (!IsValidAction(action))
        {
            throw new ArgumentException($"Audit action '{action}' must be dotted lower-case words, e.g. 'app.promoted'.", nameof(record));
        }

        return new AuditRecord(
            Cut(actor, MaxFieldLength),
            Cut((record.Role ?? "").Trim(), MaxFieldLength),
            action,
            Cut((record.Target ?? "").Trim(), MaxFieldLength),
            Cut((record.Reason ?? "").Trim(), MaxReasonLength));
    }

    public static bool IsValidAction(string action)
    {
        if (action.Length is 0 or > 100 || action[0] == '.' || action[^1] == '.' || action.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in action)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static void Field(StringBuilder builder, string value) =>
        builder.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append('\n');

    private static string Cut(string value, int max) => value.Length <= max ? value : string.Concat(value.AsSpan(0, max - 1), "…");
}
