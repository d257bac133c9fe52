namespace Modalities.Image;

/// <summary>
/// What <see cref="Qwen2VLImageProcessor.Preprocess"/> produces for one image: HF's <c>pixel_values</c>
/// (row-major <c>[Rows, Columns]</c> float32, <c>Columns = 3 * temporal_patch_size * patch_size^2</c> = 1176) and
/// <c>image_grid_thw</c> = (<see cref="GridT"/>, <see cref="GridH"/>, <see cref="GridW"/>).
/// </summary>
/// <param name="PixelValues">Rows * Columns values; row order (t, block row, block column, row in block, column in block),
/// column order (channel, frame, y, x), as MODEL_SPEC §3.2.</param>
/// <param name="Rows">Patches: GridT * GridH * GridW.</param>
/// <param name="Columns">Values per patch: 3 * temporal_patch_size * patch_size * patch_size.</param>
/// <param name="GridT">Temporal patches (1 for an image).</param>
/// <param name="GridH">Patch rows: resized height / patch_size.</param>
/// <param name="GridW">Patch columns: resized width / patch_size.</param>
/// <param name="ResizedHeight">Height after smart_resize.</param>
/// <param name="ResizedWidth">Width after smart_resize.</param>
/// <param name="TokenCount">LLM placeholder tokens after the 2x2 merge: Rows / merge_size^2.</param>
public sealed record Qwen2VLImageFeatures(
    float[] PixelValues,
    int Rows,
    int Columns,
    int GridT,
    int GridH,
    int GridW,
    int ResizedHeight,
    int ResizedWidth,
    int TokenCount);
