using System.Runtime.InteropServices;
using System.Text.Json;

namespace Skjold.Engine.Pss;

/// <summary>
/// The fields of a pod- or container-level securityContext that checks read, gathered in one pass.
/// Missing fields stay <see cref="JsonValueKind.Undefined"/>.
/// </summary>
internal struct SecurityContextView
{
    public JsonElement Element;
    public JsonElement Privileged;
    public JsonElement AllowPrivilegeEscalation;
    public JsonElement RunAsNonRoot;
    public JsonElement RunAsUser;
    public JsonElement CapAdd;
    public JsonElement CapDrop;
    public JsonElement ProcMount;
    public JsonElement SeccompProfile;
    public JsonElement SeccompType;
    public JsonElement AppArmorProfile;
    public JsonElement AppArmorType;
    public JsonElement SeLinuxOptions;
    public JsonElement HostProcess;
    public JsonElement ReadOnlyRootFilesystem;
    public JsonElement Sysctls;

    public readonly bool IsSet => Element.ValueKind == JsonValueKind.Object;

    public static SecurityContextView Read(JsonElement sc)
    {
        var view = default(SecurityContextView);
        if (sc.ValueKind != JsonValueKind.Object)
        {
            return view;
        }

        view.Element = sc;
        foreach (var p in sc.EnumerateObject())
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(p);
            switch (name.Length)
            {
                case 7 when name.SequenceEqual("sysctls"u8):
                    view.Sysctls = p.Value;
                    break;
                case 9 when name.SequenceEqual("runAsUser"u8):
                    view.RunAsUser = p.Value;
                    break;
                case 9 when name.SequenceEqual("procMount"u8):
                    view.ProcMount = p.Value;
                    break;
                case 10 when name.SequenceEqual("privileged"u8):
                    view.Privileged = p.Value;
                    break;
                case 12 when name.SequenceEqual("runAsNonRoot"u8):
                    view.RunAsNonRoot = p.Value;
                    break;
                case 12 when name.SequenceEqual("capabilities"u8):
                    if (p.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var c in p.Value.EnumerateObject())
                        {
                            var cn = JsonMarshal.GetRawUtf8PropertyName(c);
                            if (cn.SequenceEqual("add"u8))
                            {
                                view.CapAdd = c.Value;
                            }
                            else if (cn.SequenceEqual("drop"u8))
                            {
                                view.CapDrop = c.Value;
                            }
                        }
                    }

                    break;
                case 14 when name.SequenceEqual("seccompProfile"u8):
                    view.SeccompProfile = p.Value;
                    view.SeccompType = Field(p.Value, "type"u8);
                    break;
                case 14 when name.SequenceEqual("seLinuxOptions"u8):
                    view.SeLinuxOptions = p.Value;
                    break;
                case 14 when name.SequenceEqual("windowsOptions"u8):
                    view.HostProcess = Field(p.Value, "hostProcess"u8);
                    break;
                case 15 when name.SequenceEqual("appArmorProfile"u8):
                    view.AppArmorProfile = p.Value;
                    view.AppArmorType = Field(p.Value, "type"u8);
                    break;
                case 22 when name.SequenceEqual("readOnlyRootFilesystem"u8):
                    view.ReadOnlyRootFilesystem = p.Value;
                    break;
                case 24 when name.SequenceEqual("allowPrivilegeEscalation"u8):
                    view.AllowPrivilegeEscalation = p.Value;
                    break;
                default:
                    break;
            }
        }

        return view;
    }

    public static JsonElement Field(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) ? v : default;
}
