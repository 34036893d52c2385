using Skjold.Engine.Text;

namespace Skjold.Engine.Tests;

public sealed class CsvTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("", "")]
    [InlineData("-", "-")]
    [InlineData("-12.5", "-12.5")]
    [InlineData("system:serviceaccount:kube-system:x", "system:serviceaccount:kube-system:x")]
    // Formulas a spreadsheet would run: neutralised with a leading apostrophe.
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0")]
    [InlineData("@SUM(A1:A9)", "'@SUM(A1:A9)")]
    [InlineData("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0")]
    [InlineData("\t=1", "'\t=1")]
    public void Field_QuotesPerRfc4180_AndNeutralisesFormulas(string value, string expected) =>
        Assert.Equal(expected, Csv.Field(value));
}
