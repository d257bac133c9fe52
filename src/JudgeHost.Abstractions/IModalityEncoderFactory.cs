namespace JudgeHost.Abstractions;

/// <summary>
/// Creates encoders for one modality. Registered by a plugin as a singleton
/// (<c>services.AddSingleton&lt;IModalityEncoderFactory, MyFactory&gt;()</c>); the host picks the factory
/// whose <see cref="Modality"/> matches a media item and whose <see cref="Families"/> contains the loaded
/// checkpoint's family.
/// </summary>
public interface IModalityEncoderFactory
{
    /// <summary>Modality name used in requests, lower case: <c>image</c>, <c>video</c>, <c>audio</c>, <c>molecule</c>, or a new one.</summary>
    string Modality { get; }

    /// <summary>
    /// Checkpoint families (the <c>model_type</c> of <c>config.json</c>, e.g. <c>qwen2_5_vl</c>) this factory
    /// can encode for. An empty list means any family: the encoder adapts to the hidden size it is given.
    /// </summary>
    IReadOnlyList<string> Families { get; }

    /// <summary>
    /// The checkpoint tensor prefix this plugin owns, e.g. <c>visual.</c> or <c>thinker.audio_tower.</c>.
    /// The host hands the plugin exactly these tensors, with the prefix removed, through
    /// <see cref="EncoderContext.Weights"/>. Empty when the encoder needs no weights.
    /// </summary>
    string WeightPrefix { get; }

    /// <summary>
    /// Builds an encoder for one loaded model: load weights from <see cref="EncoderContext.Weights"/> here,
    /// once. Throw <see cref="MissingWeightsException"/> when a tensor the encoder needs is absent.
    /// </summary>
    /// <param name="context">The model the encoder feeds.</param>
    IModalityEncoder Create(EncoderContext context);
}
