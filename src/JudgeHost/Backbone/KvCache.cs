using TorchSharp;
using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>
/// A preallocated key/value cache for every decoder layer: K (after bias and RoPE) and V as
/// <c>[B, Hkv, capacity, d]</c>, plus a <c>[B, capacity]</c> validity mask, so padding can sit anywhere
/// (left-padded batches, right-padded continuations after a shared prefix). Grows by doubling. Owns its tensors.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private Tensor _valid;   // [B, capacity] bool

    public KvCache(int layers, int batch, int kvHeads, int headDim, int capacity, ScalarType dtype, Device device)
    {
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = zeros([batch, kvHeads, capacity, headDim], dtype, device).DetachFromDisposeScope();
            _values[i] = zeros([batch, kvHeads, capacity, headDim], dtype, device).DetachFromDisposeScope();
        }

        _valid = zeros([batch, capacity], ScalarType.Bool, device).DetachFromDisposeScope();
        Batch = batch;
        Capacity = capacity;
    }

    private KvCache(Tensor[] keys, Tensor[] values, Tensor valid, int length)
    {
        _keys = keys;
        _values = values;
        _valid = valid;
        Batch = (int)valid.shape[0];
        Capacity = (int)valid.shape[1];
        Length = length;
    }

    public int Batch { get; }

    public int Capacity { get; private set; }

    /// <summary>Slots filled so far (valid or padding).</summary>
    public int Length { get; private set; }

    /// <summary>Validity of the filled slots, <c>[B, Length]</c> (a view).</summary>
    public Tensor Valid => _valid.narrow(1, 0, Length);

    /// <summary>Validity of the first <paramref name="slots"/> slots, including reserved ones (a view).</summary>
    public Tensor ValidSlots(int slots) => _valid.narrow(1, 0, slots);

    /// <summary>Makes room for <paramref name="steps"/> more slots and records which of them are real tokens.</summary>
    /// <param name="steps">Slots to add.</param>
    /// <param name="validNew"><c>[B, steps]</c> bool.</param>
    public void Reserve(int steps, Tensor validNew)
    {
        if (Length + steps > Capacity)
        {
            Grow(Math.Max(Capacity * 2, Length + steps));
        }

        _valid.narrow(1, Length, steps).copy_(validNew);
    }

    /// <summary>Writes a layer's new K/V at the reserved slots and returns the filled K/V <c>[B, Hkv, Length+S, d]</c> (views).</summary>
    public (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values)
    {
        int steps = (int)keys.shape[2];
        _keys[layer].narrow(2, Length, steps).copy_(keys);
        _values[layer].narrow(2, Length, steps).copy_(values);
        return (_keys[layer].narrow(2, 0, Length + steps), _values[layer].narrow(2, 0, Length + steps));
    }

    /// <summary>A layer's whole key buffer <c>[B, Hkv, capacity, d]</c>, for kernels that write the reserved slots in place.</summary>
    internal Tensor KeyBuffer(int layer) => _keys[layer];

    /// <summary>A layer's whole value buffer <c>[B, Hkv, capacity, d]</c>.</summary>
    internal Tensor ValueBuffer(int layer) => _values[layer];

    /// <summary>Marks the reserved slots as filled (after every layer has been updated).</summary>
    public void Commit(int steps) => Length += steps;

    /// <summary>
    /// A new cache of <paramref name="rows"/>.Length rows copied from the given rows of this one (row indices may
    /// repeat: forking one prefilled prefix into N continuations is <c>Select([0, 0, …])</c>).
    /// </summary>
    /// <param name="rows">Source row of each new row.</param>
    /// <param name="extraCapacity">Free slots after the copied ones.</param>
    /// <param name="length">Copy only the first slots (a shorter prefix of the cached sequence); default all.</param>
    public KvCache Select(IReadOnlyList<long> rows, int extraCapacity, int? length = null)
    {
        int kept = length ?? Length;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kept, Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(kept, 1);
        using var scope = NewDisposeScope();
        using var index = tensor(rows.ToArray(), device: _valid.device);
        int capacity = kept + Math.Max(extraCapacity, 1);
        Tensor Copy(Tensor t)
        {
            var selected = t.narrow(2, 0, kept).index_select(0, index);                      // [N, Hkv, kept, d]
            var target = zeros([rows.Count, t.shape[1], capacity, t.shape[3]], t.dtype, t.device);
            target.narrow(2, 0, kept).copy_(selected);
            return target.DetachFromDisposeScope();
        }

        var keys = _keys.Select(Copy).ToArray();
        var values = _values.Select(Copy).ToArray();
        var valid = zeros([rows.Count, capacity], ScalarType.Bool, _valid.device);
        valid.narrow(1, 0, kept).copy_(_valid.narrow(1, 0, kept).index_select(0, index));
        return new KvCache(keys, values, valid.DetachFromDisposeScope(), kept);
    }

    /// <summary>
    /// One cache holding several prefixes side by side: part i contributes <c>Rows</c> copies of the first
    /// <c>Kept</c> slots of its row 0, right-aligned to the longest kept length (the slots before a shorter prefix
    /// are padding), so rows of different prompts continue in one batch.
    /// </summary>
    public static KvCache Stack(IReadOnlyList<(KvCache Cache, int Kept, int Rows)> parts, int extraCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfZero(parts.Count);
        int width = parts.Max(p => p.Kept);
        int batch = parts.Sum(p => p.Rows);
        int capacity = width + Math.Max(extraCapacity, 1);
        var first = parts[0].Cache;
        using var scope = NewDisposeScope();
        Tensor Stacked(Func<KvCache, Tensor> pick)
        {
            var t0 = pick(first);
            var target = zeros([batch, t0.shape[1], capacity, t0.shape[3]], t0.dtype, t0.device);
            int row = 0;
            foreach (var (cache, kept, rows) in parts)
            {
                var source = pick(cache).narrow(0, 0, 1).narrow(2, 0, kept);                        // [1, Hkv, kept, d]
                target.narrow(0, row, rows).narrow(2, width - kept, kept).copy_(source.expand(rows, -1, -1, -1));
                row += rows;
            }

            return target.DetachFromDisposeScope();
        }

        var keys = Enumerable.Range(0, first._keys.Length).Select(l => Stacked(c => c._keys[l])).ToArray();
        var values = Enumerable.Range(0, first._values.Length).Select(l => Stacked(c => c._values[l])).ToArray();
        var valid = zeros([batch, capacity], ScalarType.Bool, first._valid.device);
        int at = 0;
        foreach (var (cache, kept, rows) in parts)
        {
            valid.narrow(0, at, rows).narrow(1, width - kept, kept).copy_(cache._valid.narrow(0, 0, 1).narrow(1, 0, kept).expand(rows, -1));
            at += rows;
        }

        return new KvCache(keys, values, valid.DetachFromDisposeScope(), width);
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values))
        {
            t.Dispose();
        }

        _valid.Dispose();
    }

    private void Grow(int capacity)
    {
        using var scope = NewDisposeScope();
        Tensor Resize(Tensor old)
        {
            var bigger = zeros([old.shape[0], old.shape[1], capacity, old.shape[3]], old.dtype, old.device);
            bigger.narrow(2, 0, Length).copy_(old.narrow(2, 0, Length));
            old.Dispose();
            return bigger.DetachFromDisposeScope();
        }

        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i] = Resize(_keys[i]);
            _values[i] = Resize(_values[i]);
        }

        var valid = zeros([_valid.shape[0], capacity], ScalarType.Bool, _valid.device);
        valid.narrow(1, 0, Length).copy_(_valid.narrow(1, 0, Length));
        _valid.Dispose();
        _valid = valid.DetachFromDisposeScope();
        Capacity = capacity;
    }
}
