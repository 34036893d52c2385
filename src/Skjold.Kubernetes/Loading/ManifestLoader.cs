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
public sealed class ManifestLoader
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
    private readonly JsonDocumentOptions _jsonOptions;

    public ManifestLoader(LoaderOptions? options = null)
    {
        _options = options ?? LoaderOptions.Default;
        _jsonOptions = new JsonDocumentOptions
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
                var found = Directory.EnumerateFiles(p, "*", new EnumerationOptions
                    {
                        RecurseSubdirectories = true,
                        IgnoreInaccessible = true,
                        MaxRecursionDepth = 32,
                        AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
                    })
                    .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase) && !IsSkipped(Path.GetFileName(f)))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0)
                {
                    diagnostics.Add(Diagnostic.Warning("no-manifests", $"{p}: directory holds no .yaml, .yml or .json files"));
                }

                files.AddRange(found.Select(f => (f, (string?)f)));
            }
            else if (File.Exists(p))
            {
                files.Add((p, p));
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

    private static bool IsSkipped(string fileName) =>
        SkippedInDirectories.Contains(fileName, StringComparer.Ordinal)
        || (fileName.StartsWith("values", StringComparison.Ordinal) && fileName.EndsWith(".yaml", StringComparison.Ordinal));

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

    /// <summary>Loads one file's bytes, appending resources and diagnostics.</summary>
    public void LoadBytes(string name, byte[] bytes, List<Resource> resources, List<Diagnostic> diagnostics)
    {
        if (bytes.LongLength > _options.MaxFileBytes)
        {
            diagnostics.Add(TooLarge(name, bytes.LongLength));
            return;
        }

        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        if (bytes.Length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)))
        {
            diagnostics.Add(Diagnostic.Error("unsupported-encoding", $"{name}: file is UTF-16; save it as UTF-8", new SourceLocation(name, 1, 1)));
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

    private bool TryLoadJson(string name, ReadOnlyMemory<byte> content, List<Resource> resources, List<Diagnostic> diagnostics, bool isJsonFile)
    {
        var reader = new Utf8JsonReader(content.Span, new JsonReaderOptions
        {
            AllowMultipleValues = true,
            CommentHandling = JsonCommentHandling.Skip,
            MaxDepth = _options.MaxDepth + 8,
        });
        var documents = new List<(JsonDocument Doc, int Start, int End)>();
        try
        {
            while (true)
            {
                var probe = reader;
                if (!probe.Read())
                {
                    break;
                }

                var docStart = (int)probe.TokenStartIndex;
                reader = probe;
                var doc = JsonDocument.ParseValue(ref reader);
                documents.Add((doc, docStart, (int)reader.BytesConsumed));
            }
        }
        catch (JsonException ex)
        {
            foreach (var (doc, _, _) in documents)
            {
                doc.Dispose();
            }

            if (!isJsonFile)
            {
                return false; // Flow-style YAML also starts with '{' or '['; let the YAML reader judge.
            }

            var line = (int)(ex.LineNumber ?? 0) + 1;
            var column = (int)(ex.BytePositionInLine ?? 0) + 1;
            var message = ex.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            diagnostics.Add(Diagnostic.Error("json-syntax", $"{name}:{line}:{column}: invalid JSON: {(cut > 0 ? message[..cut] : message)}",
                new SourceLocation(name, line, column)));
            return true;
        }

        if (!Utf8.IsValid(content.Span))
        {
            foreach (var (doc, _, _) in documents)
            {
                doc.Dispose();
            }

            ReportInvalidUtf8(name, content.Span, diagnostics);
            return true;
        }

        foreach (var (doc, docStart, docEnd) in documents)
        {
            var slice = content[docStart..docEnd];
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

        var text = Encoding.UTF8.GetString(content);
        var converter = Converter();
        foreach (var chunk in YamlDocumentSplitter.Split(text))
        {
            if (badLines is not null && ChunkHasBadLine(chunk, text.AsSpan(chunk.Start, chunk.Length), badLines))
            {
                continue; // already reported; the document cannot be trusted
            }

            List<ConvertedDocument> docs;
            try
            {
                docs = converter.Convert(new StringSegmentReader(text, chunk.Start, chunk.Length), chunk.FirstLine - 1);
            }
            catch (YamlException ex)
            {
                var line = (int)ex.Start.Line + chunk.FirstLine - 1;
                var column = (int)ex.Start.Column;
                diagnostics.Add(Diagnostic.Error("yaml-syntax", $"{name}:{line}:{column}: invalid YAML: {CleanYamlMessage(ex)}",
                    new SourceLocation(name, line, column)));
                continue;
            }
            catch (LoadLimitException ex)
            {
                diagnostics.Add(Diagnostic.Error(ex.Code, $"{name}:{ex.Line}:{ex.Column}: {ex.Message}", new SourceLocation(name, ex.Line, ex.Column)));
                continue;
            }

            foreach (var converted in docs)
            {
                foreach (var w in converted.Warnings)
                {
                    diagnostics.Add(Diagnostic.Warning("yaml-duplicate-key", $"{name}: {w}", new SourceLocation(name, chunk.FirstLine)));
                }

                JsonDocument doc;
                try
                {
                    doc = JsonDocument.Parse(converted.Json, _jsonOptions);
                }
                catch (JsonException ex)
                {
                    diagnostics.Add(Diagnostic.Error("yaml-convert", $"{name}:{chunk.FirstLine}: document could not be converted: {ex.Message}",
                        new SourceLocation(name, chunk.FirstLine)));
                    continue;
                }

                var table = converted.Table;
                AddResources(name, doc.RootElement, new DocumentSourceMap(name, doc.RootElement, () => table), resources, diagnostics);
            }
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

    /// <summary>Turns one parsed document into resources, expanding lists.</summary>
    private static void AddResources(string name, JsonElement root, DocumentSourceMap map, List<Resource> resources, List<Diagnostic> diagnostics)
    {
        if (root.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return; // empty document
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            var at = map.Locate(string.Empty);
            diagnostics.Add(Diagnostic.Error("not-a-mapping",
                $"{at}: document is a {Describe(root.ValueKind)}, not a Kubernetes object (a mapping with apiVersion and kind); skipped", at));
            return;
        }

        var kind = Json.GetString(root, "kind");
        var items = Json.Get(root, "items"u8);
        if (kind is not null && kind.EndsWith("List", StringComparison.Ordinal) && items.ValueKind == JsonValueKind.Array)
        {
            var listApiVersion = Json.GetString(root, "apiVersion") ?? "v1";
            var itemKind = kind == "List" ? null : kind[..^4];
            var k = 0;
            foreach (var item in items.EnumerateArray())
            {
                var sourceMap = new ResourceSourceMap(map, item, k);
                AddOne(name, item, sourceMap, itemKind, listApiVersion, resources, diagnostics);
                k++;
            }

            return;
        }

        AddOne(name, root, new ResourceSourceMap(map, root, -1), null, null, resources, diagnostics);
    }

    private static void AddOne(string name, JsonElement obj, ResourceSourceMap map, string? inferredKind, string? inferredApiVersion,
        List<Resource> resources, List<Diagnostic> diagnostics)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            var at = map.Locate(string.Empty);
            diagnostics.Add(Diagnostic.Error("not-a-mapping", $"{at}: list item is a {Describe(obj.ValueKind)}, not a Kubernetes object; skipped", at));
            return;
        }

        var reference = Resource.ReadRef(obj);
        if (reference.Kind.Length == 0 && inferredKind is not null)
        {
            reference = reference with { Kind = inferredKind, ApiVersion = reference.ApiVersion.Length == 0 ? inferredApiVersion! : reference.ApiVersion };
        }

        if (reference.ApiVersion.Length == 0 || reference.Kind.Length == 0)
        {
            var at = map.Locate(string.Empty);
            var missing = reference.ApiVersion.Length == 0 && reference.Kind.Length == 0 ? "apiVersion and kind"
                : reference.ApiVersion.Length == 0 ? "apiVersion" : "kind";
            diagnostics.Add(Diagnostic.Error("missing-" + (reference.Kind.Length == 0 ? "kind" : "apiversion"),
                $"{at}: object has no {missing}; every Kubernetes object needs apiVersion and kind; skipped", at));
            return;
        }

        resources.Add(new Resource(obj, reference, map));
    }

    private byte[]? ReadFile(string path, List<Diagnostic> diagnostics)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Length > _options.MaxFileBytes)
            {
                diagnostics.Add(TooLarge(path, info.Length));
                return null;
            }

            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(Diagnostic.Error("io-error", $"{path}: cannot read: {ex.Message}"));
            return null;
        }
    }

    private byte[]? ReadStdin(Func<Stream>? stdin, List<Diagnostic> diagnostics)
    {
        using var input = stdin?.Invoke() ?? Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = input.Read(chunk, 0, chunk.Length)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > _options.MaxFileBytes)
            {
                diagnostics.Add(TooLarge(StdinName, buffer.Length, stdinStopped: true));
                return null;
            }
        }

        return buffer.ToArray();
    }

    private Diagnostic TooLarge(string name, long size, bool stdinStopped = false) =>
        Diagnostic.Error("file-too-large",
            $"{name}: {(stdinStopped ? "input exceeds" : $"file is {size:N0} bytes, over")} the limit of {_options.MaxFileBytes:N0} bytes; skipped (raise it with --max-file-size)",
            new SourceLocation(name, 1));

    private static HashSet<int> ReportInvalidUtf8(string name, ReadOnlySpan<byte> content, List<Diagnostic> diagnostics)
    {
        var lines = new HashSet<int>();
        var offset = 0;
        var scratch = new char[4096];
        while (offset < content.Length)
        {
            var status = Utf8.ToUtf16(content[offset..], scratch, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status == System.Buffers.OperationStatus.InvalidData)
            {
                var (line, lineStart) = LineAt(content, offset);
                if (lines.Add(line))
                {
                    var column = offset - lineStart + 1;
                    diagnostics.Add(Diagnostic.Error("invalid-utf8",
                        $"{name}:{line}:{column}: invalid UTF-8 byte 0x{content[offset]:X2}; the document containing it is skipped",
                        new SourceLocation(name, line, column)));
                }

                offset++;
            }
            else if (status == System.Buffers.OperationStatus.Done)
            {
                break;
            }
        }

        return lines;
    }

    private static bool ChunkHasBadLine(YamlDocumentSplitter.Chunk chunk, ReadOnlySpan<char> chunkText, HashSet<int> badLines)
    {
        var lineCount = 1;
        foreach (var c in chunkText)
        {
            if (c == '\n')
            {
                lineCount++;
            }
        }

        for (var l = chunk.FirstLine; l < chunk.FirstLine + lineCount; l++)
        {
            if (badLines.Contains(l))
            {
                return true;
            }
        }

        return false;
    }

    private static (int Line, int LineStart) LineAt(ReadOnlySpan<byte> content, int offset)
    {
        var line = 1;
        var lineStart = 0;
        var end = Math.Min(offset, content.Length);
        for (var i = 0; i < end; i++)
        {
            if (content[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, lineStart);
    }

    private static byte FirstNonSpace(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return b;
            }
        }

        return 0;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string CleanYamlMessage(YamlException ex)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; we print our own position.
        var m = ex.Message;
        var i = m.IndexOf("): ", StringComparison.Ordinal);
        return i >= 0 && m.StartsWith('(') ? m[(i + 3)..] : m;
    }
}
