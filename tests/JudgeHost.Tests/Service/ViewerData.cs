using System.Text.Json;
using JudgeHost.Judging;
using JudgeHost.Pipelines;
using JudgeHost.Store;
using JudgeHost.Tests.Judging;
using JudgeHost.Tests.Pipelines;

namespace JudgeHost.Tests.Service;

/// <summary>
/// What the viewer tests browse: a media root (an image and a video from the plugins' fixtures) and a data root with
/// a <c>judge</c> input file, its output as the real judging code writes it (JudgeService over a scripted judge whose
/// answers are known: a pairwise image item whose orders agree, a position-biased pair whose orders disagree, an
/// unreadable verdict, a video score, yes/no on an image and on audio, and a ranking), and a best-of-n record; the
/// fixture adds a stored best-of-n job and a dpo output made by the real commands on the tiny checkpoint.
/// </summary>
public static class ViewerData
{
    public const string Requests = "run/requests.jsonl";
    public const string Judged = "run/judged.jsonl";
    public const string BestOfN = "best.jsonl";
    public const string PipelinePrompts = "jobs/prompts.jsonl";
    public const string BestOfNJob = "jobs/knockout.jsonl.job.db";
    public const string Dpo = "jobs/dpo.jsonl";

    /// <summary>Prompts with candidates for the real <c>best-of-n</c> and <c>dpo</c> commands on the tiny checkpoint.</summary>
    public static readonly string[] PipelinePromptLines =
    [
        """{"id":"prime","instruction":"Name a prime number.","candidates":["7","9","15"]}""",
        """{"id":"capital","instruction":"What is the capital of Italy?","candidates":["Rome","Milan"]}""",
    ];

    private static readonly string[] RequestLines =
    [
        """{"id":"cat-caption","task":"pairwise","instruction":"Which caption describes the image better?","media":[{"modality":"image","path":"images/photo.jpg"}],"candidates":["q=8 A synthetic photo with colour gradients.","q=3 A crowded street at night."],"label":"A"}""",
        """{"id":"order-bias","task":"pairwise","instruction":"Which answer names the capital of France? (first-shown)","candidates":["Paris","Lyon"],"label":"A"}""",
        """{"id":"unreadable","task":"pointwise","instruction":"Rate the answer to 2+2.","candidates":["four, I think"],"label":4}""",
        """{"id":"rate-video","task":"pointwise","instruction":"Rate how well the description matches the video.","media":[{"modality":"video","path":"clip.mp4"}],"candidates":["q=4 A colourful test pattern."],"label":4}""",
        """{"id":"natural-photo","task":"binary","instruction":"Does this image look like a natural photograph?","aspect":"naturalness","media":[{"modality":"image","path":"images/photo.jpg"}],"label":"yes"}""",
        """{"id":"clear-speech","task":"binary","instruction":"Is the speech clear?","aspect":"naturalness","media":[{"modality":"audio","path":"speech.wav"}],"label":"yes"}""",
        """{"id":"rank-three","task":"ranking","instruction":"Rank the answers to 'name a prime'.","candidates":["q=2 nine","q=9 seven","q=5 eleven-ish"],"label":"BCA"}""",
    ];

    /// <summary>The scripted judge: a "(first-shown)" question is answered for whatever is shown first; otherwise each candidate's q=N.</summary>
    public static string Script(JudgePrompt prompt)
    {
        if (prompt.User.Contains("(first-shown)", StringComparison.Ordinal))
        {
            return "<think>The first answer shown is the better one.</think><answer>8</answer><answer>3</answer>";
        }

        var qualities = QualityJudge.Candidates(prompt).Select(QualityJudge.Quality).ToList();
        if (qualities.Count == 0)
        {
            return "<think>Soft natural light and real textures: a photograph.</think><answer>yes</answer>";
        }

        return qualities.Any(q => q is null)
            ? "<think>I cannot tell how good this is</think>no verdict here"
            : "<think>Comparing each answer with the question and the media.</think>" + string.Concat(qualities.Select(q => $"<answer>{q}</answer>"));
    }

    /// <summary>Writes the media root and the data root; returns the judge results written.</summary>
    public static IReadOnlyList<JudgeResult> Write(string mediaRoot, string dataRoot)
    {
        Directory.CreateDirectory(Path.Combine(mediaRoot, "images"));
        File.Copy(Path.Combine(RepoPaths.Root, "tests", "Modalities.Image.Tests", "Fixtures", "images", "photo_q90_320x240.jpg"), Path.Combine(mediaRoot, "images", "photo.jpg"));
        File.Copy(Path.Combine(RepoPaths.Root, "tests", "Modalities.Video.Tests", "Fixtures", "videos", "h264_320x240_30fps_3s.mp4"), Path.Combine(mediaRoot, "clip.mp4"));
        foreach (string video in new[] { "one_frame.mp4", "not_a_video.mp4", "audio_only.m4a" })
        {
            File.Copy(Path.Combine(RepoPaths.Root, "tests", "Modalities.Video.Tests", "Fixtures", "videos", video), Path.Combine(mediaRoot, video));
        }

        File.Copy(Path.Combine(RepoPaths.Root, "tests", "Modalities.Audio.Tests", "Fixtures", "audio", "speech_22050_s16.wav"), Path.Combine(mediaRoot, "speech.wav"));

        Directory.CreateDirectory(Path.Combine(dataRoot, "run"));
        File.WriteAllLines(Path.Combine(dataRoot, Requests), RequestLines);
        var requests = RequestLines.Select(l => JsonSerializer.Deserialize<JudgeRequest>(l, JudgeJson.Options)!).ToList();
        var judge = new JudgeService(new ScriptedBackend(Script) { Modalities = new HashSet<string> { "image", "video", "audio" } }, new JudgeOptions { MaxNewTokens = 256 });
        var results = judge.Judge(requests);
        File.WriteAllLines(Path.Combine(dataRoot, Judged), results.Select(r => JsonSerializer.Serialize(r, JudgeJson.Options)));

        var selector = new BestOfNSelector(new JudgeService(QualityJudge.Honest(), new JudgeOptions { MaxNewTokens = 256 }), new BestOfNOptions { Method = SelectionMethod.Knockout, Seed = 1 });
        var best = selector.Select(new PromptItem { Id = "pick-best", Instruction = "Name a large prime." }, Candidate.FromInput(["q=3 101", "q=7 7919", "q=5 997"]));
        File.WriteAllText(Path.Combine(dataRoot, BestOfN), JsonSerializer.Serialize(best, JudgeJson.Options) + "\n");
        return results;
    }
}
