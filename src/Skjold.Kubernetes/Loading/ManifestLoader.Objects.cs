using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Kubernetes.Loading;

/// <summary>From a parsed document to resources: lists expanded, kinds and API versions inferred, references interned.</summary>
public sealed partial class ManifestLoader
{
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
}
