using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Skjold.Audit.Events;
using Skjold.Engine.Text;

namespace Skjold.Audit.Query;

/// <summary>Query results as JSON (an array of records) and CSV, the same from the command line and the HTTP API.</summary>
public static class AuditRecordFormats
{
    public const string CsvHeader = "index,time,verb,user,groups,sourceIp,resource,subresource,namespace,name,code,auditId";

    public static string Json(IReadOnlyList<AuditRecord> rows) => JsonSerializer.Serialize(rows, RecordJsonContext.Relaxed.GetTypeInfo(typeof(IReadOnlyList<AuditRecord>)));

    public static string CsvRow(AuditRecord r)
    {
        string[] cells = [r.Index.ToString(CultureInfo.InvariantCulture), r.Time.ToString("O", CultureInfo.InvariantCulture), r.Verb ?? "", r.Username ?? "",
            string.Join(';', r.Groups), r.SourceIp ?? "", r.Resource ?? "", r.Subresource ?? "", r.Namespace ?? "", r.Name ?? "",
            r.Code?.ToString(CultureInfo.InvariantCulture) ?? "", r.AuditId ?? ""];
        return string.Join(',', cells.Select(Csv.Field));
    }

    public static async Task WriteCsvAsync(IReadOnlyList<AuditRecord> rows, TextWriter output)
    {
        await output.WriteLineAsync(CsvHeader).ConfigureAwait(false);
        foreach (var r in rows)
        {
            await output.WriteLineAsync(CsvRow(r)).ConfigureAwait(false);
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IReadOnlyList<AuditRecord>))]
internal sealed partial class RecordJsonContext : JsonSerializerContext
{
    private static readonly Lazy<JsonSerializerOptions> LazyRelaxed = new(() => new()
    {
        TypeInfoResolver = Default,
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Without escaping '+' and non-ASCII text, as the command line writes JSON.</summary>
    public static JsonSerializerOptions Relaxed => LazyRelaxed.Value;
}
