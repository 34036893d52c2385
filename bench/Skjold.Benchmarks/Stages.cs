using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Skjold.Kubernetes.Loading;

namespace Skjold.Benchmarks;

/// <summary>Times the stages of YAML loading on one thread, to see where the time goes.</summary>
internal static class Stages
{
    public static int Run(int objects)
    {
        var root = Directory.CreateTempSubdirectory("skjold-stages-").FullName;
        try
        {
            var dir = Corpus.WriteYaml(root, objects);
            var texts = Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
            var converter = new YamlJsonConverter(LoaderOptions.Default);
            for (var round = 0; round < 3; round++)
            {
                var chunks = new List<(string Text, int Line)>();
                var split = Time(() =>
                {
                    chunks.Clear();
                    foreach (var t in texts)
                    {
                        var bytes = System.Text.Encoding.UTF8.GetBytes(t);
                        foreach (var c in YamlDocumentSplitter.Split(bytes))
                        {
                            chunks.Add((System.Text.Encoding.UTF8.GetString(bytes, c.Start, c.Length), c.FirstLine));
                        }
                    }
                });
                var splitOnly = Time(() =>
                {
                    var n = 0;
                    foreach (var t in texts)
                    {
                        n += YamlDocumentSplitter.Split(System.Text.Encoding.UTF8.GetBytes(t)).Count;
                    }
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"split only {splitOnly:F0} ms"));
                var parse = Time(() =>
                {
                    foreach (var (text, _) in chunks)
                    {
                        var p = new YamlDotNet.Core.Parser(new StringReader(text));
                        while (p.MoveNext())
                        {
                        }
                    }
                });
                var docs = new List<ConvertedDocument>();
                var convert = Time(() =>
                {
                    docs.Clear();
                    foreach (var (text, line) in chunks)
                    {
                        docs.AddRange(converter.Convert(text, line - 1));
                    }
                });
                var json = Time(() =>
                {
                    foreach (var d in docs)
                    {
                        JsonDocument.Parse(d.Json).Dispose();
                    }
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"split {split:F0} ms, YamlDotNet parse {parse:F0} ms, convert (parse+write) {convert:F0} ms, JsonDocument.Parse {json:F0} ms; {chunks.Count} docs"));
            }

            return 0;
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalMilliseconds;
    }
}
