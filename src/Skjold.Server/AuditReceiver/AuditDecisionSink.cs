using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Skjold.Audit;
using Skjold.Server.Observability;

namespace Skjold.Server.AuditReceiver;

/// <summary>
/// Seals admission decisions into the audit trail, next to the API server's own events. Decisions
/// are queued without blocking the webhook and written in batches; if the queue is full (the store
/// is slower than admission), the oldest waiting decisions are dropped and counted rather than
/// slowing admission down.
/// </summary>
public sealed class AuditDecisionSink : IAdmissionDecisionSink, IAsyncDisposable
{
    private readonly AuditLog _log;
    private readonly Channel<AdmissionDecisionRecord> _queue = Channel.CreateBounded<AdmissionDecisionRecord>(
        new BoundedChannelOptions(50_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _writer;
    private long _dropped;

    public AuditDecisionSink(AuditLog log)
    {
        _log = log;
        _writer = Task.Run(WriteLoopAsync);
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(AdmissionDecisionRecord record)
    {
        if (!_queue.Writer.TryWrite(record))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<JsonElement>();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 500 && _queue.Reader.TryRead(out var r))
            {
                batch.Add(ToEvent(r));
            }

            try
            {
                await _log.AppendAsync(batch).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or OperationCanceledException or System.Data.Common.DbException)
            {
                Interlocked.Add(ref _dropped, batch.Count);
            }
        }
    }

    internal static JsonElement ToEvent(AdmissionDecisionRecord r)
    {
        var time = r.Time.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
        var e = new Dictionary<string, object?>
        {
            ["kind"] = "Event",
            ["apiVersion"] = "audit.k8s.io/v1",
            ["level"] = "Metadata",
            ["auditID"] = "admission-" + r.Uid + "-" + r.Endpoint,
            ["stage"] = "ResponseComplete",
            ["verb"] = "admission",
            ["requestURI"] = "skjold://admission/" + r.Endpoint,
            ["user"] = new Dictionary<string, object?> { ["username"] = r.Username },
            ["objectRef"] = new Dictionary<string, object?> { ["resource"] = r.Kind.ToLowerInvariant(), ["namespace"] = r.Namespace, ["name"] = r.Name },
            ["responseStatus"] = new Dictionary<string, object?> { ["code"] = r.Allowed ? 200 : 403 },
            ["requestReceivedTimestamp"] = time,
            ["stageTimestamp"] = time,
            ["annotations"] = new Dictionary<string, string>
            {
                ["skjold.io/operation"] = r.Operation,
                ["skjold.io/decision"] = r.Decision,
                ["skjold.io/checks"] = string.Join(",", r.Checks),
                ["skjold.io/mutations"] = string.Join("; ", r.Mutations),
            },
        };
        return JsonSerializer.SerializeToElement(e, ServerJsonContext.Default.DictionaryStringObject);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }
}
