using System.Runtime.InteropServices;
using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss;

/// <summary>One container, init container or ephemeral container of a pod template, read once.</summary>
internal sealed class ContainerView
{
    private string? _path;

    public ContainerKind Kind { get; private set; }

    public int Index { get; private set; }

    public string SpecPath { get; private set; } = string.Empty;

    public JsonElement Element;
    public JsonElement Name;
    public JsonElement Image;
    public JsonElement Ports;
    public JsonElement LivenessProbe;
    public JsonElement ReadinessProbe;
    public JsonElement StartupProbe;
    public JsonElement Lifecycle;
    public JsonElement Resources;
    public JsonElement Env;
    public JsonElement EnvFrom;
    public SecurityContextView SecurityContext;

    /// <summary>JSON path of this container, for example <c>spec.template.spec.containers[1]</c>.</summary>
    public string Path => _path ??= JsonPath.Index(JsonPath.Child(SpecPath, KindField), Index);

    public string KindField => Kind switch
    {
        ContainerKind.Init => "initContainers",
        ContainerKind.Ephemeral => "ephemeralContainers",
        _ => "containers",
    };

    /// <summary>The container's name for messages.</summary>
    public string DisplayName => Json.AsString(Name) ?? $"#{Index}";

    public string SecurityContextPath(string field) => JsonPath.Child(JsonPath.Child(Path, "securityContext"), field);

    public void Read(JsonElement container, ContainerKind kind, int index, string specPath)
    {
        Element = container;
        Kind = kind;
        Index = index;
        SpecPath = specPath;
        _path = null;
        Name = default;
        Image = default;
        Ports = default;
        LivenessProbe = default;
        ReadinessProbe = default;
        StartupProbe = default;
        Lifecycle = default;
        Resources = default;
        Env = default;
        EnvFrom = default;
        SecurityContext = default;
        if (container.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var p in container.EnumerateObject())
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(p);
            switch (name.Length)
            {
                case 3 when name.SequenceEqual("env"u8):
                    Env = p.Value;
                    break;
                case 4 when name.SequenceEqual("name"u8):
                    Name = p.Value;
                    break;
                case 5 when name.SequenceEqual("image"u8):
                    Image = p.Value;
                    break;
                case 5 when name.SequenceEqual("ports"u8):
                    Ports = p.Value;
                    break;
                case 7 when name.SequenceEqual("envFrom"u8):
                    EnvFrom = p.Value;
                    break;
                case 9 when name.SequenceEqual("lifecycle"u8):
                    Lifecycle = p.Value;
                    break;
                case 9 when name.SequenceEqual("resources"u8):
                    Resources = p.Value;
                    break;
                case 12 when name.SequenceEqual("startupProbe"u8):
                    StartupProbe = p.Value;
                    break;
                case 13 when name.SequenceEqual("livenessProbe"u8):
                    LivenessProbe = p.Value;
                    break;
                case 14 when name.SequenceEqual("readinessProbe"u8):
                    ReadinessProbe = p.Value;
                    break;
                case 15 when name.SequenceEqual("securityContext"u8):
                    SecurityContext = SecurityContextView.Read(p.Value);
                    break;
                default:
                    break;
            }
        }
    }
}
