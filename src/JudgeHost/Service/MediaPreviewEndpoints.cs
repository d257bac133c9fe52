using System.Globalization;
using JudgeHost.Abstractions;
using JudgeHost.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace JudgeHost.Service;

/// <summary>
/// Media for the viewer, read through the same media-root guard as judging requests (<see cref="MediaResolver"/>:
/// paths relative to <c>--media-root</c> or absolute inside it; <c>..</c>, other absolute paths and symbolic links
/// leading out are 403): the file itself (images, audio, video; ranges for seeking), a video's frame strip, and a
/// molecule's structure and drawing from the molecule plugin's preprocessing.
/// </summary>
internal sealed class MediaPreviewEndpoints(MediaResolver media, VideoFrames video, IMediaPreprocessor? molecules, ServiceMetrics metrics)
{
    private const string Who = "viewer";
    private const int MaxFrames = 32;
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/media").WithTags("viewer");
        group.MapGet("/", (HttpContext http, string? path) => Run(http, () =>
            {
                string file = media.ResolvePath(Required(path, "path"), Who);
                return Task.FromResult(Results.File(file, ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream", enableRangeProcessing: true));
            }))
            .WithName("Media").WithSummary("A media file inside the media root (path relative to it), for the viewer; ranges supported.")
            .ProducesProblem(400).ProducesProblem(403);
        group.MapGet("/video", (HttpContext http, string? path, int? frames, int? width) => Run(http, async () =>
            {
                string name = Required(path, "path");
                string file = media.ResolvePath(name, Who);
                int count = Math.Clamp(frames ?? 8, 1, MaxFrames);
                var probe = await video.ProbeAsync(file, http.RequestAborted);
                var strip = VideoFrames.Times(probe.DurationSeconds, count).Select(t => new VideoFrameLink(t, FrameUrl(name, t, width ?? 240))).ToList();
                return Results.Json(new VideoStrip(name, probe.DurationSeconds, probe.Width, probe.Height, strip), JudgeJson.Options);
            }))
            .WithName("VideoFrames").WithSummary("A video's length, size and N evenly spaced frame times (middle of each slice) with their /v1/media/frame links.")
            .Produces<VideoStrip>(200).ProducesProblem(403).ProducesProblem(422);
        group.MapGet("/frame", (HttpContext http, string? path, double? t, int? width) => Run(http, async () =>
            {
                string file = media.ResolvePath(Required(path, "path"), Who);
                byte[] jpeg = await video.FrameJpegAsync(file, t ?? 0, Math.Clamp(width ?? 240, 16, 1920), http.RequestAborted);
                return Results.File(jpeg, "image/jpeg");
            }))
            .WithName("VideoFrame").WithSummary("One video frame at t seconds as JPEG (at most width pixels wide), decoded by ffmpeg.")
            .ProducesProblem(403).ProducesProblem(422);
        group.MapGet("/molecule", (HttpContext http, string? value, string? path) => Run(http, () =>
            {
                var preprocessor = molecules ?? throw new ServiceException(501, "No molecule plugin is loaded in this server, so molecules are shown as their SMILES only. Build the molecule plugin into the plugin folder.");
                var item = (value, path) switch
                {
                    ({ } smiles, null) => MediaItem.FromValue("molecule", smiles),
                    (null, { } p) => MediaItem.FromFile("molecule", media.ResolvePath(p, Who)),
                    _ => throw new ServiceException(400, "Give exactly one of value=SMILES and path=FILE (MOL/SDF inside the media root)."),
                };
                var tensors = preprocessor.Preprocess(item);
                try
                {
                    return Task.FromResult(Results.Json(MoleculeDrawing.FromPreprocessed(tensors), JudgeJson.Options));
                }
                finally
                {
                    foreach (var tensor in tensors.Values)
                    {
                        tensor.Dispose();
                    }
                }
            }))
            .WithName("Molecule").WithSummary("A molecule (SMILES value or MOL/SDF path) as atoms, bonds and an SVG drawing, from the molecule plugin's RDKit preprocessing.")
            .Produces<MoleculeStructure>(200).ProducesProblem(422).ProducesProblem(501);
    }

    private static string FrameUrl(string path, double seconds, int width) =>
        $"/v1/media/frame?path={Uri.EscapeDataString(path)}&t={seconds.ToString("0.###", CultureInfo.InvariantCulture)}&width={width}";

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw new ServiceException(400, $"The query parameter '{name}' is missing; give the media path relative to the media root.") : value;

    private async Task<IResult> Run(HttpContext http, Func<Task<IResult>> action)
    {
        int status = 200;
        try
        {
            return await action();
        }
        catch (ServiceException e)
        {
            status = e.StatusCode;
            return RequestContext.Problem(http, status, e.Message, null);
        }
        catch (JudgeHostException e)
        {
            // Unreadable media (a plugin's InvalidMediaException, ffmpeg failing on the file).
            status = 422;
            return RequestContext.Problem(http, status, e.Message, null);
        }
        finally
        {
            metrics.Request("media", status, 0);
        }
    }
}
