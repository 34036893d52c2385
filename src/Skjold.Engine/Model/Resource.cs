using System.Text.Json;

namespace Skjold.Engine.Model;

/// <summary>
/// One Kubernetes object as JSON, with where it came from. The engine reads <see cref="Root"/> and
/// never changes it.
/// </summary>
public sealed class Resource
{
    private readonly ISourceMap? _map;
    private object? _location;

    public Resource(JsonElement root, ResourceRef reference, SourceLocation location, ISourceMap? map = null)
    {
        Root = root;
        Ref = reference;
        _location = location;
        _map = map;
    }

    /// <summary>A resource whose location is computed from <paramref name="map"/> when first asked for.</summary>
    public Resource(JsonElement root, ResourceRef reference, ISourceMap map)
    {
        Root = root;
        Ref = reference;
        _map = map;
    }

    private Resource(JsonElement root, ResourceRef reference, ISourceMap? map, object? location)
    {
        Root = root;
        Ref = reference;
        _map = map;
        _location = location;
    }

    public JsonElement Root { get; }

    /// <summary>
    /// Whether <see cref="Ref"/>'s namespace was not in the object but given by the loader, as
    /// <c>kubectl apply -n</c> places namespaced objects that name none.
    /// </summary>
    public bool NamespaceDefaulted { get; private init; }

    public ResourceRef Ref { get; }

    /// <summary>Where the object starts in its file.</summary>
    public SourceLocation Location => (SourceLocation)(_location ??= _map?.Locate(string.Empty) ?? default(SourceLocation));

    public string Kind => Ref.Kind;

    /// <summary>The location of the field at <paramref name="path"/>, or of the object when unknown.</summary>
    public SourceLocation Locate(string path) => _map is null || path.Length == 0 ? Location : _map.Locate(path);

    /// <summary>The same object placed in <paramref name="ns"/> because it names no namespace.</summary>
    public Resource InDefaultNamespace(string ns) => new(Root, Ref with { Namespace = ns }, _map, _location) { NamespaceDefaulted = true };

    /// <summary>Builds a resource from a JSON object, reading apiVersion, kind and metadata.</summary>
    public static Resource FromJson(JsonElement root, SourceLocation location, ISourceMap? map = null) =>
        new(root, ReadRef(root), location, map);

    public static ResourceRef ReadRef(JsonElement root)
    {
        var apiVersion = Json.GetString(root, "apiVersion") ?? string.Empty;
        var kind = Json.GetString(root, "kind") ?? string.Empty;
        string? ns = null;
        var name = string.Empty;
        if (root.TryGetProperty("metadata"u8, out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            ns = Json.GetString(metadata, "namespace");
            name = Json.GetString(metadata, "name") ?? Json.GetString(metadata, "generateName") ?? string.Empty;
        }

        if (string.IsNullOrEmpty(ns))
        {
            ns = null;
        }

        return new ResourceRef(apiVersion, kind, ns, name);
    }
}
