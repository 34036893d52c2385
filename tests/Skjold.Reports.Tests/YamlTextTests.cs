using YamlDotNet.RepresentationModel;

namespace Skjold.Reports.Tests;

/// <summary>JSON as YAML without reflection: values keep their types when read back.</summary>
public sealed class YamlTextTests
{
    [Theory]
    [InlineData("true")]
    [InlineData("no")]
    [InlineData("On")]
    [InlineData("123")]
    [InlineData("-1.5e3")]
    [InlineData("0x1F")]
    [InlineData(".inf")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("")]
    [InlineData("23.8")]
    public void StringThatLooksTyped_IsDoubleQuoted(string s)
    {
        var yaml = YamlText.FromJson($"{{\"v\":{System.Text.Json.JsonSerializer.Serialize(s)}}}");
        var scalar = ReadScalar(yaml);
        Assert.Equal(s, scalar.Value);
        Assert.Equal(YamlDotNet.Core.ScalarStyle.DoubleQuoted, scalar.Style);
    }

    [Theory]
    [InlineData("pass")]
    [InlineData("sha256:abc")]
    [InlineData("2026-11-24 is a date")]
    public void PlainString_StaysPlain(string s)
    {
        var scalar = ReadScalar(YamlText.FromJson($"{{\"v\":{System.Text.Json.JsonSerializer.Serialize(s)}}}"));
        Assert.Equal(s, scalar.Value);
        Assert.Equal(YamlDotNet.Core.ScalarStyle.Plain, scalar.Style);
    }

    [Fact]
    public void NumbersBooleansAndNull_AreUnquoted_AndDocumentsAreSeparated()
    {
        var yaml = YamlText.FromJson("{\"num\":9007199254740993,\"d\":1.25,\"b\":false,\"z\":null,\"list\":[1,\"a: b\"]}{\"second\":1}");
        Assert.Contains("num: 9007199254740993\n", yaml, StringComparison.Ordinal);
        Assert.Contains("d: 1.25\n", yaml, StringComparison.Ordinal);
        Assert.Contains("b: false\n", yaml, StringComparison.Ordinal);
        Assert.Contains("z: null\n", yaml, StringComparison.Ordinal);
        Assert.Contains("- 'a: b'\n", yaml, StringComparison.Ordinal);
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        Assert.Equal(2, stream.Documents.Count);
    }

    private static YamlScalarNode ReadScalar(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlScalarNode)((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("v")];
    }
}
