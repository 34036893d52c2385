using System.Text.Json;

namespace Skjold.Audit.Events;

/// <summary>Decides, while an event is canonicalised, which values are replaced before sealing.</summary>
public interface IRedactor
{
    bool TryRedact(PathTracker path, JsonElement value, out string replacement);
}
