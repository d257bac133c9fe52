namespace JudgeHost.Abstractions;

/// <summary>
/// Turns media items into embeddings for one loaded model. Created by <see cref="IModalityEncoderFactory.Create"/>;
/// the host disposes it with the model. <see cref="Encode"/> may be called from several threads one at a time
/// (never concurrently).
/// </summary>
public interface IModalityEncoder : IDisposable
{
    /// <summary>
    /// Encodes one item. Throw <see cref="InvalidMediaException"/> for input that cannot be used (missing,
    /// corrupt, unsupported, too large), naming the item and saying what to do.
    /// </summary>
    /// <param name="item">The media item from the request.</param>
    /// <param name="cancellationToken">Cancels long decoding (video, long audio).</param>
    /// <returns>Embeddings and their position layout; the caller owns and disposes the result.</returns>
    EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default);
}
