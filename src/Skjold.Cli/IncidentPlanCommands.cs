using System.CommandLine;
using Skjold.Incidents;

namespace Skjold.Cli;

/// <summary><c>skjold incident plan</c> and <c>notify-draft</c>: what the runbook would do, and the notification to write.</summary>
internal static class IncidentPlanCommands
{
    public static Command Plan(CliContext context)
    {
        var id = new Argument<string>("ID");
        var snapshot = new Option<string?>("--snapshot") { Description = "A snapshot (skjold snapshot) to name the target's containers, images, service account, secrets, pods and bindings in the requests" };
        var store = new AuditStoreOptions();
        var cmd = new Command("plan", "The runbook for the incident's type: each step with what it does, the exact API requests, the RBAC it needs, and whether it is disruptive.") { id, snapshot };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            var plan = new PlanContext();
            IReadOnlyList<Skjold.Engine.Model.Resource> resources = [];
            if (parse.GetValue(snapshot) is { } file)
            {
                if (InputFiles.Load([file], context) is not { } loaded)
                {
                    return ExitCodes.UsageOrInputError;
                }

                resources = loaded.Resources;
            }

            return await IncidentCommand.WithIncidentAsync(store, parse, context, parse.GetValue(id)!, ct, incident =>
            {
                if (resources.Count > 0)
                {
                    plan = PlanContexts.From(incident, resources);
                }

                var steps = RunbookPlans.For(incident, plan);
                var o = context.Out;
                o.WriteLine($"Runbook for {incident.Id} ({IncidentTypes.Name(incident.Type)} {string.Join(", ", incident.Targets)}):");
                foreach (var s in steps)
                {
                    o.WriteLine();
                    o.WriteLine($"{s.Number}. {s.Title}{(s.Disruptive ? "  [disruptive]" : "")}{(s.Manual ? "  [manual]" : "")}");
                    o.WriteLine($"   {s.What}");
                    foreach (var r in s.Requests)
                    {
                        o.WriteLine($"   {r}");
                    }

                    foreach (var c in s.Commands ?? [])
                    {
                        o.WriteLine($"   $ {c}");
                    }

                    if (s.Rbac.Count > 0)
                    {
                        o.WriteLine($"   needs: {string.Join(", ", s.Rbac)}");
                    }
                }

                o.WriteLine();
                o.WriteLine($"The responder's role needs: {string.Join(", ", RunbookPlans.Rbac(steps))}.");
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    public static Command NotifyDraft(CliContext context)
    {
        var id = new Argument<string>("ID");
        var authority = new Option<string>("--authority") { Description = "The supervisory authority", DefaultValueFactory = _ => "datatilsynet" };
        authority.AcceptOnlyFromAmong("datatilsynet");
        var lang = new Option<string>("--lang") { Description = "nb (Norwegian Bokmål) or en", DefaultValueFactory = _ => "nb" };
        lang.AcceptOnlyFromAmong("nb", "en");
        var config = new Option<string?>("--config", "-c") { Description = "skjold.yaml with the incidents: section (organisation, contact point, NIS2 entity)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the draft to this file (default stdout)" };
        var store = new AuditStoreOptions();
        var cmd = new Command("notify-draft", "Draft the GDPR Art. 33 notification to the supervisory authority from the incident, with every Art. 33(3) item; what only a person can know is marked [TO COMPLETE].") { id, authority, lang, config, output };
        store.AddTo(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!ConfigLoader.TryLoadIncidents(parse.GetValue(config), context.WorkingDirectory, context.Error, out var org))
            {
                return ExitCodes.UsageOrInputError;
            }

            return await IncidentCommand.WithIncidentAsync(store, parse, context, parse.GetValue(id)!, ct, incident =>
            {
                var text = NotificationDraft.Write(incident, org, "Datatilsynet", parse.GetValue(lang)!, context.Time.GetUtcNow());
                if (parse.GetValue(output) is { } file)
                {
                    File.WriteAllText(Path.GetFullPath(file, context.WorkingDirectory), text);
                    context.Error.WriteLine($"Wrote {file}; complete the items marked {NotificationDraft.ToComplete} before sending.");
                }
                else
                {
                    context.Out.Write(text);
                }
            }).ConfigureAwait(false);
        });
        return cmd;
    }
}
