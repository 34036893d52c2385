using System.Diagnostics;
using System.Globalization;
using Skjold.Engine;
using Skjold.Engine.Policy;
using Skjold.Kubernetes.Loading;

namespace Skjold.Benchmarks;

/// <summary>
/// Scan throughput on a generated corpus: loading alone (the parse baseline) against loading plus
/// scanning, for YAML files and for one JSON List, measured in the same run. Reports medians.
/// </summary>
internal static class Throughput
{
    public static int Run(int objects, int rounds)
    {
        var root = Directory.CreateTempSubdirectory("skjold-corpus-").FullName;
        try
        {
            Console.WriteLine($"Generating {objects:N0} objects in {root} ...");
            var yamlDir = Corpus.WriteYaml(root, objects);
            var json = Corpus.WriteJson(root, yamlDir);
            Console.WriteLine($"YAML: {Size(yamlDir)}, JSON: {new FileInfo(json).Length / 1024.0 / 1024.0:F1} MiB; {Environment.ProcessorCount} cores; {rounds} rounds, median reported");
            Console.WriteLine();
            RawYamlParse(yamlDir);
            Measure("YAML (500 multi-document files)", [yamlDir], objects, rounds);
            Measure("JSON (one kubectl List)", [json], objects, rounds);
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Measure(string label, string[] paths, int objects, int rounds)
    {
        var loader = new ManifestLoader(new LoaderOptions { MaxFileBytes = 1L << 30 });
        var scanner = new Scanner(ScanPolicy.Default);

        // Warm up both paths so that JIT and tiering do not count.
        for (var i = 0; i < 2; i++)
        {
            scanner.Scan(loader.LoadPaths(paths).Resources);
        }

        var parse = new List<double>();
        var full = new List<double>();
        var findings = 0;
        for (var i = 0; i < rounds; i++)
        {
            // Alternate the order so that drift on a shared machine hits both equally.
            if (i % 2 == 0)
            {
                parse.Add(Time(() => loader.LoadPaths(paths)));
                full.Add(Time(() => findings = scanner.Scan(loader.LoadPaths(paths).Resources).Findings.Count));
            }
            else
            {
                full.Add(Time(() => findings = scanner.Scan(loader.LoadPaths(paths).Resources).Findings.Count));
                parse.Add(Time(() => loader.LoadPaths(paths)));
            }
        }

        var loadedOnce = loader.LoadPaths(paths).Resources;
        var scanFirst = Time(() => scanner.Scan(loadedOnce));
        var scanAgain = Time(() => scanner.Scan(loadedOnce));
        var locateOff = 0.0;
        var evaluateOnly = Time(() =>
        {
            var index = new Skjold.Engine.Workloads.ResourceIndex(loadedOnce);
            var f = new List<Skjold.Engine.Model.Finding>();
            var sup = new List<Skjold.Engine.Model.SuppressedFinding>();
            var d = new List<Skjold.Engine.Model.Diagnostic>();
            foreach (var r in loadedOnce)
            {
                scanner.Evaluate(r, index, DateTimeOffset.UtcNow, f, sup, d);
            }

            locateOff = f.Count;
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  scan of loaded resources: first {scanFirst:F0} ms (builds line tables), again {scanAgain:F0} ms"));
        var p = Median(parse);
        var f = Median(full);
        Console.WriteLine($"{label}:");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  parse only      : {p,8:F0} ms  ({objects / (p / 1000):N0} objects/s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  parse + scan    : {f,8:F0} ms  ({objects / (f / 1000):N0} objects/s, {findings:N0} findings)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  scan / parse    : {f / p,8:F2}x"));
        Console.WriteLine();
    }

    /// <summary>YamlDotNet's parser alone over the same files, single-threaded: the floor for YAML input.</summary>
    private static void RawYamlParse(string dir)
    {
        var files = Directory.GetFiles(dir).Select(File.ReadAllText).ToList();
        for (var round = 0; round < 2; round++)
        {
            var events = 0L;
            var ms = Time(() =>
            {
                foreach (var text in files)
                {
                    var parser = new YamlDotNet.Core.Parser(new StringReader(text));
                    while (parser.MoveNext())
                    {
                        events++;
                    }
                }
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"YamlDotNet parser alone, 1 thread: {ms:F0} ms for {events:N0} events"));
        }
    }

    private static double Time(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Size(string dir) =>
        string.Create(CultureInfo.InvariantCulture, $"{Directory.GetFiles(dir).Sum(f => new FileInfo(f).Length) / 1024.0 / 1024.0:F1} MiB");
}
