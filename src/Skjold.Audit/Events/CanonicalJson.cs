using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Skjold.Audit.Events;

/// <summary>
/// Writes JSON in a canonical form (after RFC 8785): object members sorted by their names'
/// code points (UTF-8 byte order), no insignificant whitespace, strings with only the escapes JSON requires
/// (quote, backslash, control characters), numbers exactly as received. The same event always
/// gives the same bytes, and the bytes are what the Merkle leaf hashes.
/// </summary>
public static class CanonicalJson
{
    // One growing buffer per thread: an event's bytes are written there and copied out once.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static PathTracker? t_path;

    public static byte[] Serialize(JsonElement element, IRedactor? redactor = null)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var path = t_path ??= new PathTracker();
        path.Reset();
        Write(element, buffer, redactor, path);
        var bytes = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null; // do not keep a huge event's buffer alive
        }

        return bytes;
    }

    private static void Write(JsonElement e, ArrayBufferWriter<byte> w, IRedactor? redactor, PathTracker path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(e, w, redactor, path);
                break;
            case JsonValueKind.Array:
                Put(w, "["u8);
                var first = true;
                var index = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (!first)
                    {
                        Put(w, ","u8);
                    }

                    first = false;
                    path.Push(index++);
                    Write(item, w, redactor, path);
                    path.Pop();
                }

                Put(w, "]"u8);
                break;
            case JsonValueKind.String:
                // A string without escapes is already in canonical form: copy its UTF-8 as is.
                var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e);
                if (raw.IndexOf((byte)'\\') < 0)
                {
                    Put(w, raw);
                }
                else
                {
                    WriteString(e.GetString()!, w);
                }

                break;
            case JsonValueKind.Number:
                Put(w, System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e));
                break;
            case JsonValueKind.True:
                Put(w, "true"u8);
                break;
            case JsonValueKind.False:
                Put(w, "false"u8);
                break;
            default:
                Put(w, "null"u8);
                break;
        }
    }

    private static void WriteObject(JsonElement e, ArrayBufferWriter<byte> w, IRedactor? redactor, PathTracker path)
    {
        // Members are sorted in a pooled array (objects are small; this runs for every object of every event).
        var members = ArrayPool<JsonProperty>.Shared.Rent(16);
        var count = 0;
        try
        {
            foreach (var p in e.EnumerateObject())
            {
                if (count == members.Length)
                {
                    var bigger = ArrayPool<JsonProperty>.Shared.Rent(count * 2);
                    members.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<JsonProperty>.Shared.Return(members, clearArray: true);
                    members = bigger;
                }

                members[count++] = p;
            }

            if (count > 1)
            {
                members.AsSpan(0, count).Sort(static (a, b) => CompareNames(a, b));
            }

            Put(w, "{"u8);
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    Put(w, ","u8);
                }

                var rawName = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(members[i]);
                var escaped = rawName.IndexOf((byte)'\\') >= 0;
                if (escaped)
                {
                    WriteString(members[i].Name, w);
                }
                else
                {
                    Put(w, "\""u8);
                    Put(w, rawName);
                    Put(w, "\""u8);
                }

                Put(w, ":"u8);
                path.Push(escaped ? members[i].Name : PathTracker.Known(rawName));
                if (redactor is not null && redactor.TryRedact(path, members[i].Value, out var replacement))
                {
                    WriteString(replacement, w);
                }
                else
                {
                    Write(members[i].Value, w, redactor, path);
                }

                path.Pop();
            }

            Put(w, "}"u8);
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(members, clearArray: true);
        }
    }

    /// <summary>Member order: by the names' UTF-8 bytes (the same as code point order).</summary>
    private static int CompareNames(JsonProperty a, JsonProperty b)
    {
        var x = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(a);
        var y = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(b);
        return x.IndexOf((byte)'\\') < 0 && y.IndexOf((byte)'\\') < 0
            ? x.SequenceCompareTo(y)
            : string.CompareOrdinal(a.Name, b.Name);
    }

    private static void WriteString(string s, ArrayBufferWriter<byte> w)
    {
        Put(w, "\""u8);
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            string? escape = c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => $"\\u{(int)c:x4}",
                _ => null,
            };
            if (escape is null)
            {
                continue;
            }

            PutUtf8(w, s.AsSpan(start, i - start));
            PutUtf8(w, escape);
            start = i + 1;
        }

        PutUtf8(w, s.AsSpan(start));
        Put(w, "\""u8);
    }

    private static void PutUtf8(ArrayBufferWriter<byte> w, ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty)
        {
            return;
        }

        var span = w.GetSpan(Encoding.UTF8.GetMaxByteCount(chars.Length));
        w.Advance(Encoding.UTF8.GetBytes(chars, span));
    }

    private static void Put(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes) => w.Write(bytes);
}
