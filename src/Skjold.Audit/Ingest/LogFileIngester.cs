using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Skjold.Audit.Events;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Ingest;

/// <summary>What an ingest run did.</summary>
public sealed record IngestStats(long Lines, long Appended, long Rejected, long Rotations);

/// <summary>
/// Reads the API server's log-backend audit file (JSON lines) into the log. The read offset is
/// saved in the same transaction as the events it covers, so a crash never loses or duplicates an
/// event. With <c>follow</c> it keeps tailing, across rotation by rename (the old file is read to
/// its end first) and by truncation. A file is recognised by a hash of its first line. A line that
/// is not an audit event is not dropped silently: a system event recording its file, line number,
/// SHA-256 and the reason is sealed in its place.
/// </summary>
public sealed class LogFileIngester(AuditLog log, string path, Action<string>? report = null, int batchSize = 5000, TimeSpan? pollInterval = null, IProgress<long>? progress = null, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly TimeSpan _poll = pollInterval ?? TimeSpan.FromMilliseconds(250);

    public async Task<IngestStats> RunAsync(bool follow, CancellationToken ct)
    {
        var full = Path.GetFullPath(path);
        long lines = 0, appended = 0, rejected = 0, rotations = 0;
        var saved = await log.Store.GetOffsetAsync(full, ct).ConfigureAwait(false);
        FileStream? stream = null;
        string? fileId = null;
        long offset = 0, lineNumber = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (stream is null)
                {
                    if (!File.Exists(full))
                    {
                        if (!follow)
                        {
                            throw new FileNotFoundException($"{path}: no such file", full);
                        }

                        await Task.Delay(_poll, _time, ct).ConfigureAwait(false);
                        continue;
                    }

                    stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
                    fileId = FirstLineId(stream);
                    offset = 0;
                    lineNumber = 0;
                    if (saved is not null && fileId is not null && saved.FileId == fileId && stream.Length >= saved.Offset)
                    {
                        offset = saved.Offset;
                        report?.Invoke($"resuming {path} at byte {offset}");
                    }

                    saved = null;
                }

                var (batch, lastEnd, linesRead, bad) = ReadBatch(stream, ref offset, ref lineNumber, final: !follow);
                lines += linesRead;
                foreach (var (number, raw, reason) in bad)
                {
                    rejected++;
                    await log.RecordSystemEventAsync("ingest-rejected", $"line {number} of {path} is not an audit event: {reason}", new Dictionary<string, string>
                    {
                        ["skjold.io/file"] = full,
                        ["skjold.io/line"] = number.ToString(CultureInfo.InvariantCulture),
                        ["skjold.io/sha256"] = Convert.ToHexStringLower(SHA256.HashData(raw)),
                        ["skjold.io/reason"] = reason,
                    }, ct).ConfigureAwait(false);
                }

                fileId ??= FirstLineId(stream);
                if (batch.Count > 0 || bad.Count > 0)
                {
                    await log.AppendAsync(batch, new IngestOffset(full, fileId ?? string.Empty, lastEnd), ct).ConfigureAwait(false);
                    appended += batch.Count;
                    progress?.Report(appended);
                    continue;
                }

                if (!follow)
                {
                    break;
                }

                // At the end of the file: has it been rotated or truncated?
                var rotated = File.Exists(full) && !SameFile(full, fileId, stream);
                if (rotated || (File.Exists(full) && new FileInfo(full).Length < offset))
                {
                    rotations++;
                    report?.Invoke($"{path} was rotated; continuing with the new file");
                    await stream.DisposeAsync().ConfigureAwait(false);
                    stream = null;
                    continue;
                }

                await Task.Delay(_poll, _time, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }

        return new IngestStats(lines, appended, rejected, rotations);
    }

    private (List<JsonElement> Events, long LastEnd, long Lines, List<(long Number, byte[] Raw, string Reason)> Bad) ReadBatch(FileStream stream, ref long offset, ref long lineNumber, bool final)
    {
        var events = new List<JsonElement>();
        var bad = new List<(long, byte[], string)>();
        long lines = 0;
        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[1 << 20];
        var pending = new MemoryStream();
        var lastEnd = offset;
        var position = offset;
        while (events.Count + bad.Count < batchSize)
        {
            var read = stream.Read(buffer, 0, buffer.Length);
            if (read == 0)
            {
                break;
            }

            var start = 0;
            for (var i = 0; i < read && events.Count + bad.Count < batchSize; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                pending.Write(buffer, start, i - start);
                position += i - start + 1;
                start = i + 1;
                lineNumber++;
                lines++;
                Consume(pending.ToArray(), lineNumber, events, bad);
                pending.SetLength(0);
                lastEnd = position;
            }

            if (events.Count + bad.Count >= batchSize)
            {
                break;
            }

            pending.Write(buffer, start, read - start);
            position += read - start;
        }

        if (final && pending.Length > 0 && events.Count + bad.Count < batchSize)
        {
            // The file ends without a newline: the last line is complete.
            lineNumber++;
            lines++;
            Consume(pending.ToArray(), lineNumber, events, bad);
            lastEnd = position;
        }

        offset = lastEnd;
        return (events, lastEnd, lines, bad);
    }

    private static void Consume(byte[] line, long number, List<JsonElement> events, List<(long, byte[], string)> bad)
    {
        var text = Encoding.UTF8.GetString(line).Trim();
        if (text.Length == 0)
        {
            return;
        }

        if (AuditEventReader.TryReadLine(text, out var e, out var error))
        {
            events.Add(e);
        }
        else
        {
            bad.Add((number, line, error!));
        }
    }

    private static string? FirstLineId(FileStream stream)
    {
        var saved = stream.Position;
        stream.Seek(0, SeekOrigin.Begin);
        var buffer = new byte[8192];
        var n = stream.Read(buffer, 0, buffer.Length);
        stream.Seek(saved, SeekOrigin.Begin);
        var newline = Array.IndexOf(buffer, (byte)'\n', 0, n);
        return newline < 0 ? null : Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, newline)));
    }

    private static bool SameFile(string path, string? id, FileStream current)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var probeId = FirstLineId(probe);
            return probeId is null ? probe.Length >= current.Length && id is null : probeId == id;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
