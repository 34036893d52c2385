using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Engine.Workloads;

/// <summary>
/// Lookups across the resources of one scan that some checks need: service accounts, the
/// replica counts behind a PodDisruptionBudget, autoscalers. Built once per scan.
/// </summary>
public sealed class ResourceIndex
{
    private readonly Dictionary<(string? Ns, string Name), Resource> _serviceAccounts = [];
    private readonly Dictionary<string, List<Resource>> _scalableByNamespace = new(StringComparer.Ordinal);
    private readonly Dictionary<(string? Ns, string Kind, string Name), int> _hpaMin = [];
    private readonly HashSet<(string? Ns, string Kind, string Name)> _controllers = [];

    public static ResourceIndex Empty { get; } = new([]);

    public ResourceIndex(IEnumerable<Resource> resources)
    {
        foreach (var r in resources)
        {
            switch (r.Ref.Kind)
            {
                case "ServiceAccount":
                    _serviceAccounts[(r.Ref.Namespace, r.Ref.Name)] = r;
                    break;
                case "Deployment" or "StatefulSet" or "ReplicaSet" or "ReplicationController":
                    _controllers.Add((r.Ref.Namespace, r.Ref.Kind, r.Ref.Name));
                    var key = r.Ref.Namespace ?? string.Empty;
                    if (!_scalableByNamespace.TryGetValue(key, out var list))
                    {
                        _scalableByNamespace[key] = list = [];
                    }

                    list.Add(r);
                    break;
                case "HorizontalPodAutoscaler":
                    var spec = Json.Get(r.Root, "spec"u8);
                    var target = Json.Get(spec, "scaleTargetRef"u8);
                    var min = Json.GetInt64(Json.Get(spec, "minReplicas"u8)) ?? 1;
                    var kind = Json.GetString(target, "kind");
                    var name = Json.GetString(target, "name");
                    if (kind is not null && name is not null)
                    {
                        _hpaMin[(r.Ref.Namespace, kind, name)] = (int)min;
                    }

                    break;
                case "DaemonSet" or "Job" or "CronJob":
                    _controllers.Add((r.Ref.Namespace, r.Ref.Kind, r.Ref.Name));
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// Whether the object's controller (from ownerReferences) is itself part of the input: then the
    /// controller's template is what to report on, and a live cluster's ReplicaSets and Pods would
    /// only repeat its findings.
    /// </summary>
    public bool IsCoveredByController(Resource r)
    {
        if (_controllers.Count == 0)
        {
            return false;
        }

        var owners = Json.Get(Json.Get(r.Root, "metadata"u8), "ownerReferences"u8);
        if (owners.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var o in owners.EnumerateArray())
        {
            if (Json.IsTrue(Json.Get(o, "controller"u8)) && Json.GetString(o, "kind") is { } kind && Json.GetString(o, "name") is { } name)
            {
                return _controllers.Contains((r.Ref.Namespace, kind, name));
            }
        }

        return false;
    }

    public Resource? ServiceAccount(string? ns, string name) => _serviceAccounts.GetValueOrDefault((ns, name));

    /// <summary>The minimum replicas an autoscaler keeps for this workload, if one targets it.</summary>
    public int? AutoscalerMinimum(Resource workload) =>
        _hpaMin.TryGetValue((workload.Ref.Namespace, workload.Ref.Kind, workload.Ref.Name), out var m) ? m : null;

    /// <summary>Workloads in <paramref name="ns"/> whose pod template labels match <paramref name="selector"/>.</summary>
    public IEnumerable<Resource> WorkloadsSelectedBy(string? ns, LabelSelector selector)
    {
        if (!_scalableByNamespace.TryGetValue(ns ?? string.Empty, out var candidates))
        {
            yield break;
        }

        foreach (var w in candidates)
        {
            if (selector.Matches(Json.Get(Json.Get(Json.Get(Json.Get(w.Root, "spec"u8), "template"u8), "metadata"u8), "labels"u8)))
            {
                yield return w;
            }
        }
    }

    /// <summary>The kind of the controller that owns this object, from ownerReferences.</summary>
    public static string? ControllerKind(Resource r)
    {
        var owners = Json.Get(Json.Get(r.Root, "metadata"u8), "ownerReferences"u8);
        if (owners.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var o in owners.EnumerateArray())
        {
            if (Json.IsTrue(Json.Get(o, "controller"u8)))
            {
                return Json.GetString(o, "kind");
            }
        }

        return null;
    }

    /// <summary>Reads a label selector from JSON (matchLabels and matchExpressions).</summary>
    public static LabelSelector ReadSelector(JsonElement selector)
    {
        if (selector.ValueKind != JsonValueKind.Object)
        {
            return LabelSelector.Empty;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var ml = Json.Get(selector, "matchLabels"u8);
        if (ml.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in ml.EnumerateObject())
            {
                labels[p.Name] = Json.AsString(p.Value) ?? p.Value.GetRawText();
            }
        }

        var exprs = new List<LabelSelectorRequirement>();
        var me = Json.Get(selector, "matchExpressions"u8);
        if (me.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in me.EnumerateArray())
            {
                var op = Json.GetString(e, "operator") switch
                {
                    "In" => LabelOperator.In,
                    "NotIn" => LabelOperator.NotIn,
                    "Exists" => LabelOperator.Exists,
                    _ => LabelOperator.DoesNotExist,
                };
                var values = new List<string>();
                var v = Json.Get(e, "values"u8);
                if (v.ValueKind == JsonValueKind.Array)
                {
                    foreach (var x in v.EnumerateArray())
                    {
                        values.Add(Json.AsString(x) ?? x.GetRawText());
                    }
                }

                exprs.Add(new LabelSelectorRequirement(Json.GetString(e, "key") ?? string.Empty, op, values));
            }
        }

        return new LabelSelector(labels, exprs);
    }
}
