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

    /// <summary>
    /// The manifest files under a directory, as <c>kubectl apply -R</c> walks it: recursively, in a
    /// stable order, without following symbolic links to directories (a loop or an "up -> .." link
    /// cannot make the walk endless or read a file twice), and passing over entries that are not
    /// regular files with content (FIFOs, devices and sockets report no size; opening a FIFO would
    /// block), each with a diagnostic.
    /// </summary>
    private List<string> Walk(string root, List<Diagnostic> diagnostics)
    {
        var found = new List<string>();
        var notes = new List<Diagnostic>();
        var enumeration = new System.IO.Enumeration.FileSystemEnumerable<(string Path, bool IsDirectory, bool IsLink, long Length)>(
            root,
            (ref System.IO.Enumeration.FileSystemEntry e) => (e.ToFullPath(), e.IsDirectory, (e.Attributes & FileAttributes.ReparsePoint) != 0, e.IsDirectory ? 0 : e.Length),
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MaxRecursionDepth = 64, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
        {
            ShouldRecursePredicate = (ref System.IO.Enumeration.FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        var entries = enumeration.ToList();
        var charts = new List<string>();
        foreach (var (path, isDirectory, _, _) in entries)
        {
            if (!isDirectory && Path.GetFileName(path) == "Chart.yaml")
            {
                charts.Add(Path.GetDirectoryName(path)! + Path.DirectorySeparatorChar);
            }
        }

        foreach (var chart in charts)
        {
            notes.Add(Diagnostic.Warning("helm-chart",
                $"{chart.TrimEnd(Path.DirectorySeparatorChar)}: a Helm chart; its templates are not manifests until rendered, so they are skipped: scan them with `helm template RELEASE {chart.TrimEnd(Path.DirectorySeparatorChar)} | skjold scan -`"));
        }

        foreach (var (path, isDirectory, isLink, length) in entries)
        {
            if (charts.Any(c => path.StartsWith(c + "templates" + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            {
                continue;
            }

            if (!isDirectory && IsKustomization(Path.GetFileName(path)))
            {
                notes.Add(KustomizationNote(path));
                continue;
            }

            if (isDirectory)
            {
                if (isLink)
                {
                    notes.Add(Diagnostic.Warning("symlink-directory", $"{path}: symbolic link to a directory; not followed (name the target to scan it)"));
                }

                continue;
            }

            if (!Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase) || IsSkipped(Path.GetFileName(path)))
            {
                continue;
            }

            long size;
            try
            {
                size = isLink ? File.ResolveLinkTarget(path, returnFinalTarget: true) is FileInfo target && target.Exists ? target.Length : -1 : length;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                size = -1;
            }

            if (size < 0)
            {
                notes.Add(Diagnostic.Warning("broken-symlink", $"{path}: symbolic link to nothing readable; skipped"));
                continue;
            }

            if (size == 0)
            {
                notes.Add(Diagnostic.Warning("not-a-regular-file", $"{path}: empty, or not a regular file (a FIFO, device or socket); skipped"));
                continue;
            }

            found.Add(path);
        }

        found.Sort(StringComparer.Ordinal);
        diagnostics.AddRange(notes.OrderBy(d => d.Message, StringComparer.Ordinal));
        return found;
    }

    /// <summary>UTF-16 or UTF-32 by byte order mark, or by the NUL bytes ASCII text has in those encodings.</summary>
    private static string? OtherEncoding(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0]))
        {
            return "UTF-32 (little-endian)";
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]))
        {
            return "UTF-32 (big-endian)";
        }

        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || b.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return "UTF-16";
        }

        var head = b[..Math.Min(b.Length, 64)];
        var zeros = 0;
        foreach (var x in head)
        {
            zeros += x == 0 ? 1 : 0;
        }

        return head.Length >= 8 && zeros * 4 >= head.Length ? (zeros * 4 >= head.Length * 3 - 8 ? "UTF-32 (no byte order mark)" : "UTF-16 (no byte order mark)") : null;
    }

    /// <summary>kustomize's own files: input to kustomize, never Kubernetes objects.</summary>
    private static bool IsKustomization(string fileName) => fileName is "kustomization.yaml" or "kustomization.yml" or "Kustomization";

    private static Diagnostic KustomizationNote(string path) =>
        Diagnostic.Warning("kustomization", $"{path}: a kustomization file (input to kustomize, not a Kubernetes object); skipped: scan the overlay with `kustomize build {Path.GetDirectoryName(path)} | skjold scan -`");

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

    /// <summary>The byte offset where line <paramref name="line"/> (1-based) starts, or the end.</summary>
    private static int LineStart(ReadOnlySpan<byte> content, int line)
    {
        var at = 0;
        for (var l = 1; l < line && at < content.Length; l++)
        {
            var next = content[at..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return content.Length;
            }

            at += next + 1;
        }

        return at;
    }

    /// <summary>The first line at or after <paramref name="from"/> whose first non-blank byte starts a JSON value ({ or [).</summary>
    private static int NextValueLine(ReadOnlySpan<byte> content, int from)
    {
        var at = from;
        while (at < content.Length)
        {
            var i = at;
            while (i < content.Length && content[i] is (byte)' ' or (byte)'\t' or (byte)'\r')
            {
                i++;
            }

            if (i < content.Length && content[i] is (byte)'{' or (byte)'[')
            {
                return at;
            }

            var next = content[at..].IndexOf((byte)'\n');
            if (next < 0)
            {
                break;
            }

            at += next + 1;
        }

        return content.Length;
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
            Report(diagnostics, Diagnostic.Error("not-a-mapping",
                $"{at}: document is a {Describe(root.ValueKind)}, not a Kubernetes object (a mapping with apiVersion and kind); skipped", at));
            return;
        }

        AddObject(name, root, map, new ResourceSourceMap(map, root, -1), null, null, resources, diagnostics, 0);
    }

    /// <summary>Deepest List inside List that is flattened (kubectl flattens any depth; this bounds it).</summary>
    private const int MaxListNesting = 16;

    /// <summary>An object, or a List (kind: List or a typed *List) whose items are added in turn; Lists nested in Lists are flattened as kubectl does.</summary>
    private static void AddObject(string name, JsonElement obj, DocumentSourceMap map, ResourceSourceMap objMap, string? inferredKind, string? inferredApiVersion,
        List<Resource> resources, List<Diagnostic> diagnostics, int nesting)
    {
        var kind = obj.ValueKind == JsonValueKind.Object ? Json.GetString(obj, "kind") : null;
        var items = Json.Get(obj, "items"u8);
        if (kind is not null && kind.EndsWith("List", StringComparison.Ordinal) && items.ValueKind == JsonValueKind.Array)
        {
            if (nesting >= MaxListNesting)
            {
                var at = objMap.Locate(string.Empty);
                Report(diagnostics, Diagnostic.Error("too-deep", $"{at}: Lists nested more than {MaxListNesting} deep; skipped", at));
                return;
            }

            var listApiVersion = Json.GetString(obj, "apiVersion") ?? "v1";
            var itemKind = kind == "List" ? null : kind[..^4];
            var k = 0;
            foreach (var item in items.EnumerateArray())
            {
                AddObject(name, item, map, new ResourceSourceMap(map, item, k, objMap), itemKind, listApiVersion, resources, diagnostics, nesting + 1);
                k++;
            }

            return;
        }

        AddOne(name, obj, objMap, inferredKind, inferredApiVersion, resources, diagnostics);
    }

    private static void AddOne(string name, JsonElement obj, ResourceSourceMap map, string? inferredKind, string? inferredApiVersion,
        List<Resource> resources, List<Diagnostic> diagnostics)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            var at = map.Locate(string.Empty);
            Report(diagnostics, Diagnostic.Error("not-a-mapping", $"{at}: list item is a {Describe(obj.ValueKind)}, not a Kubernetes object; skipped", at));
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
            Report(diagnostics, Diagnostic.Error("missing-" + (reference.Kind.Length == 0 ? "kind" : "apiversion"),
                $"{at}: object has no {missing}; every Kubernetes object needs apiVersion and kind; skipped", at));
            return;
        }

        // kubectl refuses an object whose name or namespace is not a string; an unquoted y, no,
        // on or off is a YAML 1.1 boolean there, so say so rather than place it in default.
        var metadata = Json.Get(obj, "metadata"u8);
        foreach (var field in (string[])["namespace", "name", "generateName"])
        {
            var value = Json.Get(metadata, field);
            if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String))
            {
                var at = map.Locate("metadata." + field);
                var hint = value.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? " (unquoted y, yes, n, no, on, off, true and false are booleans in YAML 1.1, as kubectl reads it; quote it)"
                    : value.ValueKind == JsonValueKind.Number ? " (quote it)" : string.Empty;
                Report(diagnostics, Diagnostic.Error("not-a-string", $"{at}: metadata.{field} of {reference.Kind} is a {Describe(value.ValueKind)}, not a string{hint}; skipped", at));
                return;
            }
        }

        resources.Add(new Resource(obj, Interned(reference), map));
    }

    [ThreadStatic]
    private static Dictionary<string, string>? t_names;

    /// <summary>
    /// The object's reference with its apiVersion, kind and namespace shared with earlier objects of
    /// the same thread (a dump holds thousands of objects naming a handful of them). Bounded: past
    /// 4,096 distinct strings new ones are kept as they are.
    /// </summary>
    private static ResourceRef Interned(ResourceRef reference)
    {
        var names = t_names ??= new Dictionary<string, string>(StringComparer.Ordinal);
        string Share(string s)
        {
            if (names.TryGetValue(s, out var shared))
            {
                return shared;
            }

            if (names.Count < 4096)
            {
                names[s] = s;
            }

            return s;
        }

        return new ResourceRef(Share(reference.ApiVersion), Share(reference.Kind), reference.Namespace is { } ns ? Share(ns) : null, reference.Name);
    }

    /// <summary>
    /// Reads at most the size limit, whatever the file system says the size is (a symlink to
    /// /dev/zero or a named pipe reports none): a larger input is refused, never read whole.
    /// </summary>
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

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            return ReadBounded(stream, path, diagnostics);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(Diagnostic.Error("io-error", $"{path}: cannot read: {ex.Message}"));
            return null;
        }
    }

    private byte[]? ReadBounded(Stream input, string name, List<Diagnostic> diagnostics)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = input.Read(chunk, 0, (int)Math.Min(chunk.Length, _options.MaxFileBytes + 1 - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > _options.MaxFileBytes)
            {
                diagnostics.Add(TooLarge(name, buffer.Length, stdinStopped: true));
                return null;
            }
        }

        return buffer.ToArray();
    }

    private byte[]? ReadStdin(Func<Stream>? stdin, List<Diagnostic> diagnostics)
    {
        using var input = stdin?.Invoke() ?? Console.OpenStandardInput();
        return ReadBounded(input, StdinName, diagnostics);
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
                    Report(diagnostics, Diagnostic.Error("invalid-utf8",
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

    private static bool ChunkHasBadLine(YamlDocumentSplitter.Chunk chunk, ReadOnlySpan<byte> chunkText, HashSet<int> badLines)
    {
        var lineCount = 1;
        foreach (var c in chunkText)
        {
            if (c == (byte)'\n')
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
