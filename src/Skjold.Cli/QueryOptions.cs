using System.CommandLine;
using Skjold.Audit.Query;
using Skjold.Audit.Storage;

namespace Skjold.Cli;

/// <summary>Audit query filters and the investigator's named questions.</summary>
internal sealed class QueryOptions
{
    private readonly Option<string?> _since = new("--since") { Description = "From this time (RFC 3339, a date, or a duration back such as 24h or 7d)" };
    private readonly Option<string?> _until = new("--until") { Description = "Before this time (RFC 3339 or a date)" };
    private readonly Option<string?> _user = new("--user") { Description = "Username" };
    private readonly Option<string?> _group = new("--group") { Description = "Group of the user" };
    private readonly Option<string[]> _verb = new("--verb") { Description = "Verb (repeatable): get, list, watch, create, update, patch, delete, ...", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string?> _resource = new("--resource") { Description = "Resource, plural (pods, secrets, ...)" };
    private readonly Option<string?> _namespace = new("--namespace", "-n") { Description = "Namespace" };
    private readonly Option<string?> _name = new("--name") { Description = "Object name" };
    private readonly Option<string[]> _subresource = new("--subresource") { Description = "Subresource (repeatable): exec, attach, log, ...", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string?> _ip = new("--source-ip") { Description = "Client address" };
    private readonly Option<int[]> _code = new("--code") { Description = "HTTP response code (repeatable)", AllowMultipleArgumentsPerToken = true };
    private readonly Option<int> _limit = new("--limit") { Description = "At most this many events (a note says when more match)", DefaultValueFactory = _ => 1000 };
    private readonly Option<bool> _newest = new("--newest-first") { Description = "Newest events first (as the HTTP read API's order=desc); with --limit, the latest N" };
    private readonly Option<string?> _whoRead = new("--who-read-secret") { Description = "Who read the secret NAMESPACE/NAME (get, and list or watch in its namespace)" };
    private readonly Option<string?> _activity = new("--activity-of") { Description = "Everything USER did" };
    private readonly Option<bool> _exec = new("--exec-sessions") { Description = "pods/exec, pods/attach and pods/portforward sessions" };
    private readonly Option<bool> _denied = new("--denied") { Description = "Requests refused with 401 or 403" };
    private readonly Option<bool> _rbac = new("--rbac-changes") { Description = "Creates, updates, patches and deletes of RBAC objects" };

    public void AddTo(Command c)
    {
        _limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--limit must be at least 1");
            }
        });
        foreach (Option o in new Option[] { _since, _until, _user, _group, _verb, _resource, _namespace, _name, _subresource, _ip, _code, _limit, _newest, _whoRead, _activity, _exec, _denied, _rbac })
        {
            c.Options.Add(o);
        }
    }

    /// <summary>Whether --limit was given on the command line (export takes every match unless it was).</summary>
    public bool LimitGiven(ParseResult p) => p.GetResult(_limit) is { Implicit: false };

    /// <summary>Builds the query, or writes why the filters are invalid and returns false.</summary>
    public bool TryBuild(ParseResult p, TextWriter error, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AuditQuery? query)
    {
        try
        {
            query = Build(p);
            return true;
        }
        catch (FormatException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            query = null;
            return false;
        }
    }

    public AuditQuery Build(ParseResult p)
    {
        var q = new AuditQuery
        {
            Since = Time(p.GetValue(_since), "--since"),
            Until = Time(p.GetValue(_until), "--until"),
            User = p.GetValue(_user),
            Group = p.GetValue(_group),
            Verbs = p.GetValue(_verb) ?? [],
            Resource = p.GetValue(_resource),
            Namespace = p.GetValue(_namespace),
            Name = p.GetValue(_name),
            Subresources = p.GetValue(_subresource) ?? [],
            SourceIp = p.GetValue(_ip),
            Codes = p.GetValue(_code) ?? [],
            Limit = p.GetValue(_limit),
            Descending = p.GetValue(_newest),
        };
        if (p.GetValue(_whoRead) is { } secret)
        {
            q = AuditQuestions.WhoReadSecret(q, secret);
        }

        if (p.GetValue(_activity) is { } user)
        {
            q = AuditQuestions.ActivityOf(q, user);
        }

        if (p.GetValue(_exec))
        {
            q = AuditQuestions.ExecSessions(q);
        }

        if (p.GetValue(_denied))
        {
            q = AuditQuestions.Denied(q);
        }

        if (p.GetValue(_rbac))
        {
            q = AuditQuestions.RbacChanges(q);
        }

        return q;
    }

    private DateTimeOffset? Time(string? text, string flag) => AuditQuestions.ParseTime(text, flag, Clock.GetUtcNow());

    /// <summary>The clock relative times (--since 24h) are measured from.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
