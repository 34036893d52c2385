using Skjold.Audit.Storage;

namespace Skjold.Audit.Tests;

/// <summary>The query SQL builder, without a database: every filter present, every value a parameter.</summary>
public sealed class AuditQuerySqlTests
{
    private static string Contains(string haystack, string needle) => $"instr({haystack}, {needle})";

    [Fact]
    public void HostileValues_GoIntoParameters_NeverIntoTheStatement()
    {
        const string Evil = "alice' OR 1=1; DROP TABLE events; --";
        var q = new AuditQuery
        {
            User = Evil, Namespace = Evil, Resource = Evil, Name = Evil, ApiGroup = Evil, SourceIp = Evil, Group = Evil,
            Verbs = [Evil, "get"], Subresources = [Evil], Codes = [403],
        };
        foreach (var byGroup in new[] { false, true })
        {
            var (sql, args) = AuditQuerySql.Statement(q, payloads: false, byGroupIndex: byGroup, Contains);
            Assert.DoesNotContain("alice", sql, StringComparison.Ordinal);
            Assert.DoesNotContain("DROP", sql, StringComparison.Ordinal);
            Assert.DoesNotContain("'", sql, StringComparison.Ordinal);
            Assert.All(args, a => Assert.Matches("^[a-z0-9]+$", a.Name));
            Assert.Equal(9, args.Count(a => Equals(a.Value, Evil)));
        }
    }

    [Fact]
    public void EveryFilter_IsInTheWhereClause_AndTimeAndOrderFollowTheIndexUsed()
    {
        var q = new AuditQuery
        {
            Since = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            Until = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
            User = "u", Namespace = "n", Resource = "secrets", Name = "db", IncludeCollection = true, ApiGroup = "", SourceIp = "10.0.0.1",
            Verbs = ["get", "list"], Subresources = ["exec"], Codes = [401, 403], FromIndex = 5, ToIndex = 50, Limit = 7, Descending = true,
        };
        var (where, args) = AuditQuerySql.Filter(q, byGroupIndex: false, Contains);
        Assert.Equal(
        [
            "e.ts >= @since", "e.ts < @until", "e.idx >= @fromidx", "e.idx < @toidx", "e.username = @user", "e.resource = @resource", "e.namespace = @ns",
            "e.api_group = @apigroup", "e.source_ip = @ip", "(e.name = @name OR e.name IS NULL)", "e.verb IN (@verb0, @verb1)", "e.subresource IN (@sub0)",
            "e.code IN (@code0, @code1)", "e.code >= 400", "e.subresource IS NOT NULL",
        ], where);
        Assert.Equal(SqlAuditStore.Micros(q.Since!.Value), args.Single(a => a.Name == "since").Value);

        var (sql, _) = AuditQuerySql.Statement(q, payloads: true, byGroupIndex: false, Contains);
        Assert.EndsWith(" ORDER BY e.ts DESC, e.idx DESC LIMIT 7", sql, StringComparison.Ordinal);
        Assert.Contains("e.payload", sql, StringComparison.Ordinal);

        // A group through the group index: time and order come from the index rows; the join binds the group.
        var (groupSql, groupArgs) = AuditQuerySql.Statement(new AuditQuery { Group = "ops", Since = q.Since }, payloads: false, byGroupIndex: true, Contains);
        Assert.Contains("JOIN group_index g ON g.grp = @grp AND g.idx = e.idx WHERE g.ts >= @since", groupSql, StringComparison.Ordinal);
        Assert.EndsWith("ORDER BY g.ts, g.idx LIMIT 1000", groupSql, StringComparison.Ordinal);
        Assert.Contains(groupArgs, a => a.Name == "grp" && (string)a.Value == "ops");

        // Without the index a group is matched as a whole line of the groups column, not a substring.
        var (scan, scanArgs) = AuditQuerySql.Filter(new AuditQuery { Group = "ops" }, byGroupIndex: false, Contains);
        Assert.Equal("instr((@nl || e.groups || @nl), (@nl || @grp || @nl)) > 0", Assert.Single(scan));
        Assert.Contains(scanArgs, a => a.Name == "nl" && (string)a.Value == "\n");
    }

    [Fact]
    public void NoFilters_NoWhereClause_AndALimitOfAtLeastOne()
    {
        var (sql, args) = AuditQuerySql.Statement(new AuditQuery { Limit = 0 }, payloads: false, byGroupIndex: false, Contains);
        Assert.DoesNotContain("WHERE", sql, StringComparison.Ordinal);
        Assert.EndsWith("LIMIT 1", sql, StringComparison.Ordinal);
        Assert.Empty(args);
    }
}
