using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Skjold.Audit.Events;

/// <summary>
/// Writes JSON in a canonical form (after RFC 8785): object members sorted by their names'
/// UTF-16 code units, no insignificant whitespace, strings with only the escapes JSON requires
/// (quote, backslash, control characters), numbers exactly as received. The same event always
/// gives the same bytes, and the bytes are what the Merkle leaf hashes.
/// </summary>
public static class CanonicalJson
{
    public static byte[] Serialize(JsonElement element, IRedactor? redactor = null)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        Write(element, buffer, redactor, new PathTracker());
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(JsonElement e, ArrayBufferWriter<byte> w, IRedactor? redactor, PathTracker path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(string Name, JsonElement Value)>();
                foreach (var p in e.EnumerateObject())
                {
                    members.Add((p.Name, p.Value));
                }

                members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                Put(w, "{"u8);
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        Put(w, ","u8);
                    }

                    WriteString(members[i].Name, w);
                    Put(w, ":"u8);
                    path.Push(members[i].Name);
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
                WriteString(e.GetString()!, w);
                break;
            case JsonValueKind.Number:
                Put(w, Encoding.UTF8.GetBytes(e.GetRawText()));
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
