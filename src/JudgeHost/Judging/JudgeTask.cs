using System.Text.Json.Serialization;

namespace JudgeHost.Judging;

/// <summary>The four judging tasks.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JudgeTask>))]
public enum JudgeTask
{
    /// <summary>One candidate, one score on a scale.</summary>
    [JsonStringEnumMemberName("pointwise")]
    Pointwise,

    /// <summary>Two candidates: A, B or tie.</summary>
    [JsonStringEnumMemberName("pairwise")]
    Pairwise,

    /// <summary>N candidates ranked best first.</summary>
    [JsonStringEnumMemberName("ranking")]
    Ranking,

    /// <summary>A yes/no question about the media or one candidate (MT-RL-Judge style aspects).</summary>
    [JsonStringEnumMemberName("binary")]
    Binary,
}

/// <summary>Outcome of a pairwise comparison.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PairOutcome>))]
public enum PairOutcome
{
    /// <summary>The first candidate (A) is better.</summary>
    [JsonStringEnumMemberName("A")]
    A,

    /// <summary>The second candidate (B) is better.</summary>
    [JsonStringEnumMemberName("B")]
    B,

    /// <summary>Equally good.</summary>
    [JsonStringEnumMemberName("tie")]
    Tie,

    /// <summary>Both bad (GenAI-Bench's fourth option, <c>[[A=B=Bad]]</c>).</summary>
    [JsonStringEnumMemberName("both_bad")]
    BothBad,
}
