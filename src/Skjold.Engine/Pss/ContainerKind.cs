namespace Skjold.Engine.Pss;

internal enum ContainerKind
{
    Container = 0,
    Init = 1,
    Ephemeral = 2,
}
