using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using Skjold.Reports;

namespace Skjold.Cli;

/// <summary>The command line before and after parsing: -f/--format forms normalised, -o - as standard output, YAML through JSON, and suggestions for what was not recognised.</summary>
internal static partial class SkjoldCli
{
    /// <summary>The index of the value of -f/--format (or of --format=VALUE), if given.</summary>
    private static int? FormatIndex(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if ((args[i] is "-f" or "--format") && i + 1 < args.Length)
            {
                return i + 1;
            }

            if (args[i].StartsWith("--format=", StringComparison.Ordinal))
            {
                return i;
            }
        }

        return null;
    }

    private static int AsYaml(CliContext context, Func<int> invoke, string? ownFile)
    {
        var (code, text) = Capture(context, invoke, plain: false);
        var stdout = context.Out;
        try
        {
            stdout.Write(text.Trim().Length == 0 ? text : YamlText.FromJson(text));
            if (ownFile is not null && File.Exists(ownFile) && code != ExitCodes.UsageOrInputError)
            {
                File.WriteAllText(ownFile, YamlText.FromJson(File.ReadAllText(ownFile)), new System.Text.UTF8Encoding(false));
            }
        }
        catch (JsonException)
        {
            stdout.Write(text); // not JSON after all (a message): as it was
        }

        return code;
    }

    /// <summary>md and yml are accepted wherever markdown and yaml are (one name per format, both spellings).</summary>
    private static string[] NormalizeFormats(string[] args)
    {
        var result = (string[])args.Clone();
        for (var i = 0; i < result.Length; i++)
        {
            if ((result[i] is "-f" or "--format") && i + 1 < result.Length && FormatAliases.TryGetValue(result[i + 1], out var canonical))
            {
                result[i + 1] = canonical;
            }
            else if (result[i].StartsWith("--format=", StringComparison.Ordinal) && FormatAliases.TryGetValue(result[i][9..], out var c))
            {
                result[i] = "--format=" + c;
            }
        }

        return result;
    }

    private static string[] WithoutStdoutOutput(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if ((args[i] is "-o" or "--output") && i + 1 < args.Length && args[i + 1] == "-")
            {
                i++;
                continue;
            }

            if (args[i] is "--output=-" or "-o=-" or "-o-")
            {
                continue;
            }

            result.Add(args[i]);
        }

        return [.. result];
    }

    /// <summary>"did you mean" for a mistyped command or option, by edit distance to what the command has.</summary>
    private static string? Unrecognized(ParseError error) =>
        System.Text.RegularExpressions.Regex.Match(error.Message, "^Unrecognized command or argument '(?<t>[^']+)'") is { Success: true } m ? m.Groups["t"].Value : null;

    private static string Suggestion(ParseError error, ParseResult parse)
    {
        if (Unrecognized(error) is not { } token)
        {
            return string.Empty;
        }

        var command = parse.CommandResult.Command;
        IEnumerable<string> candidates = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Append(o.Name))
            : command.Subcommands.Select(c => c.Name);
        var best = candidates.Distinct().Select(c => (Name: c, Distance: Distance(token, c))).Where(c => c.Distance <= Math.Max(1, c.Name.Length / 3)).OrderBy(c => c.Distance).FirstOrDefault();
        return best.Name is null ? string.Empty : $"; did you mean '{best.Name}'?";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1); // a swap of two letters is one edit
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static string Describe(Exception ex) => ex switch
    {
        OutOfMemoryException => "out of memory; the input is too large for this machine (see docs/scan.md for the limits)",
        IOException or UnauthorizedAccessException or Skjold.Audit.Storage.AuditStoreException or Skjold.Reports.Evidence.EvidenceInputException => ex.Message,
        System.Data.Common.DbException => $"the audit store failed: {ex.Message.ReplaceLineEndings(" ")}",
        _ => $"unexpected {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}",
    };
}
