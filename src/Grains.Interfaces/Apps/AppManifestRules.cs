namespace MicroApps.Orleans.Apps;

/// <summary>What makes a manifest acceptable; shared by the app grain and the admin API so both name the same fields.</summary>
public static class AppManifestRules
{
    /// <summary>Field name (camelCase, as the admin API spells it) → what is wrong. Empty when valid.</summary>
    public static IReadOnlyDictionary<string, string> Validate(string appId, AppManifest? manifest)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!ApiKeys.IsValidAppId(appId))
        {
            errors["appId"] = "appId must be 3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'";
        }

        if (manifest is null)
        {
            errors["manifest"] = "a manifest is required";
            return errors;
        }

        if (string.IsNullOrWhiteSpace(manifest.Name) || manifest.Name.Length > 200)
        {
            errors["name"] = "name is required (at most 200 characters)";
        }

        if (string.IsNullOrWhiteSpace(manifest.Owner))
        {
            errors["owner"] = "owner is required";
        }

        if (string.IsNullOrWhiteSpace(manifest.Team))
        {
            errors["team"] = "team is required";
        }

        if (!Enum.IsDefined(manifest.Audience))
        {
            errors["audience"] = "audience must be internal or external";
        }

        if (manifest.AllowedTiers is null || manifest.AllowedTiers.Count == 0 || manifest.AllowedTiers.Any(string.IsNullOrWhiteSpace))
        {
            errors["allowedTiers"] = "allowedTiers must name at least one tier";
        }
        else if (string.IsNullOrWhiteSpace(manifest.DefaultTier) || !manifest.AllowedTiers.Contains(manifest.DefaultTier, StringComparer.Ordinal))
        {
            errors["defaultTier"] = "defaultTier must be one of allowedTiers";
        }

        if (manifest.DataClasses is null || manifest.DataClasses.Any(string.IsNullOrWhiteSpace))
        {
            errors["dataClasses"] = "dataClasses must be a list of non-empty names";
        }

        if (manifest.Quotas is null)
        {
            errors["quotas"] = "quotas are required";
        }
        else
        {
            if (manifest.Quotas.RequestsPerMinute < 0)
            {
                errors["quotas.requestsPerMinute"] = "requestsPerMinute must not be negative (0 means no limit)";
            }

            if (manifest.Quotas.TokensPerDay < 0)
            {
                errors["quotas.tokensPerDay"] = "tokensPerDay must not be negative (0 means no limit)";
            }
        }

        if (manifest.BudgetId is null || manifest.BudgetId.Length > 200)
        {
            errors["budgetId"] = "budgetId must be a string of at most 200 characters (empty for the app's own budget)";
        }

        if (manifest.PromptVersion is null || manifest.PromptVersion.Length > 100)
        {
            errors["promptVersion"] = "promptVersion must be a string of at most 100 characters";
        }

        return errors;
    }

    /// <summary>The budget an app is charged to: its declared one, or its own <c>app:{appId}</c>.</summary>
    public static string EffectiveBudgetId(string appId, AppManifest manifest) =>
        string.IsNullOrWhiteSpace(manifest.BudgetId) ? $"app:{appId}" : manifest.BudgetId;
}
