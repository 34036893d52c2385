using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Skjold.Server.Hosting;

/// <summary>
/// A request body read into a pooled buffer, never more than a limit: the one reader of the
/// webhook and the audit receiver. Dispose returns the buffer.
/// </summary>
public sealed class BoundedBody : IDisposable
{
    private byte[]? _buffer;

    private BoundedBody(byte[]? buffer, int length, bool tooLarge, long? declared)
    {
        _buffer = buffer;
        Length = length;
        TooLarge = tooLarge;
        DeclaredLength = declared;
    }

    /// <summary>The body exceeded the limit (by its Content-Length, while reading, or by Kestrel's own limit); nothing was kept.</summary>
    public bool TooLarge { get; }

    /// <summary>The Content-Length that was refused, when that is how the body was refused.</summary>
    public long? DeclaredLength { get; }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => Memory.Span;

    /// <summary>Reads the body, refusing (without reading on) as soon as it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<BoundedBody> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength is { } declared && declared > limit)
        {
            return new BoundedBody(null, 0, true, declared);
        }

        // Pooled: batches are often hundreds of KB, and fresh arrays that size would land on the
        // large object heap for every request.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(request.ContentLength ?? 65536, limit) + 1, Array.MaxLength));
        var used = 0;
        try
        {
            while (true)
            {
                if (used == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(buffer.Length * 2L, limit + 1), Array.MaxLength));
                    buffer.AsSpan(0, used).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(used), cancellationToken).ConfigureAwait(false);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new BoundedBody(null, 0, true, null);
                }

                if (read == 0)
                {
                    return new BoundedBody(buffer, used, false, null);
                }

                used += read;
                if (used > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new BoundedBody(null, 0, true, null);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}
