using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using JudgeHost.Abstractions;
using Microsoft.ML.Tokenizers;

namespace JudgeHost.Backbone;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (Qwen2, Qwen2.5, Qwen3, Llama 3, Llama 3.1) read from a model directory's
/// <c>tokenizer.json</c> and <c>tokenizer_config.json</c>, giving the ids of the tokenizers library.
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> applies the merges; this class does the rest of the HF
/// pipeline the way tokenizers does: added tokens split out of the raw text first, NFC where the normalizer says
/// so, the Split pre-tokenizer over code points (not UTF-16 units), <c>ignore_merges</c>, the TemplateProcessing
/// BOS, and the byte-level decode.
/// </summary>
public sealed class HfTokenizer
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly FrozenDictionary<char, byte> CharToByte =
        ByteToChar.Select((c, b) => (c, b)).ToFrozenDictionary(x => x.c, x => (byte)x.b);

    private readonly BpeTokenizer _bpe;
    private readonly FrozenDictionary<string, int> _vocab;
    private readonly string?[] _idToToken;
    private readonly Dictionary<int, HfAddedToken> _addedById;
    private readonly AddedTokenMatcher _rawAdded;
    private readonly AddedTokenMatcher _normalizedAdded;
    private readonly HfTokenizerFile _file;

    private HfTokenizer(HfTokenizerFile file)
    {
        _file = file;
        _vocab = file.Vocab.ToFrozenDictionary(StringComparer.Ordinal);
        _addedById = file.AddedTokens.ToDictionary(t => t.Id);
        _rawAdded = new AddedTokenMatcher(file.AddedTokens.Where(t => !t.Normalized));
        _normalizedAdded = new AddedTokenMatcher(file.AddedTokens.Where(t => t.Normalized));
        VocabSize = Math.Max(file.Vocab.Count == 0 ? 0 : file.Vocab.Values.Max(), file.AddedTokens.Count == 0 ? 0 : file.AddedTokens.Max(t => t.Id)) + 1;
        _idToToken = new string?[VocabSize];
        foreach (var (token, id) in file.Vocab)
        {
            _idToToken[id] = token;
        }

        foreach (var token in file.AddedTokens)
        {
            _idToToken[token.Id] = token.Content;
        }

        SpecialTokens = file.AddedTokens.Where(t => t.Special).ToDictionary(t => t.Content, t => t.Id).ToFrozenDictionary(StringComparer.Ordinal);
        AddedTokens = file.AddedTokens.ToDictionary(t => t.Content, t => t.Id).ToFrozenDictionary(StringComparer.Ordinal);

        // Added tokens are split out before BPE and pre-tokenization happens here, so the BPE model sees one word
        // at a time with neither a pre-tokenizer nor special tokens of its own.
        _bpe = BpeTokenizer.Create(new BpeOptions(file.Vocab) { Merges = file.Merges, ByteLevel = true });
    }

    /// <summary>Rows an embedding needs for every id this tokenizer can produce: the largest id, added tokens included, plus one.</summary>
    public int VocabSize { get; }

    /// <summary>Added tokens marked special (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>): dropped by <c>skipSpecialTokens</c>.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Every added token, special or not (Qwen3's <c>&lt;think&gt;</c> is added but not special).</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; }

    public string? BosToken => _file.BosToken;

    public int? BosTokenId => _file.BosToken is { } t ? TokenToId(t) : null;

    public string? EosToken => _file.EosToken;

    public int? EosTokenId => _file.EosToken is { } t ? TokenToId(t) : null;

    public string? PadToken => _file.PadToken;

    /// <summary>
    /// True when <c>addSpecialTokens</c> puts ids before the text: Llama 3's TemplateProcessing adds
    /// <c>&lt;|begin_of_text|&gt;</c>; Qwen adds nothing. Chat templates already render the BOS as text, so encode a
    /// rendered prompt with <c>addSpecialTokens: false</c> (as transformers' apply_chat_template does).
    /// </summary>
    public bool AddsBosToken => _file.PrefixIds.Length > 0;

    /// <summary>tokenizer_config.json's clean_up_tokenization_spaces: what transformers' decode does by default.</summary>
    public bool CleanUpTokenizationSpaces => _file.CleanUpTokenizationSpaces;

    /// <summary>tokenizer_config.json's chat_template text, or null when there is none.</summary>
    public string? ChatTemplateText => _file.ChatTemplate;

    /// <summary>Reads <c>tokenizer.json</c> and, if present, <c>tokenizer_config.json</c> from a model directory.</summary>
    public static HfTokenizer Load(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new JudgeHostException($"Model directory '{modelDirectory}' does not exist. Pass a local Hugging Face model directory.");
        }

        string tokenizerJson = Path.Combine(modelDirectory, "tokenizer.json");
        if (!File.Exists(tokenizerJson))
        {
            throw new JudgeHostException(
                $"Model directory '{modelDirectory}' has no tokenizer.json. Download the checkpoint's tokenizer files " +
                "(tokenizer.json, tokenizer_config.json) into it; only Hugging Face fast-tokenizer files are supported.");
        }

        try
        {
            return new HfTokenizer(HfTokenizerFile.Read(tokenizerJson, Path.Combine(modelDirectory, "tokenizer_config.json")));
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
        {
            // A value of the wrong JSON kind, a missing key, duplicate ids or a merge of unknown tokens.
            throw new CorruptCheckpointException(
                $"'{tokenizerJson}' has an unexpected layout ({e.Message}). Re-download the checkpoint's tokenizer files.", e);
        }
    }

    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return AddedTokens.TryGetValue(token, out int added) ? added : _vocab.TryGetValue(token, out int id) ? id : null;
    }

    /// <summary>The token's text as stored: byte-level for vocab entries (space is 'Ġ'), literal for added tokens.</summary>
    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>
    /// Token ids for <paramref name="text"/>. Added tokens written in the text (<c>&lt;|im_end|&gt;</c>) become their single
    /// id, as in Hugging Face; <paramref name="addSpecialTokens"/> adds the post-processor's ids (Llama 3's BOS).
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_file.PrefixIds);
        }

        foreach (var (start, length, addedId) in _rawAdded.Split(text))
        {
            if (addedId >= 0)
            {
                ids.Add(addedId);
                continue;
            }

            string segment = text.Substring(start, length);
            if (_file.Nfc)
            {
                segment = UnicodeNfc.Normalize(segment);
            }

            foreach (var (innerStart, innerLength, innerId) in _normalizedAdded.Split(segment))
            {
                if (innerId >= 0)
                {
                    ids.Add(innerId);
                }
                else
                {
                    EncodeSegment(segment.Substring(innerStart, innerLength), ids);
                }
            }
        }

        if (addSpecialTokens)
        {
            ids.AddRange(_file.SuffixIds);
        }

        return ids;
    }

    /// <summary>
    /// Text for <paramref name="ids"/>, lossless: decoding the ids of a text gives the text back (after the normalizer).
    /// Bytes that are not valid UTF-8 on their own (a cut multi-byte character) become U+FFFD, and ids outside the
    /// vocabulary are skipped, as in Hugging Face.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false) => Decode(ids, skipSpecialTokens, cleanUpTokenizationSpaces: false);

    /// <summary>
    /// As <see cref="Decode(IEnumerable{int}, bool)"/>; with <paramref name="cleanUpTokenizationSpaces"/> it also applies
    /// transformers' clean-up (" ." → ".", " n't" → "n't", ...), which is what transformers' decode returns for a
    /// checkpoint whose <see cref="CleanUpTokenizationSpaces"/> is true (Llama 3.1).
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens, bool cleanUpTokenizationSpaces)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            // An id with no token is dropped, as tokenizers does: Qwen's embedding has rows past the tokenizer
            // (151936 vs 151669) that sampling can, rarely, pick.
            string? token = IdToToken(id);
            if (token is null || (skipSpecialTokens && _addedById.TryGetValue(id, out var added) && added.Special))
            {
                continue;
            }

            // tokenizers' ByteLevel decoder: a token whose characters all belong to the byte alphabet becomes those
            // bytes; any other token (an added token with other characters) contributes its own UTF-8.
            if (token.All(CharToByte.ContainsKey))
            {
                foreach (char c in token)
                {
                    bytes.Add(CharToByte[c]);
                }
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }

        string text = Encoding.UTF8.GetString(bytes.ToArray());
        return cleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    private static string CleanUp(string text) =>
        text.Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
            .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
            .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
            .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
            .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    private void EncodeSegment(string segment, List<int> ids)
    {
        if (segment.Length == 0)
        {
            return;
        }

        IEnumerable<string> words = [segment];
        foreach (var rule in _file.Splits)
        {
            words = words.SelectMany(w => PreTokenizerSplit.Split(w, rule)).ToList();
        }

        foreach (string word in words)
        {
            // ignore_merges (Llama 3): a word that is itself in the vocabulary is that token, whatever the merges say.
            if (_file.IgnoreMerges && _vocab.TryGetValue(ToByteLevel(word), out int whole))
            {
                ids.Add(whole);
                continue;
            }

            ids.AddRange(_bpe.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
        }
    }

    private static string ToByteLevel(string word)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(word);
        return string.Create(bytes.Length, bytes, static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                span[i] = ByteToChar[b[i]];
            }
        });
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 onwards.</summary>
    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }

    /// <summary>
    /// Finds added tokens in text the way tokenizers' AddedVocabulary does: leftmost-longest, honouring single_word,
    /// and with lstrip/rstrip absorbing the whitespace beside a match.
    /// </summary>
    private sealed class AddedTokenMatcher
    {
        private readonly Dictionary<char, HfAddedToken[]> _byFirstChar;

        public AddedTokenMatcher(IEnumerable<HfAddedToken> tokens)
        {
            _byFirstChar = tokens.Where(t => t.Content.Length > 0).GroupBy(t => t.Content[0])
                .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        }

        /// <summary>Consecutive (start, length, id) pieces covering the text; id is -1 for ordinary text.</summary>
        public List<(int Start, int Length, int Id)> Split(string text)
        {
            var pieces = new List<(int Start, int Length, int Id)>();
            int plainStart = 0;
            for (int i = 0; i < text.Length;)
            {
                var token = _byFirstChar.Count == 0 ? null : Match(text, i);
                if (token is null)
                {
                    i++;
                    continue;
                }

                int start = i, end = i + token.Content.Length;
                if (token.SingleWord && ((start > 0 && IsWordChar(text, start - 1)) || (end < text.Length && IsWordChar(text, end))))
                {
                    i = end;
                    continue;
                }

                while (token.LStrip && start > plainStart && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }

                while (token.RStrip && end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }

                if (start > plainStart)
                {
                    pieces.Add((plainStart, start - plainStart, -1));
                }

                pieces.Add((start, end - start, token.Id));
                plainStart = i = end;
            }

            if (plainStart < text.Length || pieces.Count == 0)
            {
                pieces.Add((plainStart, text.Length - plainStart, -1));
            }

            return pieces;
        }

        private HfAddedToken? Match(string text, int index)
        {
            if (!_byFirstChar.TryGetValue(text[index], out var candidates))
            {
                return null;
            }

            foreach (var candidate in candidates)
            {
                if (text.AsSpan(index).StartsWith(candidate.Content, StringComparison.Ordinal))
                {
                    return candidate;
                }
            }

            return null;
        }

        private static bool IsWordChar(string text, int index) =>
            char.IsLetterOrDigit(text, index) || text[index] == '_' || CharUnicodeInfo.GetUnicodeCategory(text, index) == UnicodeCategory.NonSpacingMark;
    }
}
