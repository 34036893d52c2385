using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Skjold.Cli;

/// <summary>
/// The one-line result of a command that changes something (init, hold add, rotate-key, ...):
/// a sentence for people, or with <c>-f json</c> one JSON object for scripts.
/// </summary>
internal static class Summary
{
    public static readonly JsonSerializerOptions IndentedOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>--format table|json</c>, with <c>-f</c> unless the command uses -f for something else.</summary>
    public static Option<string> FormatOption(bool shortAlias = true)
    {
        var option = shortAlias ? new Option<string>("--format", "-f") : new Option<string>("--format");
        option.Description = "table or json (the summary)";
        option.DefaultValueFactory = _ => "table";
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }

    public static bool IsJson(ParseResult parse, Option<string> format) => parse.GetValue(format) == "json";

    public static string Json(JsonNode node) => node.ToJsonString(IndentedOptions);

    /// <summary>Writes <paramref name="text"/>, or the JSON object when -f json was given.</summary>
    public static Task WriteAsync(CliContext context, ParseResult parse, Option<string> format, string text, Func<JsonObject> json) =>
        context.Out.WriteLineAsync(IsJson(parse, format) ? Json(json()) : text);
}
