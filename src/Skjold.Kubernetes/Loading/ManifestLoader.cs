using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Skjold.Engine.Model;
using YamlDotNet.Core;

namespace Skjold.Kubernetes.Loading;

/// <summary>
/// Reads Kubernetes objects from files, directories and stdin: multi-document YAML, JSON (one or
/// several values per file), <c>kind: List</c> and typed <c>*List</c> objects such as kubectl and
/// API dumps. Every resource keeps its file and line. Bad input becomes diagnostics with file,
/// line and column, and the rest of the input is still read.
/// </summary>
public sealed partial class ManifestLoader
{
    public const string StdinName = "-";

    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    /// <summary>
    /// Files a directory walk passes over because they are not Kubernetes objects: Skjold's own
    /// config and Helm chart metadata. Named explicitly on the command line they are still read.
    /// </summary>
    private static readonly string[] SkippedInDirectories = ["skjold.yaml", ".skjold.yaml", "Chart.yaml", "Chart.lock"];

    [ThreadStatic]
    private static YamlJsonConverter? t_converter;

    [ThreadStatic]
    private static LoaderOptions? t_converterOptions;

    private readonly LoaderOptions _options;
    private readonly JsonReaderOptions _readerOptions;

    public ManifestLoader(LoaderOptions? options = null)
    {
        _options = options ?? LoaderOptions.Default;
        _readerOptions = new JsonReaderOptions
        {
            MaxDepth = _options.MaxDepth + 8,
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = false,
        };
    }

    public LoaderOptions Options => _options;

    /// <summary>
    /// Loads every path: files, directories (recursively, .yaml/.yml/.json) and <c>-</c> for
    /// <paramref name="stdin"/>. Files are read in a stable order.
    /// </summary>
    public LoadResult LoadPaths(IEnumerable<string> paths, Func<Stream>? stdin = null)
    {
        var files = new List<(string Name, string? Path)>();
        var diagnostics = new List<Diagnostic>();
        foreach (var p in paths)
        {
            if (p == StdinName)
            {
                files.Add((StdinName, null));
            }
            else if (Directory.Exists(p))
            {
                var found = Walk(p, diagnostics);
                if (found.Count == 0)
                {
                    diagnostics.Add(Diagnostic.Warning("no-manifests", $"{p}: directory holds no .yaml, .yml or .json files"));
                }

                files.AddRange(found.Select(f => (f, (string?)f)));
            }
            else if (File.Exists(p))
            {
                if (IsKustomization(Path.GetFileName(p)))
                {
                    diagnostics.Add(KustomizationNote(p));
                }
                else
                {
                    files.Add((p, p));
                }
            }
            else
            {
                diagnostics.Add(Diagnostic.Error("not-found", $"{p}: no such file or directory"));
            }
        }

        // Files are independent: read them in parallel and keep the input order in the result.
        var perFile = new (List<Resource> Resources, List<Diagnostic> Diagnostics, long Bytes)[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var resources = new List<Resource>();
            var diags = new List<Diagnostic>();
            var (name, path) = files[i];
            var bytes = path is null ? ReadStdin(stdin, diags) : ReadFile(path, diags);
            if (bytes is not null)
            {
                LoadBytes(name, bytes, resources, diags);
            }

            perFile[i] = (resources, diags, bytes?.Length ?? 0);
        });

        var all = new List<Resource>();
        long total = 0;
        foreach (var (resources, diags, bytes) in perFile)
        {
            all.AddRange(resources);
            diagnostics.AddRange(diags);
            total += bytes;
        }

