using System.CommandLine;
using System.Text.Json.Nodes;
using Skjold.Detection.Falco;

namespace Skjold.Cli;

/// <summary><c>skjold rules list|lint</c>: what a set of Falco rule files holds, and whether it loads.</summary>
internal static class RulesCommand
{
    public static Command Create(CliContext context)
    {
        var rules = new Command("rules", "Falco rule files for the k8s_audit source: list what they hold, or lint them (load and compile every rule as skjold detect would).");
        rules.Subcommands.Add(List(context));
        rules.Subcommands.Add(Lint(context));
        return rules;
    }

    private static Option<string[]> RulesOption() => new("--rules", "-r") { Description = "Rule files, loaded in order", Required = true, AllowMultipleArgumentsPerToken = true };

    /// <summary>Loads the files; null after a one-line error naming file, line and rule.</summary>
    internal static FalcoRuleSet? Load(IEnumerable<string> files, CliContext context)
    {
        var set = new FalcoRuleSet();
        foreach (var file in files)
        {
            try
            {
                set.Load(File.ReadAllText(Path.GetFullPath(file, context.WorkingDirectory)), file);
            }
            catch (Exception ex) when (ex is RuleLoadException or IOException or UnauthorizedAccessException)
            {
                context.Error.WriteLine($"error: {ex.Message}");
                return null;
            }
        }

        return set;
    }

    private static Command List(CliContext context)
    {
        var files = RulesOption();
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("list", "List the rules: name, priority, source, enabled and tags (after append and override).") { files, format };
        command.SetAction(parse =>
        {
            if (Load(parse.GetValue(files)!, context) is not { } set)
            {
                return ExitCodes.UsageOrInputError;
            }

            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(Summary.Json(new JsonArray([.. set.Rules.Select(r => (JsonNode)new JsonObject
                {
                    ["name"] = r.Name,
                    ["priority"] = r.Priority.ToString(),
                    ["source"] = r.Source,
                    ["enabled"] = r.Enabled,
                    ["tags"] = new JsonArray([.. r.Tags.Select(t => (JsonNode)t)]),
                    ["defined"] = r.Location,
                })])));
                return ExitCodes.Ok;
            }

            foreach (var r in set.Rules)
            {
                context.Out.WriteLine($"{FalcoRuleSet.PriorityName(r.Priority),-13} {(r.Enabled ? "on " : "off")} {r.Source,-10} {r.Name}  [{string.Join(", ", r.Tags)}]");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Lint(CliContext context)
    {
        var files = RulesOption();
        var command = new Command("lint", "Load and compile every k8s_audit rule; an unsupported construct or a broken condition is an error naming file, line and rule.") { files };
        command.SetAction(parse =>
        {
            if (Load(parse.GetValue(files)!, context) is not { } set)
            {
                return ExitCodes.UsageOrInputError;
            }

            var k8s = set.Rules.Count(r => r.Source == FalcoRuleSet.Source);
            context.Out.WriteLine($"OK: {set.Rules.Count} rules ({k8s} for k8s_audit, compiled; {set.Rules.Count - k8s} of other sources, not run), {set.Rules.Count(r => !r.Enabled)} disabled");
            return ExitCodes.Ok;
        });
        return command;
    }
}
