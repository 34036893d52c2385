namespace Skjold.Engine.Model;

public enum LabelOperator
{
    In = 0,
    NotIn = 1,
    Exists = 2,
    DoesNotExist = 3,
}
