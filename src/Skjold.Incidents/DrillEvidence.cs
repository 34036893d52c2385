using Skjold.Engine.Compliance;

namespace Skjold.Incidents;

/// <summary>
/// Drills as evidence for the incident-management controls: each closed drill in the trail counts as an attestation,
/// dated the day it was closed and valid for a year, for ISO/IEC 27001 5.24 and 5.26, NIS2 21(2)(b) and NSM 4.1.
/// </summary>
public static class DrillEvidence
{
    private static readonly (string Framework, string Control)[] Controls = [("iso27001", "5.24"), ("iso27001", "5.26"), ("nis2", "21.2.b"), ("nsm", "4.1")];

    /// <summary>The attestations of the closed drills in the audit trail whose data directory is <paramref name="dataDirectory"/>.</summary>
    /// <exception cref="Skjold.Audit.Storage.AuditStoreException">there is no trail there, or it cannot be read</exception>
    public static async Task<IReadOnlyList<Attestation>> FromTrailAsync(string dataDirectory, CancellationToken ct = default)
    {
        await using var store = Skjold.Audit.AuditLogFactory.OpenExistingStore(new Skjold.Audit.AuditStoreLocation { DataDirectory = dataDirectory });
        return Attestations(await new IncidentJournal(store).AllAsync(ct).ConfigureAwait(false));
    }

    public static IReadOnlyList<Attestation> Attestations(IEnumerable<Incident> incidents)
    {
        var list = new List<Attestation>();
        foreach (var i in incidents)
        {
            if (!i.Drill || i.Status != IncidentStatus.Closed || i.Timeline.Count == 0)
            {
                continue;
            }

            var closed = i.Timeline[^1];
            var evidence = $"{i.Id}: {IncidentTypes.Name(i.Type)} drill on {string.Join(", ", i.Targets)}, {i.Resolution} (sealed in the audit trail, leaves {i.Timeline[0].Leaf}-{closed.Leaf})";
            foreach (var (framework, control) in Controls)
            {
                list.Add(new Attestation(framework, control, $"skjold incident drill ({i.Owner})", DateOnly.FromDateTime(closed.At.UtcDateTime), 365, evidence, "an exercise of the runbook in dry run", null));
            }
        }

        return list;
    }
}
