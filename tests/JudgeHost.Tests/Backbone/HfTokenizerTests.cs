using System.Globalization;
using System.Text;
using System.Text.Json;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// Ids against references from the Hugging Face tokenizer pipeline (tools/tokenizer/make_fixtures.js) on the real
/// Qwen3 and Llama-3.1 tokenizer files in Fixtures/tokenizers.
/// </summary>
public sealed class HfTokenizerTests
{
    private static readonly Lazy<HfTokenizer> Qwen3 = new(() => HfTokenizer.Load(FixtureDir("qwen3")));
    private static readonly Lazy<HfTokenizer> Llama31 = new(() => HfTokenizer.Load(FixtureDir("llama3_1")));

    internal static string FixtureDir(string name) => Path.Combine(RepoPaths.Fixtures, "tokenizers", name);

    internal static HfTokenizer Tokenizer(string name) => name == "qwen3" ? Qwen3.Value : Llama31.Value;

    [Theory]
    [InlineData("qwen3")]    // NFC normalizer, single-digit split, added tokens that are not special
    [InlineData("llama3_1")] // no normalizer, digits in threes, ignore_merges, BOS from TemplateProcessing
    public void Encode_ReferenceCorpus_MatchesHuggingFaceIds(string name)
    {
        var tokenizer = Tokenizer(name);
        var cases = ReferenceCases(name);

        var mismatches = cases
            .Where(c => !tokenizer.Encode(c.Text).SequenceEqual(c.Ids))
            .Select(c => $"{Show(c.Text)}: expected [{string.Join(", ", c.Ids)}], got [{string.Join(", ", tokenizer.Encode(c.Text))}]")
            .ToList();

        Assert.True(cases.Count >= 40, $"only {cases.Count} reference strings");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count}/{cases.Count} differ:\n{string.Join("\n", mismatches)}");
    }

    [Theory]
    [InlineData("qwen3")]    // adds nothing
    [InlineData("llama3_1")] // adds <|begin_of_text|>, even before a BOS written in the text
    public void Encode_AddSpecialTokens_MatchesHuggingFaceIds(string name)
    {
        var tokenizer = Tokenizer(name);

        var mismatches = ReferenceCases(name).Where(c => !tokenizer.Encode(c.Text, addSpecialTokens: true).SequenceEqual(c.IdsWithSpecialTokens)).Select(c => Show(c.Text)).ToList();

        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3_1")]
    public void Decode_ReferenceIds_MatchesHuggingFaceText(string name)
    {
        var tokenizer = Tokenizer(name);

        var mismatches = ReferenceCases(name)
            .Where(c => tokenizer.Decode(c.Ids) != c.Decoded
                || tokenizer.Decode(c.Ids, skipSpecialTokens: true) != c.DecodedSkipSpecial
                || tokenizer.Decode(c.Ids, false, tokenizer.CleanUpTokenizationSpaces) != c.DecodedWithCleanup)
            .Select(c => Show(c.Text))
            .ToList();

        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("qwen3")]    // decodes to the NFC form of the text (the normalizer's output), as the reference does
    [InlineData("llama3_1")] // decodes to the text itself
    public void Decode_OfEncode_GivesTheNormalizedText(string name)
    {
        var tokenizer = Tokenizer(name);

        var mismatches = ReferenceCases(name)
            .Where(c => tokenizer.Decode(tokenizer.Encode(c.Text)) != c.Decoded || (name == "llama3_1" && c.Decoded != c.Text))
            .Select(c => Show(c.Text))
            .ToList();

        Assert.Empty(mismatches);
    }

    [Fact]
    public void Encode_ConcurrentCallers_GetTheSameIds()
    {
        // The judge encodes prompts from several requests at once; BPE's word cache is shared between them.
        var tokenizer = Tokenizer("qwen3");
        var cases = ReferenceCases("qwen3");

        var results = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8)
            .Select(_ => cases.All(c => tokenizer.Encode(c.Text).SequenceEqual(c.Ids)))
            .ToList();

        Assert.All(results, Assert.True);
    }

    [Fact]
    public void Load_Qwen3_ReadsVocabularyAndSpecialTokens()
    {
        var tokenizer = Tokenizer("qwen3");

        Assert.Equal(151669, tokenizer.VocabSize);
        Assert.False(tokenizer.AddsBosToken);
        Assert.Null(tokenizer.BosToken);
        Assert.Equal("<|im_end|>", tokenizer.EosToken);
        Assert.Equal(151645, tokenizer.EosTokenId);
        Assert.Equal(151645, tokenizer.SpecialTokens["<|im_end|>"]);
        Assert.False(tokenizer.SpecialTokens.ContainsKey("<think>"));
        Assert.Equal(151667, tokenizer.AddedTokens["<think>"]);
        Assert.Equal(220, tokenizer.TokenToId("Ġ"));
        Assert.Equal("<|im_start|>", tokenizer.IdToToken(151644));
        Assert.Null(tokenizer.IdToToken(-1));
        Assert.Null(tokenizer.IdToToken(tokenizer.VocabSize));
        Assert.Null(tokenizer.TokenToId("no such token"));
    }

    [Fact]
    public void Load_Llama31_AddsBeginOfText()
    {
        var tokenizer = Tokenizer("llama3_1");

        Assert.Equal(128256, tokenizer.VocabSize);
        Assert.True(tokenizer.AddsBosToken);
        Assert.Equal("<|begin_of_text|>", tokenizer.BosToken);
        Assert.Equal(128000, tokenizer.BosTokenId);
        Assert.Equal(128009, tokenizer.EosTokenId);
        Assert.True(tokenizer.CleanUpTokenizationSpaces);
        Assert.Equal([128000, 9906], tokenizer.Encode("Hello", addSpecialTokens: true));
        Assert.Equal(256, tokenizer.SpecialTokens.Count);
    }

    [Fact]
    public void Decode_CutMultiByteCharacter_GivesReplacementCharacter()
    {
        var tokenizer = Tokenizer("llama3_1");
        var ids = tokenizer.Encode("😀");

        string firstToken = tokenizer.Decode(ids.Take(1));

        Assert.True(ids.Count > 1, "the emoji should be split over byte tokens");
        Assert.Equal("\uFFFD", firstToken);
        Assert.Equal("😀", tokenizer.Decode(ids));
    }

    [Fact]
    public void Decode_IdPastTheTokenizer_IsDropped()
    {
        // Qwen3's embedding has 151936 rows but the tokenizer 151669 ids; tokenizers skips ids it has no token for.
        var tokenizer = Tokenizer("qwen3");

        string text = tokenizer.Decode([9707, 151900, -1, 0]);

        Assert.Equal("Hello!", text);
    }

    [Fact]
    public void Load_MissingDirectory_IsUserError()
    {
        using var dir = new TempDir();

        var e = Assert.Throws<JudgeHostException>(() => HfTokenizer.Load(dir.Combine("absent")));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoTokenizerJson_NamesTheFile()
    {
        using var dir = new TempDir();

        var e = Assert.Throws<JudgeHostException>(() => HfTokenizer.Load(dir.Path));

        Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
        Assert.True(e.IsUserError);
    }

    [Fact]
    public void Load_TruncatedTokenizerJson_IsCorruptCheckpoint()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0");

        var e = Assert.Throws<CorruptCheckpointException>(() => HfTokenizer.Load(dir.Path));

        Assert.Contains(dir.Combine("tokenizer.json"), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "model type 'WordPiece'")] // BERT-style model
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"decoder\": {\"type\": \"Metaspace\"}}", "decoder")] // SentencePiece-style BPE (Llama 2)
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"decoder\": {\"type\": \"ByteLevel\"}, \"normalizer\": {\"type\": \"Lowercase\"}}", "Lowercase normalizer")] // a normalizer with no exact equivalent here
    public void Load_UnsupportedTokenizer_SaysWhat(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("tokenizer.json"), json);

        var e = Assert.Throws<JudgeHostException>(() => HfTokenizer.Load(dir.Path));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingMerges_IsCorruptCheckpoint()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"decoder\": {\"type\": \"ByteLevel\"}}");

        var e = Assert.Throws<CorruptCheckpointException>(() => HfTokenizer.Load(dir.Path));

        Assert.Contains("'merges'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"zero\"}, \"merges\": []}, \"decoder\": {\"type\": \"ByteLevel\"}}")] // an id that is not a number
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"decoder\": {\"type\": \"ByteLevel\"}, \"added_tokens\": [{\"content\": \"<x>\"}]}")] // an added token without an id
    public void Load_WrongLayout_IsCorruptCheckpoint(string json)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("tokenizer.json"), json);

        var e = Assert.Throws<CorruptCheckpointException>(() => HfTokenizer.Load(dir.Path));

        Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_EveryBmpCodePoint_MatchesIcuNfc()
    {
        // The host runs invariant (no ICU); this test process has ICU, which is the reference.
        Assert.True("e\u0301".Normalize(NormalizationForm.FormC) == "é", "ICU normalisation is not available in the test process.");
        var differences = new List<string>();

        for (int cp = 0; cp <= 0xFFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF || CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.OtherNotAssigned)
            {
                continue;
            }

            string s = char.ConvertFromUtf32(cp);
            string withMark = "a" + s + "\u0301\u0316"; // exercises composition and reordering around it
            foreach (string text in (string[])[s, withMark])
            {
                if (UnicodeNfc.Normalize(text) != text.Normalize(NormalizationForm.FormC))
                {
                    differences.Add($"U+{cp:X4}");
                }
            }
        }

        Assert.Empty(differences);
    }

    [Theory]
    [InlineData("cafe\u0301", "caf\u00E9")]                                     // composition with a following mark
    [InlineData("\u212B \u2126 \u0344", "\u00C5 \u03A9 \u0308\u0301")]          // singletons and a non-starter decomposition
    [InlineData("a\u0316\u0301\u0300b", "\u00E1\u0316\u0300b")]                // marks out of canonical order; the second 230 is blocked
    [InlineData("\u1100\u1161\u11A8 \uAC00\u11A8", "\uAC01 \uAC01")]          // Hangul jamo to syllables, LV + T
    [InlineData("\U0001D15E \U0002F800", "\U0001D157\U0001D165 \u4E3D")]       // astral: composition exclusion, CJK compatibility
    [InlineData("\u0301leading mark", "\u0301leading mark")]                     // a mark with no starter before it
    public void Normalize_Sequences_GiveNfc(string text, string expected)
    {
        Assert.Equal(expected, UnicodeNfc.Normalize(text));
    }

    [Fact]
    public void Normalize_LoneSurrogate_PassesThrough()
    {
        // string.Normalize throws here; the tokenizer must not (the surrogate becomes U+FFFD bytes later, as in UTF-8).
        Assert.Equal("\u00E9\uD800x\uDC00", UnicodeNfc.Normalize("e\u0301\uD800x\uDC00"));
    }

    private static string Show(string text) => JsonSerializer.Serialize(text);

    internal sealed record ReferenceCase(string Text, int[] Ids, int[] IdsWithSpecialTokens, string Decoded, string DecodedSkipSpecial, string DecodedWithCleanup);

    internal static List<ReferenceCase> ReferenceCases(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FixtureDir(name), "reference_ids.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new ReferenceCase(
            c.GetProperty("text").GetString()!,
            c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
            c.GetProperty("ids_with_special_tokens").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
            c.GetProperty("decoded").GetString()!,
            c.GetProperty("decoded_skip_special").GetString()!,
            c.GetProperty("decoded_with_cleanup").GetString()!)).ToList();
    }
}
