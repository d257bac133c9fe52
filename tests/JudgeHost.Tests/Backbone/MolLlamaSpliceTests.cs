using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>
/// Mol-LLaMA prompts: the reference's hand-built Llama-3 turns, and molecules spliced where the reference's
/// mol_token_flag puts them — each molecule's 8 query embeddings exactly at the positions of its 8 &lt;mol&gt; ids in
/// the tokenization of the expanded text, every other id unchanged.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MolLlamaSpliceTests
{
    private static readonly HfTokenizer Tokenizer = MolLlamaTestModels.FullTokenizer;
    private static readonly string Mol8 = string.Concat(Enumerable.Repeat("<mol>", 8));

    [Fact]
    public void Template_IsTheReferencesHandBuiltText()
    {
        var template = ChatTemplate.FromTokenizer(Tokenizer, MolLlamaConfig.ModelType);
        const string System = "\n\nYou are a judge.";
        const string User = "\n\n[Question]\n\nMolecule <mol>.\n\n[Assistant's Answer]\n  reasoning  ";

        string text = template.Render([new ChatMessage("system", System), new ChatMessage("user", User)]);

        // tokenize_messages_llama3: system and user segments verbatim (no trim, no date block), assistant header
        // appended to the user turn.
        Assert.Equal(ChatTemplateFormat.MolLlama3, template.Format);
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + System + "<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\n" + User + "<|eot_id|>" + "<|start_header_id|>assistant<|end_header_id|>\n\n",
            text);
    }

    [Theory]
    [InlineData(1)]   // the reference's case
    [InlineData(3)]   // several molecules in one prompt (the reference cannot)
    public void Build_PutsEachMoleculeWhereItsMolTokensAre(int molecules)
    {
        string Body(Func<int, string> slot) => "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nCompare"
            + string.Concat(Enumerable.Range(0, molecules).Select(i => $" molecule {i + 1} {slot(i)},"))
            + " please.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>";
        var media = Enumerable.Range(0, molecules).Select(i => new EncodedMedia(full(8, 4, (float)i), new PositionLayout.Sequence(8))).ToArray();
        try
        {
            var input = MediaSplicer.Build(Body(MediaSplicer.MarkerFor), media, Tokenizer, MediaFraming.MolLlama, mrope: false, tokensPerSecond: 0);

            var reference = Tokenizer.Encode(Body(_ => Mol8));
            int mol = Tokenizer.TokenToId("<mol>")!.Value;
            var expectedMol = reference.Select((id, i) => (id, i)).Where(x => x.id == mol).Select(x => x.i).ToArray();
            var actualMol = new List<int>();
            var text = new List<int>();
            int position = 0;
            int next = 0;
            foreach (var segment in input.Segments)
            {
                if (segment is SequenceSegment.Embeddings e)
                {
                    Assert.Equal((float)next++, e.Values[0, 0].item<float>());       // molecules in order
                    actualMol.AddRange(Enumerable.Range(position, e.Length));
                }
                else
                {
                    text.AddRange(((SequenceSegment.Tokens)segment).Ids);
                }

                position += segment.Length;
            }

            Assert.Equal(8 * molecules, expectedMol.Length);
            Assert.Equal(expectedMol, actualMol);
            Assert.Equal(reference.Where(id => id != mol), text);
            Assert.Equal(reference.Count, input.Length);
        }
        finally
        {
            foreach (var m in media)
            {
                m.Dispose();
            }
        }
    }

    [Fact]
    public void Build_MolTokenOutsideTheMolecules_IsRefused()
    {
        using var media = new EncodedMedia(zeros(8, 4), new PositionLayout.Sequence(8));
        string text = "Molecule " + MediaSplicer.MarkerFor(0) + ".\n\n[Assistant's Answer]\nI think <mol> is toxic.";

        var e = Assert.Throws<JudgeHostException>(() => MediaSplicer.Build(text, [media], Tokenizer, MediaFraming.MolLlama, false, 0));

        Assert.Contains("'<mol>' outside the media placeholders", e.Message, StringComparison.Ordinal);
    }
}