        NamespaceDefaults.Apply(all, _options.DefaultNamespace);
        return new LoadResult(all, diagnostics, files.Count, total);
    }

    /// <summary>Loads YAML or JSON text held in memory (for tests and the webhook).</summary>
    public LoadResult LoadText(string name, string text)
    {
        var resources = new List<Resource>();
        var diagnostics = new List<Diagnostic>();
        var bytes = Encoding.UTF8.GetBytes(text);
        LoadBytes(name, bytes, resources, diagnostics);
        NamespaceDefaults.Apply(resources, _options.DefaultNamespace);
        return new LoadResult(resources, diagnostics, 1, bytes.Length);
    }

    /// <summary>Problems reported per file; the rest are counted in one last diagnostic, so a hostile file cannot fill memory with them.</summary>
    public const int MaxDiagnosticsPerFile = 100;

    [ThreadStatic]
    private static int t_unreported;

    /// <summary>Loads one file's bytes, appending resources and diagnostics (at most <see cref="MaxDiagnosticsPerFile"/> of them, plus a count of the rest).</summary>
    public void LoadBytes(string name, byte[] bytes, List<Resource> resources, List<Diagnostic> diagnostics)
    {
        var capped = new List<Diagnostic>();
        t_unreported = 0;
        LoadFileBytes(name, bytes, resources, capped);
        diagnostics.AddRange(capped);
        if (t_unreported > 0)
        {
            diagnostics.Add(Diagnostic.Error("more-problems", $"{name}: {t_unreported:N0} more problems like the ones above are not listed", new SourceLocation(name, 1)));
        }
    }

    /// <summary>Adds a diagnostic unless the file has already reported its share.</summary>
    private static void Report(List<Diagnostic> diagnostics, Diagnostic d)
    {
        if (diagnostics.Count < MaxDiagnosticsPerFile)
        {
            diagnostics.Add(d);
        }
        else
        {
            t_unreported++;
        }
    }

    private void LoadFileBytes(string name, byte[] bytes, List<Resource> resources, List<Diagnostic> diagnostics)
    {
        if (bytes.LongLength > _options.MaxFileBytes)
        {
            diagnostics.Add(TooLarge(name, bytes.LongLength));
            return;
        }

        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        if (OtherEncoding(bytes) is { } encoding)
        {
            diagnostics.Add(Diagnostic.Error("unsupported-encoding", $"{name}: file is {encoding}; save it as UTF-8 (Kubernetes manifests are UTF-8); skipped", new SourceLocation(name, 1, 1)));
            return;
        }

        var content = new ReadOnlyMemory<byte>(bytes, start, bytes.Length - start);
        var first = FirstNonSpace(content.Span);
        if (first is (byte)'{' or (byte)'[' && TryLoadJson(name, content, resources, diagnostics, Path.GetExtension(name).Equals(".json", StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }

        LoadYaml(name, content.Span, resources, diagnostics);
    }

    /// <summary>
    /// Reads one or more JSON values (a document, a kubectl List, JSON lines). A syntax error is
    /// reported with its line and column and loses only the value it is in: reading resumes at the
    /// next line that starts a value. A value with invalid UTF-8 is reported and skipped; the others
    /// are kept. Returns false when a non-.json file is not JSON at all (flow-style YAML).
    /// </summary>
    private bool TryLoadJson(string name, ReadOnlyMemory<byte> content, List<Resource> resources, List<Diagnostic> diagnostics, bool isJsonFile)
    {
        var documents = new List<(JsonDocument Doc, int Start, int End)>();
        var segment = 0;
        while (segment < content.Length)
        {
            var reader = new Utf8JsonReader(content.Span[segment..], new JsonReaderOptions
            {
                AllowMultipleValues = true,
                CommentHandling = JsonCommentHandling.Skip,
                MaxDepth = _options.MaxDepth + 8,
            });
            try
            {
                while (true)
                {
                    var probe = reader;
                    if (!probe.Read())
                    {
                        break;
                    }

                    var docStart = segment + (int)probe.TokenStartIndex;
                    reader = probe;
                    var doc = JsonDocument.ParseValue(ref reader);
                    documents.Add((doc, docStart, segment + (int)reader.BytesConsumed));
                }

                break;
            }
            catch (JsonException ex)
            {
                if (documents.Count == 0 && segment == 0 && !isJsonFile)
                {
                    return false; // Flow-style YAML also starts with '{' or '['; let the YAML reader judge.
                }

                var (segmentLine, _) = LineAt(content.Span, segment);
                var line = segmentLine + (int)(ex.LineNumber ?? 0);
                var column = (int)(ex.BytePositionInLine ?? 0) + 1;
                var message = ex.Message;
                var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal) is var c1 and > 0 ? c1 : message.IndexOf(" Path:", StringComparison.Ordinal);
                Report(diagnostics, Diagnostic.Error("json-syntax", $"{name}:{line}:{column}: invalid JSON: {(cut > 0 ? message[..cut] : message)}; the value is skipped",
                    new SourceLocation(name, line, column)));
                segment = NextValueLine(content.Span, LineStart(content.Span, line + 1));
            }
        }

        var invalid = !Utf8.IsValid(content.Span);
        if (invalid)
        {
            ReportInvalidUtf8(name, content.Span, diagnostics);
        }

        foreach (var (doc, docStart, docEnd) in documents)
        {
            var slice = content[docStart..docEnd];
            if (invalid && !Utf8.IsValid(slice.Span))
            {
                doc.Dispose();
                continue;
            }

            var map = new DocumentSourceMap(name, doc.RootElement, () =>
            {
                var (line, lineStart) = LineAt(content.Span, docStart);
                return JsonNodeTableBuilder.Build(slice, line, docStart - lineStart);
            });
            AddResources(name, doc.RootElement, map, resources, diagnostics);
        }

        return true;
    }

    private void LoadYaml(string name, ReadOnlySpan<byte> content, List<Resource> resources, List<Diagnostic> diagnostics)
    {
        HashSet<int>? badLines = null;
        if (!Utf8.IsValid(content))
        {
            badLines = ReportInvalidUtf8(name, content, diagnostics);
        }

        var converter = Converter();
        foreach (var chunk in YamlDocumentSplitter.Split(content))
        {
            if (badLines is not null && ChunkHasBadLine(chunk, content.Slice(chunk.Start, chunk.Length), badLines))
            {
                continue; // already reported; the document cannot be trusted
            }

            var text = Encoding.UTF8.GetString(content.Slice(chunk.Start, chunk.Length));
            List<ConvertedDocument> docs;
            try
            {
                docs = converter.Convert(text, chunk.FirstLine - 1);
            }
            catch (YamlException ex) when (QuotedScalarRepair.IsIndentationError(ex.Message)
                && QuotedScalarRepair.Repair(text) is { } repaired
                && TryConvert(converter, repaired, chunk.FirstLine - 1) is { } repairedDocs)
            {
                // go-yaml and libyaml accept a quoted scalar continued at its key's indentation; so do we.
                docs = repairedDocs;
            }
            catch (YamlException ex)
            {
                var line = (int)ex.Start.Line + chunk.FirstLine - 1;
                var column = (int)ex.Start.Column;
                Report(diagnostics, Diagnostic.Error("yaml-syntax", $"{name}:{line}:{column}: invalid YAML: {CleanYamlMessage(ex)}",
                    new SourceLocation(name, line, column)));
                continue;
            }
            catch (LoadLimitException ex)
            {
                Report(diagnostics, Diagnostic.Error(ex.Code, $"{name}:{ex.Line}:{ex.Column}: {ex.Message}", new SourceLocation(name, ex.Line, ex.Column)));
                continue;
            }

            foreach (var converted in docs)
            {
                foreach (var w in converted.Warnings)
                {
                    Report(diagnostics, Diagnostic.Warning("yaml-duplicate-key", $"{name}: {w}", new SourceLocation(name, chunk.FirstLine)));
                }

                JsonDocument doc;
                try
                {
                    // ParseValue keeps a document of exactly its size (Parse holds a pooled buffer rounded up to a power of two).
                    var reader = new Utf8JsonReader(converted.Json, _readerOptions);
                    doc = JsonDocument.ParseValue(ref reader);
                }
                catch (JsonException ex)
                {
                    Report(diagnostics, Diagnostic.Error("yaml-convert", $"{name}:{chunk.FirstLine}: document could not be converted: {ex.Message}",
                        new SourceLocation(name, chunk.FirstLine)));
                    continue;
                }

                var table = converted.Table;
                AddResources(name, doc.RootElement, new DocumentSourceMap(name, doc.RootElement, table), resources, diagnostics);
            }
        }
    }

    private static List<ConvertedDocument>? TryConvert(YamlJsonConverter converter, string text, int lineOffset)
    {
        try
        {
            return converter.Convert(text, lineOffset);
        }
        catch (Exception ex) when (ex is YamlException or LoadLimitException)
        {
            return null;
        }
    }

    private YamlJsonConverter Converter()
    {
        if (t_converter is null || !ReferenceEquals(t_converterOptions, _options))
        {
            t_converter = new YamlJsonConverter(_options);
            t_converterOptions = _options;
        }

        return t_converter;
    }

}
