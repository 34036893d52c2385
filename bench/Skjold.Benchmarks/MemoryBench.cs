using System.Globalization;
using System.Text;

namespace Skjold.Benchmarks;

/// <summary>
/// Issue 16 item 4: peak resident memory (VmHWM) and wall time of scan, report, rbac and netpol on
/// the 50,000-object YAML corpus and on the 30 MiB file of privileged pods, against the target of
/// 4x the input size plus 150 MB. Runs the CLI as a child process (the AOT binary when given).
/// </summary>
internal static class MemoryBench
{
    public static async Task<int> RunAsync(string? binary, int rounds)
    {
        var cli = binary ?? ProcessProbe.Cli;
        if (cli is null || !File.Exists(cli))
        {
            Console.WriteLine("build src/Skjold.Cli in Release first, or give the AOT binary (artifacts/aot/skjold)");
            return 2;
        }

        var root = Directory.CreateTempSubdirectory("skjold-memory-bench-").FullName;
        try
        {
            var corpus = Corpus.WriteYaml(root, 50_000);
            var pods = Path.Combine(root, "pods.yaml");
            var sb = new StringBuilder();
            for (var i = 0; sb.Length < 30 * 1024 * 1024; i++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: apps}}\nspec:\n  containers:\n  - {{name: c, image: nginx, securityContext: {{privileged: true}}}}\n---\n");
            }

            File.WriteAllText(pods, sb.ToString());
            var inputs = new (string Name, string Path, long Bytes)[]
            {
                ("50,000-object corpus", corpus, Directory.GetFiles(corpus).Sum(f => new FileInfo(f).Length)),
                ("30 MiB of pods", pods, new FileInfo(pods).Length),
            };
            string[][] commands =
            [
                ["scan", "{0}", "--max-file-size", "64MiB", "--format", "json", "--output", "/dev/null"],
                ["scan", "{0}", "--max-file-size", "64MiB", "--output", "/dev/null"],
                ["report", "--framework", "cis", "{0}", "--format", "json", "--output", "/dev/null"],
                ["rbac", "who-can", "get", "secrets", "{0}"],
                ["netpol", "reach", "--from", "apps/p0", "--to", "apps/p1:80/TCP", "{0}"],
            ];
            Console.WriteLine($"{Path.GetFileName(cli)}; {rounds} rounds each, medians; 2 cores");
            Console.WriteLine("| command | input | size | target (4x + 150 MB) | peak RSS | wall | exit |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var (name, path, bytes) in inputs)
            {
                foreach (var command in commands)
                {
                    var args = command.Select(a => a == "{0}" ? path : a).ToArray();
                    var runs = new List<(double Ms, long Peak, int Exit)>();
                    for (var r = 0; r < rounds; r++)
                    {
                        runs.Add(await ProcessProbe.RunAsync(cli, args, root).ConfigureAwait(false));
                    }

                    var peak = runs.Select(x => x.Peak).Order().ElementAt(runs.Count / 2);
                    var ms = runs.Select(x => x.Ms).Order().ElementAt(runs.Count / 2);
                    var target = (4 * bytes) + (150L << 20);
                    var shown = string.Join(' ', command.Where(a => a != "{0}" && a != "--max-file-size" && a != "64MiB" && a != "/dev/null" && a != "--output"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| `{shown}` | {name} | {bytes / 1048576.0:F1} MiB | {target / 1048576.0:F0} MiB | {peak / 1048576.0:F0} MiB{(peak <= target ? string.Empty : " (over)")} | {ms / 1000:F2} s | {runs[^1].Exit} |"));
                }
            }

            return 0;
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
