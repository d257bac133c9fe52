using JudgeHost.Judging;
using JudgeHost.Store;

namespace JudgeHost.Tests.Store;

public sealed class JsonlReaderTests
{
    [Theory]
    [InlineData("""{"id":"a","task":"pairwise","instruction":"Q","candidates":["x","y"]}""", null)]                       // valid
    [InlineData("""{"id":"a","task":"pairwise","instruction":"Q","candidates":["x","y"],"source":"mllm"}""", null)]       // extra fields are carried over silently
    [InlineData("""{"id":"a","task":"pairwise","candidates":["x","y"]}""", "instruction")]                             // missing field
    [InlineData("""{"id":"a","task":"scoring","instruction":"Q"}""", "task")]                                          // unknown task
    [InlineData("""{"id":"a","task":"pairwise","instruction":"Q","candidates":["x",""" , "line 7")]                    // truncated JSON
    [InlineData("""[1,2,3]""", "line 7")]                                                                              // not an object
    public void Parse_Line_ReportsTheProblem(string line, string? expected)
    {
        var parsed = JsonlReader.Parse(line, 7);
        if (expected is null)
        {
            Assert.Null(parsed.Error);
            Assert.Equal(JudgeTask.Pairwise, parsed.Request!.Task);
        }
        else
        {
            Assert.Null(parsed.Request);
            Assert.Contains(expected, parsed.Error, StringComparison.Ordinal);
            Assert.StartsWith("line 7:", parsed.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_BadLineWithId_KeepsTheIdForTheErrorRecord()
    {
        var parsed = JsonlReader.Parse("""{"id":"q17","task":"nope","instruction":"Q"}""", 3);
        Assert.Equal("q17", parsed.Id);
        Assert.NotNull(parsed.Error);
    }

    [Fact]
    public async Task ReadRequests_DuplicateIdsAndBlankLines()
    {
        using var dir = new TempDir();
        string path = dir.Combine("in.jsonl");
        await File.WriteAllTextAsync(path, """
            {"id":"a","task":"binary","instruction":"Safe?","aspect":"safety"}

            {"id":"a","task":"binary","instruction":"Safe?","aspect":"safety"}
            """);

        var lines = new List<RequestLine>();
        await foreach (var l in JsonlReader.ReadRequestsAsync(path))
        {
            lines.Add(l);
        }

        Assert.Equal(2, lines.Count);
        Assert.Null(lines[0].Error);
        Assert.Contains("already used", lines[1].Error, StringComparison.Ordinal);
        Assert.Equal(3, lines[1].Line);
    }
}
