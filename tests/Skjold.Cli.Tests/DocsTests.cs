using Skjold.Engine.Checks;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

public sealed class DocsTests
{
    [Fact]
    public void ChecksReference_IsUpToDateWithCatalog()
    {
        var path = Path.Combine(RepoPaths.Root, "docs", "checks.md");
        var expected = ChecksCommand.Markdown(CheckCatalog.Default);
        Assert.True(File.ReadAllText(path) == expected, "docs/checks.md is stale: run `dotnet run --project src/Skjold.Cli -- checks --format markdown > docs/checks.md`");
    }

    [Fact]
    public void OutputDoc_CountsAreThoseOfTheExamples()
    {
        var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "output.md"));
        var run = CliRunner.Run(RepoPaths.Root, null, "scan", "examples", "-f", "json");
        using var json = System.Text.Json.JsonDocument.Parse(run.Out);
        var s = json.RootElement.GetProperty("summary");
        var by = s.GetProperty("bySeverity");
        Assert.Contains($"\"resources\": {s.GetProperty("resources").GetInt32()}, \"findings\": {s.GetProperty("findings").GetInt32()},", doc, StringComparison.Ordinal);
        Assert.Contains($"\"bySeverity\": {{\"critical\": {by.GetProperty("critical").GetInt32()}, \"high\": {by.GetProperty("high").GetInt32()}, \"medium\": {by.GetProperty("medium").GetInt32()}, \"low\": {by.GetProperty("low").GetInt32()}, \"info\": {by.GetProperty("info").GetInt32()}}}", doc, StringComparison.Ordinal);
    }

    [Fact]
    public void ComplianceDoc_ExitCodesOfReportVerify_AreTheCommands()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-docs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "not-a-bundle.json"), "garbage");
            Assert.Equal(0, CliRunner.Run(dir, null, "report", "keygen", "-o", "keys").ExitCode);
            Assert.Equal(2, CliRunner.Run(dir, null, "report", "verify", "not-a-bundle.json", "--public-key", "keys/evidence-signing.pub.pem").ExitCode);
            File.WriteAllText(Path.Combine(dir, "corrupt.json"), "{\"kind\":\"SkjoldEvidenceBundle\",\"report\":\"***\",\"sha256\":\"00\",\"signature\":\"***\",\"keyId\":\"x\"}");
            var corrupt = CliRunner.Run(dir, null, "report", "verify", "corrupt.json", "--public-key", "keys/evidence-signing.pub.pem");
            Assert.True(corrupt.ExitCode == 1, corrupt.Out + corrupt.Error);
            var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "compliance.md"));
            Assert.Contains("is not an evidence bundle at all (not JSON, another kind) or a public key that is not PEM exits 2", doc, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// Every command line the docs show (synopses and examples in code blocks) names commands and
    /// options the CLI has: a renamed or removed flag breaks this test, not a reader's pipeline.
    /// The runnable README lines are run for real by <see cref="ReadmeCommandsTests"/>.
    /// </summary>
    [Fact]
    public void DocsCommandLines_NameCommandsAndOptionsThatExist()
    {
        var root = SkjoldCli.Build(new CliContext());
        var files = Directory.GetFiles(Path.Combine(RepoPaths.Root, "docs"), "*.md").Append(Path.Combine(RepoPaths.Root, "README.md"));
        var checkedLines = 0;
        var problems = new List<string>();
        foreach (var file in files)
        {
            var inBlock = false;
            var lines = File.ReadAllLines(file);
            for (var n = 0; n < lines.Length; n++)
            {
                var line = lines[n].Trim();
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    inBlock = !inBlock;
                    continue;
                }

                if (!inBlock)
                {
                    continue;
                }

                foreach (var part in line.Split('#')[0].Split(" && "))
                {
                    checkedLines += CheckCommandLine(root, part.Trim(), $"{Path.GetFileName(file)}:{n + 1}", problems);
                }
            }
        }

        Assert.True(checkedLines > 40, $"only {checkedLines} command lines found in the docs");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static int CheckCommandLine(System.CommandLine.RootCommand root, string line, string where, List<string> problems)
    {
        const string DotnetRun = "dotnet run --project src/Skjold.Cli -c Release -- ";
        line = line.StartsWith("$ ", StringComparison.Ordinal) ? line[2..] : line;
        line = line.StartsWith("kubectl skjold ", StringComparison.Ordinal) ? line["kubectl ".Length..] : line;
        line = line.StartsWith(DotnetRun, StringComparison.Ordinal) ? "skjold " + line[DotnetRun.Length..] : line;
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != "skjold")
        {
            return 0;
        }

        System.CommandLine.Command command = root;
        var i = 1;
        while (i < words.Length && command.Subcommands.FirstOrDefault(c => c.Name == words[i]) is { } sub)
        {
            command = sub;
            i++;
        }

        if (command.Subcommands.Count > 0 && command.Arguments.Count == 0 && i < words.Length && !words[i].StartsWith('-') && !words[i].StartsWith('[') && !words[i].StartsWith('('))
        {
            problems.Add($"{where}: '{words[i]}' is not a subcommand of '{command.Name}'");
        }

        var names = command.Options.Concat(root.Options.Where(o => o.Recursive))
            .SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var word in words.Skip(i))
        {
            var m = System.Text.RegularExpressions.Regex.Match(word, "^[\\[(|]*(--?[a-zA-Z][a-zA-Z0-9-]*)");
            if (m.Success && !names.Contains(m.Groups[1].Value) && m.Groups[1].Value != "-")
            {
                problems.Add($"{where}: '{command.Name}' has no option {m.Groups[1].Value}");
            }
        }

        return 1;
    }

    [Fact]
    public void Readme_GivesTheTwoCommands()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        Assert.Contains("dotnet run --project src/Skjold.Cli -c Release -- scan examples/", readme, StringComparison.Ordinal);
        Assert.Contains("dotnet test Skjold.slnx", readme, StringComparison.Ordinal);
        var ci = File.ReadAllText(Path.Combine(RepoPaths.Root, ".ci", "run"));
        Assert.Contains("dotnet test Skjold.slnx", ci, StringComparison.Ordinal);
    }
}
