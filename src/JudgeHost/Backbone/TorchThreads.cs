using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>Temporarily limits libtorch's intra-op threads; restores the previous count on dispose.</summary>
public sealed class TorchThreads : IDisposable
{
    private readonly int _previous;

    private TorchThreads(int threads)
    {
        _previous = get_num_threads();
        if (_previous != threads)
        {
            set_num_threads(threads);
        }
    }

    public static TorchThreads Limit(int threads) => new(threads);

    public void Dispose()
    {
        if (get_num_threads() != _previous)
        {
            set_num_threads(_previous);
        }
    }
}
