using System.CommandLine;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Skjold.Audit.Ingest;

namespace Skjold.Cli;

/// <summary><c>skjold audit ingest (and what counts as an audit log)</c>.</summary>
internal static partial class AuditCommand
{
    /// <summary>
    /// Why a file is not an API server audit log (its first 100 non-empty lines, or first MiB, hold
    /// no audit event), or null. A file that is one is ingested line by line, bad lines recorded.
    /// </summary>
    internal static string? NotAnAuditLog(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        var lines = 0;
        long read = 0;
        string? line;
        string? firstError = null;
        while (lines < 100 && read < 1 << 20 && (line = reader.ReadLine()) is not null)
        {
            read += line.Length + 1;
            if (line.Length > 1 << 20)
            {
                line = line[..(1 << 20)];
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            lines++;
            if (Skjold.Audit.Events.AuditEventReader.TryReadLine(line, out _, out var error))
            {
                return null;
            }

            firstError ??= error;
        }

        return lines == 0 ? null : $"holds no Kubernetes audit event in its first {lines} lines (line 1: {firstError})";
    }

    private static Command Ingest(CliContext context)
    {
        var store = new AuditStoreOptions();
        var file = new Argument<string>("FILE") { Description = "Audit log file written by the API server's log backend (JSON lines)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep reading as the file grows, across rotation; the read offset is saved with each batch" };
        // -f is --follow here, as in kubectl logs -f and tail -f; the format is --format only.
        var format = new Option<string>("--format") { Description = "table or json (the summary)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("ingest", "Seal the events of a log-backend audit file.") { file, follow, format };
        store.AddTo(command);
        var detection = new DetectionOptions("--detect-rules", withConfig: true);
        detection.AddTo(command);
        command.SetAction(async (parse, ct) => await WithLogAsync(store, parse, context, ct, async (log, _) =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!, context.WorkingDirectory);
            if (!parse.GetValue(follow) && !File.Exists(path))
            {
                await context.Error.WriteLineAsync($"error: {parse.GetValue(file)}: no such file").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            if (File.Exists(path) && NotAnAuditLog(path) is { } why)
            {
                await context.Error.WriteLineAsync($"error: {parse.GetValue(file)} {why}; nothing was sealed (the log backend writes one JSON audit.k8s.io Event per line)").ConfigureAwait(false);
                return ExitCodes.UsageOrInputError;
            }

            var line = ProgressLine.For(parse, context);
            if (!detection.TryLoad(parse, context, null, out var rules, out var outputs))
            {
                return ExitCodes.UsageOrInputError;
            }

            var alerts = 0;
            // Logs go to stderr: stdout carries the result (-f json is read by jq and by CI).
            using var loggers = LoggerFactory.Create(b => b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            var detector = await DetectionOptions.StartAsync(log, store.Location(parse, context), rules, outputs, loggers, context, ct, a =>
            {
                Interlocked.Increment(ref alerts);
                context.Error.WriteLine($"alert: {Skjold.Detection.Falco.FalcoRuleSet.PriorityName(a.Priority)} {a.Rule} (leaf {a.Leaves[0]}): {a.Output}");
            }, detection.AutoOpen).ConfigureAwait(false);
            var stats = await new LogFileIngester(log, path, m => context.Error.WriteLine(m), progress: line.Of<long>(n => $"sealed {n:N0} events..."), time: context.Time).RunAsync(parse.GetValue(follow), ct).ConfigureAwait(false);
            line.Done();
            await detector.DisposeAsync().ConfigureAwait(false); // every alert is sealed (and queued for the outputs) before the final signature

            await log.SignNowAsync(CancellationToken.None).ConfigureAwait(false);
            await context.Out.WriteLineAsync(parse.GetValue(format) == "json"
                ? new JsonObject
                {
                    ["file"] = parse.GetValue(file),
                    ["lines"] = stats.Lines,
                    ["sealed"] = stats.Appended,
                    ["rejected"] = stats.Rejected,
                    ["rotations"] = stats.Rotations,
                    ["alerts"] = alerts,
                }.ToJsonString(Summary.IndentedOptions)
                : $"Read {stats.Lines} lines: sealed {stats.Appended} events, rejected {stats.Rejected} (recorded as ingest-rejected events), followed {stats.Rotations} rotations{(rules is null ? string.Empty : $"; {alerts} detection alerts sealed")}.").ConfigureAwait(false);
            return stats.Rejected > 0 ? ExitCodes.UsageOrInputError : ExitCodes.Ok;
        }).ConfigureAwait(false));
        return command;
    }
}
