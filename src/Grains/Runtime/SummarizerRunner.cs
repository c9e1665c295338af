using System.Globalization;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// The <c>summarizer</c> template: text, or a document read through one of the app's connectors, in; a summary out.
/// A long input is split into parts of at most <c>chunkTokens</c>, each summarised (<c>part-1</c>…<c>part-n</c>), then
/// the part summaries are combined (<c>combine</c>, in rounds when they do not fit one call). The whole plan is
/// checked against the run's token and step limits before the first call, so an oversized input costs nothing.
/// </summary>
public sealed class SummarizerRunner(TokenEstimator tokens) : ITemplateRunner
{
    public string Template => BuiltIns.Summarizer;

    public async Task<AppRunResult> RunAsync(IRunContext run, AppRunRequest request)
    {
        var instructions = TemplateParameters.Text(run.Parameters, "instructions", BuiltInCatalog.Summarizer.Parameters[0].Default!);
        var chunkTokens = TemplateParameters.Integer(run.Parameters, "chunkTokens", 1500);
        var maxOutput = TemplateParameters.Integer(run.Parameters, "maxOutputTokens", 300);

        var text = request.Input ?? "";
        var source = request.Source;
        if (source is not null && string.IsNullOrWhiteSpace(source.Connector))
        {
            // A path without a connector reads from the app's default source connector.
            var fallback = TemplateParameters.Text(run.Parameters, "source");
            if (string.IsNullOrWhiteSpace(fallback))
            {
                return run.Fail(RunOutcome.InvalidRequest, "missing_connector",
                    "source.connector is required: the app has no 'source' parameter naming a default connector", "source.connector");
            }

            source = source with { Connector = fallback };
        }

        if (source is not null)
        {
            if (string.IsNullOrWhiteSpace(source.Path))
            {
                return run.Fail(RunOutcome.InvalidRequest, "missing_path", "source.path is required", "source.path");
            }

            var read = await run.ReadAsync(source.Connector, source.Path);
            if (!read.Ok)
            {
                return read.Failure!;
            }

            text = string.IsNullOrWhiteSpace(text) ? read.Content : $"{text}\n\n{read.Content}";
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return run.Fail(RunOutcome.InvalidRequest, "missing_input", "input (or a source to read) is required", "input");
        }

        var overhead = run.SharedPrompts.Count == 0 ? 0 : tokens.CountMessages(run.SharedPrompts) - TokenEstimator.ReplyPrimingTokens;
        var plan = SummaryPlanner.Plan(text, instructions, chunkTokens, maxOutput, tokens, overhead);
        if (run.Steps.Count + plan.Steps > run.Limits.MaxSteps)
        {
            return run.Fail(RunOutcome.LimitExceeded, RunLimitCodes.Steps,
                $"the input ({plan.InputTokens} tokens) needs {plan.Steps} model call(s) in parts of {chunkTokens} tokens, more than the run's {run.Limits.MaxSteps} step(s) allow; nothing was called");
        }

        if (run.TokensUsed + plan.EstimatedTokens > run.Limits.MaxTokens)
        {
            return run.Fail(RunOutcome.LimitExceeded, RunLimitCodes.Tokens,
                $"summarising the input ({plan.InputTokens} tokens, {plan.Parts.Count} part(s)) may take {plan.EstimatedTokens} tokens, more than the run's limit of {run.Limits.MaxTokens}; nothing was called");
        }

        var details = new Dictionary<string, string>
        {
            ["parts"] = plan.Parts.Count.ToString(CultureInfo.InvariantCulture),
            ["inputTokens"] = plan.InputTokens.ToString(CultureInfo.InvariantCulture),
        };

        if (plan.Parts.Count == 1)
        {
            var whole = await run.CallModelAsync("summary", Messages(instructions, text), maxOutput);
            return whole.Ok ? run.Complete(whole.Content, details) : whole.Failure!;
        }

        var summaries = new List<string>(plan.Parts.Count);
        for (var i = 0; i < plan.Parts.Count; i++)
        {
            var part = await run.CallModelAsync($"part-{i + 1}",
                Messages(SummaryPlanner.PartInstructions(instructions, i + 1, plan.Parts.Count), plan.Parts[i]), maxOutput);
            if (!part.Ok)
            {
                return part.Failure!;
            }

            summaries.Add(part.Content);
        }

        for (var round = 0; round < plan.CombineRounds.Count; round++)
        {
            var groups = plan.CombineRounds[round];
            var last = round == plan.CombineRounds.Count - 1;
            var combined = new List<string>(groups.Count);
            var taken = 0;
            for (var g = 0; g < groups.Count; g++)
            {
                var name = last ? "combine" : $"combine-{round + 1}-{g + 1}";
                var step = await run.CallModelAsync(name,
                    Messages(SummaryPlanner.CombineInstructions(instructions), SummaryPlanner.JoinSummaries(summaries.Skip(taken).Take(groups[g]))), maxOutput);
                if (!step.Ok)
                {
                    return step.Failure!;
                }

                combined.Add(step.Content);
                taken += groups[g];
            }

            summaries = combined;
        }

        return run.Complete(summaries[0], details);
    }

    private static IReadOnlyList<ChatTurn> Messages(string system, string user) =>
        [new ChatTurn("system", system), new ChatTurn("user", user)];
}
