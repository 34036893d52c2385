using System.Diagnostics;
using System.Text;

namespace Skjold.Benchmarks;

/// <summary>
/// Time and peak memory of `skjold scan` on hostile and oversized input (the hostile-input tests
/// assert exit codes and messages; the numbers live here): alias and merge bombs, deep nesting, a
/// million-item List, a 10 MB scalar, a 90 KB credential-looking value, 30 MiB of privileged pods,
/// a directory full of file-system traps, and /dev/zero named on the command line.
/// </summary>
internal static class HostileInputBench
{
    public static async Task<int> RunAsync(int rounds)
    {
        if (ProcessProbe.Cli is not { } cli)
        {
            Console.WriteLine("build src/Skjold.Cli in Release first");
            return 2;
        }

        var dir = Directory.CreateTempSubdirectory("skjold-hostile-bench-").FullName;
        try
        {
            var cases = new List<(string Name, string[] Args, long InputBytes)>();
            void Case(string name, string file, string content, params string[] extra)
            {
                File.WriteAllText(Path.Combine(dir, file), content);
                cases.Add((name, ["scan", file, "--format", "json", "--output", "/dev/null", .. extra], new FileInfo(Path.Combine(dir, file)).Length));
            }

            var lol = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: a}\ndata:\n  a0: &a0 lol\n");
            for (var i = 1; i < 12; i++)
            {
                lol.Append($"  a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
            }

            Case("alias bomb (10^11 nodes)", "lol.yaml", lol.ToString());
            var merge = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m, namespace: a}\ndata:\n  m0: &m0 {k: v}\n");
            for (var i = 1; i <= 40; i++)
            {
                merge.Append($"  m{i}: &m{i} {{<<: *m{i - 1}, <<: *m{i - 1}, k{i}: v}}\n");
            }

            Case("merge-key bomb (40 levels, 2^40)", "merge.yaml", merge.ToString());
            Case("nesting 10,000 deep", "deep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: a}\ndata:\n  x: " + new string('[', 10_000) + new string(']', 10_000) + "\n");
            Case("List of 1,000,000 {} items", "million.json", "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" + string.Join(",", Enumerable.Repeat("{}", 1_000_000)) + "]}");
            Case("10 MB scalar", "big.yaml", $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big, namespace: a}}\ndata:\n  blob: \"{new string('a', 10_000_000)}\"\n");
            Case("90 KB credential-looking env value", "env.yaml", $"apiVersion: v1\nkind: Pod\nmetadata: {{name: env, namespace: a}}\nspec:\n  containers:\n  - {{name: c, image: nginx, env: [{{name: SETTING, value: \"://{new string('u', 90_000)}:\"}}]}}\n");
            var pods = new StringBuilder();
            for (var i = 0; pods.Length < 30 * 1024 * 1024; i++)
            {
                pods.Append($"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: apps}}\nspec:\n  containers:\n  - {{name: c, image: nginx, securityContext: {{privileged: true}}}}\n---\n");
            }

            Case("30 MiB of privileged pods", "pods.yaml", pods.ToString(), "--max-file-size", "64MiB");

            var traps = Directory.CreateDirectory(Path.Combine(dir, "traps")).FullName;
            File.WriteAllText(Path.Combine(traps, "pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, image: nginx}]}\n");
            File.CreateSymbolicLink(Path.Combine(traps, "loop"), traps);
            File.CreateSymbolicLink(Path.Combine(traps, "zero.yaml"), "/dev/zero");
            Directory.CreateDirectory(Path.Combine(traps, "sub"));
            File.CreateSymbolicLink(Path.Combine(traps, "sub", "up"), "..");
            using (var mkfifo = Process.Start("mkfifo", Path.Combine(traps, "pipe.yaml")))
            {
                mkfifo.WaitForExit();
            }

            cases.Add(("directory of traps (loop, up -> .., FIFO, /dev/zero link)", ["scan", "traps", "--format", "json", "--output", "/dev/null"], 0));
            File.CreateSymbolicLink(Path.Combine(dir, "zero.yaml"), "/dev/zero");
            cases.Add(("/dev/zero named on the command line", ["scan", "zero.yaml", "--format", "json", "--output", "/dev/null"], 0));

            Console.WriteLine($"{rounds} rounds each, medians; 2 cores");
            Console.WriteLine("| input | size | exit | wall time | peak RSS |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, args, bytes) in cases)
            {
                var runs = new List<(double Ms, long Peak, int Exit)>();
                for (var r = 0; r < rounds; r++)
                {
                    runs.Add(await ProcessProbe.RunAsync(cli, args, dir).ConfigureAwait(false));
                }

                var ms = runs.Select(x => x.Ms).Order().ElementAt(runs.Count / 2);
                var peak = runs.Select(x => x.Peak).Order().ElementAt(runs.Count / 2);
                Console.WriteLine($"| {name} | {(bytes > 0 ? $"{bytes / 1048576.0:F1} MiB" : "-")} | {runs[0].Exit} | {ms / 1000:F2} s | {peak / 1048576.0:F0} MiB |");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
