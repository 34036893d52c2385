using System.Text;

namespace Skjold.Audit.Storage;

/// <summary>
/// An investigator's query as SQL, for both stores: every value the user gives goes into a
/// parameter, never into the statement text. Pure, so it is tested without a database.
/// </summary>
public static class AuditQuerySql
{
    /// <summary>
    /// The query's filters as SQL over events aliased e (and group_index aliased g when
    /// <paramref name="byGroupIndex"/>): every filter the query gives, so that a row matches exactly
    /// when it satisfies them all.
    /// </summary>
    public static (List<string> Where, List<(string Name, object Value)> Args) Filter(AuditQuery q, bool byGroupIndex, Func<string, string, string> containsSql)
    {
        var where = new List<string>();
        var args = new List<(string, object)>();
        void Eq(string column, string name, object? value)
        {
            if (value is not null)
            {
                where.Add($"e.{column} = @{name}");
                args.Add((name, value));
            }
        }

        var t = byGroupIndex ? "g" : "e";
        if (q.Since is { } since)
        {
            where.Add($"{t}.ts >= @since");
            args.Add(("since", SqlAuditStore.Micros(since)));
        }

        if (q.Until is { } until)
        {
            where.Add($"{t}.ts < @until");
            args.Add(("until", SqlAuditStore.Micros(until)));
        }

        if (q.FromIndex is { } fromIndex)
        {
            where.Add("e.idx >= @fromidx");
            args.Add(("fromidx", fromIndex));
        }

        if (q.ToIndex is { } toIndex)
        {
            where.Add("e.idx < @toidx");
            args.Add(("toidx", toIndex));
        }

        Eq("username", "user", q.User);
        Eq("resource", "resource", q.Resource);
        Eq("namespace", "ns", q.Namespace);
        Eq("api_group", "apigroup", q.ApiGroup);
        Eq("source_ip", "ip", q.SourceIp);
        if (q.Name is not null)
        {
            where.Add(q.IncludeCollection ? "(e.name = @name OR e.name IS NULL)" : "e.name = @name");
            args.Add(("name", q.Name));
        }

        In("e.verb", "verb", q.Verbs, where, args);
        In("e.subresource", "sub", q.Subresources, where, args);
        In("e.code", "code", q.Codes.Select(x => (object)x).ToList(), where, args);
        if (q.Codes.Count > 0 && q.Codes.All(c => c >= 400))
        {
            where.Add("e.code >= 400"); // lets the planner use the partial index of refused requests
        }

        if (q.Subresources.Count > 0)
        {
            where.Add("e.subresource IS NOT NULL");
        }

        if (q.Group is not null)
        {
            args.Add(("grp", q.Group));
            if (!byGroupIndex)
            {
                // Groups are stored one per line; a whole line must match.
                where.Add(containsSql("(@nl || e.groups || @nl)", "(@nl || @grp || @nl)") + " > 0");
                args.Add(("nl", "\n"));
            }
        }

        return (where, args);
    }

    /// <summary>
    /// The whole statement: an explicit group through group_index (walked in time order, stopping at
    /// the limit), otherwise the time range and order from events and its indexes.
    /// </summary>
    public static (string Sql, List<(string Name, object Value)> Args) Statement(AuditQuery q, bool payloads, bool byGroupIndex, Func<string, string, string> containsSql)
    {
        ArgumentNullException.ThrowIfNull(q);
        var (where, args) = Filter(q, byGroupIndex, containsSql);
        var t = byGroupIndex ? "g" : "e";
        var sql = new StringBuilder("SELECT ").Append(SqlAuditStore.SelectList(payloads)).Append(" FROM events e");
        if (byGroupIndex)
        {
            // Joined on idx alone: a second join column makes PostgreSQL underestimate the rows and sort.
            sql.Append(" JOIN group_index g ON g.grp = @grp AND g.idx = e.idx");
        }

        if (where.Count > 0)
        {
            sql.Append(" WHERE ").Append(string.Join(" AND ", where));
        }

        sql.Append(q.Descending ? $" ORDER BY {t}.ts DESC, {t}.idx DESC" : $" ORDER BY {t}.ts, {t}.idx").Append(" LIMIT ").Append(Math.Max(1, q.Limit));
        return (sql.ToString(), args);
    }

    internal static void In(string column, string name, IReadOnlyList<object> values, List<string> where, List<(string, object)> args)
    {
        if (values.Count == 0)
        {
            return;
        }

        var names = new List<string>();
        for (var i = 0; i < values.Count; i++)
        {
            names.Add($"@{name}{i}");
            args.Add(($"{name}{i}", values[i]));
        }

        where.Add($"{column} IN ({string.Join(", ", names)})");
    }

    internal static void In(string column, string name, IReadOnlyList<string> values, List<string> where, List<(string, object)> args) =>
        In(column, name, values.Select(v => (object)v).ToList(), where, args);

}
