using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>
/// Checks <c>FrontDoor:Principals</c> at start: each principal needs a name (letters, digits, '-', '_', '.', '@'),
/// a role among viewer/author/approver/admin and a token of at least <see cref="MinTokenLength"/> characters; names
/// and tokens are unique (tokens also against <c>FrontDoor:AdminToken</c>, names against its principal
/// <c>admin</c>). Failures name the setting, e.g. <c>FrontDoor:Principals:2:Role</c>, and never echo a token.
/// </summary>
internal sealed class AdminPrincipalsValidator(IConfiguration configuration) : IValidateOptions<FrontDoorOptions>
{
    public const int MinTokenLength = 16;
    public const int MaxNameLength = 100;

    public ValidateOptionsResult Validate(string? name, FrontDoorOptions options)
    {
        // The binder fills the list in the order of the configuration keys; use those keys in messages so a
        // setting with a gap in its numbering (0, 1, 5) is still named as written.
        var keys = configuration.GetSection($"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.Principals)}").GetChildren().Select(c => c.Key).ToList();
        var failures = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [AdminPrincipals.AdminName] = $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.AdminToken)}" };
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(options.AdminToken))
        {
            tokens[options.AdminToken] = $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.AdminToken)}";
        }

        for (var i = 0; i < options.Principals.Count; i++)
        {
            var principal = options.Principals[i];
            var setting = $"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.Principals)}:{(keys.Count == options.Principals.Count ? keys[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
            var principalName = principal.Name?.Trim() ?? "";
            if (!IsValidName(principalName))
            {
                failures.Add($"{setting}:Name must be 1–{MaxNameLength} letters, digits, '-', '_', '.' or '@'; it is '{principalName}'.");
            }
            else if (names.TryGetValue(principalName, out var taken))
            {
                failures.Add($"{setting}:Name '{principalName}' is already used by {taken}; names must be unique.");
            }
            else
            {
                names[principalName] = setting;
            }

            if (!AdminAccess.TryParseRole(principal.Role, out _))
            {
                failures.Add($"{setting}:Role must be viewer, author, approver or admin; it is '{principal.Role}'.");
            }

            var token = principal.Token ?? "";
            if (token.Length < MinTokenLength || token.Any(char.IsWhiteSpace))
            {
                failures.Add($"{setting}:Token must be at least {MinTokenLength} characters without spaces.");
            }
            else if (tokens.TryGetValue(token, out var owner))
            {
                failures.Add($"{setting}:Token is the same as {owner}'s; every principal needs its own token.");
            }
            else
            {
                tokens[token] = setting;
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@');
}
