using System.CommandLine;
using System.Reflection;
using System.Text.Json;
using Skjold.Engine.Checks;
using Skjold.Engine.Cluster;
using Skjold.Engine.Compliance;
using Skjold.Engine.Pss;

namespace Skjold.Cli;

/// <summary><c>skjold version</c> (and <c>--version</c>): the build and the data it judges by.</summary>
internal static class VersionCommand
{
    public static Command Create(CliContext context)
    {
        var format = new Option<string>("--format", "-f") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("version", """
            Print the version, the commit it was built from, the build date, the .NET runtime and the versions of the data Skjold judges by (Pod Security Standards, the Kubernetes release table, the check catalog and the compliance frameworks).
            Examples:
              skjold version
              skjold version -f json
              kubectl skjold version
            Exit codes: 0 printed.
            """) { format };
        command.SetAction(parse =>
        {
            var info = Collect();
            if (parse.GetValue(format) == "json")
            {
                context.Out.WriteLine(JsonSerializer.Serialize(info, CliJsonContext.Relaxed.GetTypeInfo(typeof(VersionInfo))));
            }
            else
            {
                Write(info, context.Out);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static void Write(VersionInfo info, TextWriter w)
    {
        w.WriteLine($"skjold {info.Version}");
        w.WriteLine($"  commit:            {info.Commit ?? "unknown"}{(info.CommitDate is { } d ? $" ({d})" : string.Empty)}");
        w.WriteLine($"  built:             {info.BuildDate ?? "unknown"}");
        w.WriteLine($"  runtime:           {info.Runtime} on {info.Platform}");
        w.WriteLine($"  pod security:      levels {string.Join(", ", info.PssLevels)}; policy versions v1.0 to {info.PssNewest}");
        w.WriteLine($"  kubernetes:        release table 1.{info.ReleasesOldest} to 1.{info.ReleasesNewest}");
        w.WriteLine($"  checks:            {info.Checks}");
        w.WriteLine($"  frameworks:        {string.Join(", ", info.Frameworks)}");
    }

    /// <summary>The version line alone (no data files read).</summary>
    public static string Short()
    {
        var (version, commit, commitDate, buildDate) = Build();
        return $"skjold {version} (commit {commit ?? "unknown"}{(commitDate is null ? string.Empty : $" of {commitDate}")}, built {buildDate ?? "unknown"}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})";
    }

    private static (string Version, string? Commit, string? CommitDate, string? BuildDate) Build()
    {
        var assembly = typeof(VersionCommand).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        string? Meta(string key) => assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } v ? v : null;
        return (plus < 0 ? informational : informational[..plus], plus < 0 ? null : informational[(plus + 1)..], Meta("SkjoldCommitDate"), Meta("SkjoldBuildDate"));
    }

    public static VersionInfo Collect()
    {
        var (version, commit, commitDate, buildDate) = Build();
        var releases = ReferenceData.Releases;
        return new VersionInfo(
            version,
            commit,
            commitDate,
            buildDate,
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier,
            ["privileged", "baseline", "restricted"],
            $"v1.{PssVersion.NewestKnownMinor}",
            releases.Min(r => r.Minor),
            releases.Max(r => r.Minor),
            CheckCatalog.Default.All.Count,
            [.. FrameworkCatalog.Default.Frameworks.Select(f => $"{f.Id} {f.Version}")]);
    }
}

/// <summary>What <c>skjold version</c> prints.</summary>
internal sealed record VersionInfo(
    string Version,
    string? Commit,
    string? CommitDate,
    string? BuildDate,
    string Runtime,
    string Platform,
    IReadOnlyList<string> PssLevels,
    string PssNewest,
    int ReleasesOldest,
    int ReleasesNewest,
    int Checks,
    IReadOnlyList<string> Frameworks);
