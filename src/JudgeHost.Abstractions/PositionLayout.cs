namespace JudgeHost.Abstractions;

/// <summary>
/// How the rows of <see cref="EncodedMedia.Embeddings"/> are placed in position space, so the host can build
/// 1-D RoPE or 3-row M-RoPE position ids without knowing the modality.
/// </summary>
public abstract record PositionLayout
{
    private protected PositionLayout()
    {
    }

    /// <summary>Number of embedding rows this layout describes.</summary>
    public abstract int TokenCount { get; }

    /// <summary>A 1-D run of tokens (audio frames, molecule queries, sample plugins): positions advance by one per token.</summary>
    /// <param name="Length">Number of tokens.</param>
    public sealed record Sequence(int Length) : PositionLayout
    {
        /// <inheritdoc />
        public override int TokenCount => Length;
    }

    /// <summary>
    /// A (t, h, w) grid in merged-token units (rows are ordered t, then h, then w), with the seconds one
    /// temporal step spans (0 for a still image). Qwen2.5-VL uses it for M-RoPE's temporal, height and width rows.
    /// </summary>
    /// <param name="Temporal">Temporal steps.</param>
    /// <param name="Height">Rows of merged tokens.</param>
    /// <param name="Width">Columns of merged tokens.</param>
    /// <param name="SecondsPerTemporalStep">Seconds covered by one temporal step; 0 for images.</param>
    public sealed record Grid(int Temporal, int Height, int Width, double SecondsPerTemporalStep) : PositionLayout
    {
        /// <inheritdoc />
        public override int TokenCount => Temporal * Height * Width;
    }
}
