using TorchSharp;

namespace JudgeHost.Abstractions;

/// <summary>
/// The output of an encoder: embeddings <c>[n_tokens, hidden]</c> and their position layout. Owns the tensor;
/// the host disposes it after splicing it into the input sequence.
/// </summary>
public sealed class EncodedMedia : IDisposable
{
    /// <summary>Creates the result and checks that the layout matches the embedding rows.</summary>
    /// <param name="embeddings">A 2-D tensor <c>[n_tokens, hidden]</c>; ownership passes to this object.</param>
    /// <param name="layout">Position layout with <see cref="PositionLayout.TokenCount"/> equal to <c>n_tokens</c>.</param>
    public EncodedMedia(torch.Tensor embeddings, PositionLayout layout)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(layout);
        if (embeddings.dim() != 2)
        {
            throw new ArgumentException($"Embeddings must be 2-D [n_tokens, hidden]; got shape [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        }

        if (embeddings.shape[0] != layout.TokenCount)
        {
            throw new ArgumentException($"Layout describes {layout.TokenCount} tokens but embeddings have {embeddings.shape[0]} rows.", nameof(layout));
        }

        Embeddings = embeddings;
        Layout = layout;
    }

    /// <summary>Embeddings <c>[n_tokens, hidden]</c> in the backbone's dtype and device.</summary>
    public torch.Tensor Embeddings { get; }

    /// <summary>How the rows are placed in position space.</summary>
    public PositionLayout Layout { get; }

    /// <summary>Number of embedding rows.</summary>
    public int TokenCount => Layout.TokenCount;

    /// <inheritdoc />
    public void Dispose() => Embeddings.Dispose();
}
