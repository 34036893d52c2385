using System.CommandLine;
using Skjold.Kubernetes.Live;

namespace Skjold.Cli;

/// <summary><c>skjold snapshot</c>: reads a cluster into one JSON file (secret values never included).</summary>
internal static class SnapshotCommand
{
    public static Command Create(CliContext context)
    {
        var cluster = new ClusterOptions();
        var output = new Option<string>("--output", "-o") { Description = "Snapshot file to write", Required = true };
        var format = new Option<string>("--format", "-f") { Description = "table or json (the summary of what was read)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("snapshot", "Read a cluster through the Kubernetes API into one JSON file for skjold scan and skjold rbac. Secrets are read as metadata only.") { output, format };
        cluster.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var path = Path.GetFullPath(parse.GetValue(output)!, context.WorkingDirectory);
            var partial = path + ".partial";
            try
            {
                // The configuration is resolved before any file is made; the snapshot is written beside
                // its name and moved into place only when complete.
                using var client = cluster.Client(parse, context);
                var line = ProgressLine.For(parse, context);
                SnapshotSummary summary;
                await using (var file = File.Create(partial))
                {
                    summary = await new ClusterReader(client).WriteSnapshotAsync(file, context.Time, ClusterOptions.Progress(line), ct).ConfigureAwait(false);
                }

                File.Move(partial, path, overwrite: true);
                line.Done();
                var total = summary.Counts.Values.Sum();
                if (parse.GetValue(format) == "json")
                {
                    var counts = new System.Text.Json.Nodes.JsonObject();
                    foreach (var (kind, n) in summary.Counts.Where(c => c.Value > 0).OrderBy(c => c.Key, StringComparer.Ordinal))
                    {
                        counts[kind] = n;
                    }

                    await context.Out.WriteLineAsync(new System.Text.Json.Nodes.JsonObject
                    {
                        ["file"] = parse.GetValue(output),
                        ["serverVersion"] = summary.ServerVersion,
                        ["objects"] = total,
                        ["counts"] = counts,
                        ["missing"] = new System.Text.Json.Nodes.JsonArray([.. summary.Missing.Select(m => (System.Text.Json.Nodes.JsonNode)m)]),
                    }.ToJsonString(Summary.IndentedOptions)).ConfigureAwait(false);
                }
                else
                {
                    await context.Out.WriteLineAsync($"Wrote {total:N0} objects of {summary.Counts.Count(c => c.Value > 0)} kinds from Kubernetes {summary.ServerVersion ?? "(version unknown)"} to {parse.GetValue(output)}.").ConfigureAwait(false);
                }
                if (summary.Missing.Count > 0)
                {
                    await context.Error.WriteLineAsync($"warning: could not read {string.Join(", ", summary.Missing)}; the snapshot is partial").ConfigureAwait(false);
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ClusterOptions.IsClusterError(ex))
            {
                File.Delete(partial);
                await context.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }
        });
        return command;
    }
}
