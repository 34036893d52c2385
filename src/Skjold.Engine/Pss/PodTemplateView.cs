using System.Runtime.InteropServices;
using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Engine.Pss;

/// <summary>
/// A pod template (of a Pod, a workload controller, a CronJob or a PodTemplate) read once into
/// the fields that checks look at. Instances are reused: <see cref="Read"/> resets everything.
/// </summary>
internal sealed class PodTemplateView
{
    private readonly List<ContainerView> _containers = [];
    private int _count;
    private string? _templatePath;

    public string MetadataPath { get; private set; } = string.Empty;

    public string SpecPath { get; private set; } = string.Empty;

    public JsonElement Metadata;
    public JsonElement Annotations;
    public JsonElement Labels;
    public JsonElement Spec;
    public JsonElement HostNetwork;
    public JsonElement HostPid;
    public JsonElement HostIpc;
    public JsonElement HostUsers;
    public JsonElement OsName;
    public JsonElement AutomountServiceAccountToken;
    public JsonElement ServiceAccountName;
    public JsonElement Volumes;
    public SecurityContextView PodSecurityContext;

    public int ContainerCount => _count;

    public ContainerView Container(int i) => _containers[i];

    public bool IsWindows => Json.StringEquals(OsName, "windows"u8);

    /// <summary>True when the pod asks for a user namespace (<c>hostUsers: false</c>).</summary>
    public bool InUserNamespace => Json.IsFalse(HostUsers);

    public string PodSecurityContextPath(string field) => JsonPath.Child(JsonPath.Child(SpecPath, "securityContext"), field);

    /// <summary>Where a kind keeps its pod template ("spec.template", ...); null for Pods and kinds without one.</summary>
    public static string? TemplatePath(string kind) => kind switch
    {
        "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" or "Job" or "ReplicationController" => "spec.template",
        "CronJob" => "spec.jobTemplate.spec.template",
        "PodTemplate" => "template",
        _ => null,
    };

    /// <summary>Finds the pod template in <paramref name="root"/> for kinds that carry one.</summary>
    public static bool TryLocate(JsonElement root, string kind, out JsonElement template, out string templatePath)
    {
        template = default;
        templatePath = string.Empty;
        switch (kind)
        {
            case "Pod":
                template = root;
                return root.ValueKind == JsonValueKind.Object;
            case "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" or "Job" or "ReplicationController":
                template = Json.Get(Json.Get(root, "spec"u8), "template"u8);
                templatePath = "spec.template";
                break;
            case "CronJob":
                template = Json.Get(Json.Get(Json.Get(Json.Get(root, "spec"u8), "jobTemplate"u8), "spec"u8), "template"u8);
                templatePath = "spec.jobTemplate.spec.template";
                break;
            case "PodTemplate":
                template = Json.Get(root, "template"u8);
                templatePath = "template";
                break;
            default:
                return false;
        }

        return template.ValueKind == JsonValueKind.Object;
    }

    public void Read(JsonElement template, string templatePath)
    {
        if (!ReferenceEquals(templatePath, _templatePath))
        {
            _templatePath = templatePath;
            MetadataPath = JsonPath.Child(templatePath, "metadata");
            SpecPath = JsonPath.Child(templatePath, "spec");
        }

        Metadata = Json.Get(template, "metadata"u8);
        Annotations = Json.Get(Metadata, "annotations"u8);
        Labels = Json.Get(Metadata, "labels"u8);
        Spec = Json.Get(template, "spec"u8);
        HostNetwork = default;
        HostPid = default;
        HostIpc = default;
        HostUsers = default;
        OsName = default;
        AutomountServiceAccountToken = default;
        ServiceAccountName = default;
        Volumes = default;
        PodSecurityContext = default;
        _count = 0;
        if (Spec.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        JsonElement containers = default, initContainers = default, ephemeral = default;
        foreach (var p in Spec.EnumerateObject())
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(p);
            switch (name.Length)
            {
                case 2 when name.SequenceEqual("os"u8):
                    OsName = SecurityContextView.Field(p.Value, "name"u8);
                    break;
                case 7 when name.SequenceEqual("hostPID"u8):
                    HostPid = p.Value;
                    break;
                case 7 when name.SequenceEqual("hostIPC"u8):
                    HostIpc = p.Value;
                    break;
                case 7 when name.SequenceEqual("volumes"u8):
                    Volumes = p.Value;
                    break;
                case 9 when name.SequenceEqual("hostUsers"u8):
                    HostUsers = p.Value;
                    break;
                case 10 when name.SequenceEqual("containers"u8):
                    containers = p.Value;
                    break;
                case 11 when name.SequenceEqual("hostNetwork"u8):
                    HostNetwork = p.Value;
                    break;
                case 14 when name.SequenceEqual("initContainers"u8):
                    initContainers = p.Value;
                    break;
                case 15 when name.SequenceEqual("securityContext"u8):
                    PodSecurityContext = SecurityContextView.Read(p.Value);
                    break;
                case 18 when name.SequenceEqual("serviceAccountName"u8):
                    ServiceAccountName = p.Value;
                    break;
                case 19 when name.SequenceEqual("ephemeralContainers"u8):
                    ephemeral = p.Value;
                    break;
                case 28 when name.SequenceEqual("automountServiceAccountToken"u8):
                    AutomountServiceAccountToken = p.Value;
                    break;
                default:
                    break;
            }
        }

        AddContainers(containers, ContainerKind.Container);
        AddContainers(initContainers, ContainerKind.Init);
        AddContainers(ephemeral, ContainerKind.Ephemeral);
    }

    private void AddContainers(JsonElement array, ContainerKind kind)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (_count == _containers.Count)
            {
                _containers.Add(new ContainerView());
            }

            _containers[_count++].Read(item, kind, index++, SpecPath);
        }
    }
}
