using System.Diagnostics;
using JudgeHost.Backbone;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace JudgeHost.Bench;

public static class ProfileBench
{
    public static int Run(TextWriter o)
    {
        string dir = Path.Combine(Path.GetTempPath(), "judgehost-bench-896-BFloat16");
        var (model, _) = CheckpointLoader.Load(dir, ScalarType.BFloat16, CPU);
        using var inf = inference_mode();
        var ps = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var x = randn(1, 1, 896).to(ScalarType.BFloat16);
        double T(Action a, int n = 20) { a(); var c = Stopwatch.StartNew(); for (int i = 0; i < n; i++) a(); return c.Elapsed.TotalMilliseconds / n; }
        var wq = ps["model.layers.0.mlp.gate_proj.weight"];
        o.WriteLine($"gate GEMV bf16: {T(() => F.linear(x, wq).Dispose()):F3} ms ({wq.NumberOfElements*2/1e6:F1} MB)");
        var wf = wq.to(ScalarType.Float32); var xf = x.to(ScalarType.Float32);
        o.WriteLine($"gate GEMV fp32: {T(() => F.linear(xf, wf).Dispose()):F3} ms");
        var emb = ps["model.embed_tokens.weight"];
        o.WriteLine($"lm_head GEMV bf16: {T(() => F.linear(x, emb).Dispose(), 5):F3} ms ({emb.NumberOfElements*2/1e6:F1} MB)");
        var x2 = x.view(1, 896);
        o.WriteLine($"lm_head matmul 2D bf16: {T(() => x2.matmul(emb.t()).Dispose(), 5):F3} ms");
        o.WriteLine($"lm_head mv bf16: {T(() => emb.mv(x.view(896)).Dispose(), 5):F3} ms");
        o.WriteLine($"gate mv bf16: {T(() => wq.mv(x.view(896)).Dispose()):F3} ms");
        // all linear weights of the layers
        var lin = ps.Where(p => p.Key.Contains("layers") && p.Key.EndsWith("proj.weight")).Select(p => p.Value).ToList();
        o.WriteLine($"all layer GEMVs bf16 (F.linear): {T(() => { foreach (var w in lin) { var xx = w.shape[1] == 896 ? x : randn(1,1,w.shape[1]).to(ScalarType.BFloat16); F.linear(xx, w).Dispose(); } }, 5):F1} ms");
        set_num_threads(1);
        o.WriteLine($"[1 torch thread] gate Bf16Gemv: {T(() => Bf16Gemv.Linear(x, wq, null).Dispose(), 50):F3} ms; lm_head Bf16Gemv: {T(() => Bf16Gemv.Linear(x, emb, null).Dispose(), 10):F3} ms");
        o.WriteLine($"[1 torch thread] all layer Bf16Gemv: {T(() => { foreach (var w in lin) { var xx = w.shape[1] == 896 ? x : zeros(1,1,w.shape[1]).to(ScalarType.BFloat16); Bf16Gemv.Linear(xx, w, null).Dispose(); } }, 5):F1} ms");
        set_num_threads(2);
        o.WriteLine($"[2 torch threads] all layer Bf16Gemv: {T(() => { foreach (var w in lin) { var xx = w.shape[1] == 896 ? x : zeros(1,1,w.shape[1]).to(ScalarType.BFloat16); Bf16Gemv.Linear(xx, w, null).Dispose(); } }, 5):F1} ms");
        var gen = new TextGenerator(model);
        using var cache = model.NewCache(1, 256);
        var ids = tensor(Enumerable.Range(0, 128).Select(i => (long)i).ToArray()).view(1, 128);
        model.Forward(model.Embed(ids), arange(128).view(1,128), ones(1,128,dtype:ScalarType.Bool), cache, true).Dispose();
        long p = 128;
        o.WriteLine($"full step: {T(() => { using var s = NewDisposeScope(); var id = tensor(new long[]{5}).view(1,1); model.Forward(model.Embed(id), tensor(new long[]{p++}).view(1,1), ones(1,1,dtype:ScalarType.Bool), cache, true); }, 20):F1} ms");
        // One layer's decode attention for `rows` streams: 7 query heads per KV head, context 129.
        void Attention(int rows, int repeats)
        {
            using var qg = randn(rows, 2, 7, 64).to(ScalarType.BFloat16);
            using var kk = randn(rows, 2, 129, 64).to(ScalarType.BFloat16);
            using var vv = randn(rows, 2, 129, 64).to(ScalarType.BFloat16);
            using var mk = ones(rows, 1, 1, 129, dtype: ScalarType.Bool);
            set_num_threads(1);
            o.WriteLine($"[{rows} rows] decode attention, one layer: DecodeAttention {T(() => DecodeAttention.Run(qg, kk, vv, mk).Dispose(), repeats) * 1000:F0} us; libtorch sdpa (1 thread) {T(() => F.scaled_dot_product_attention(qg, kk, vv, mk).Dispose(), repeats) * 1000:F0} us");
            set_num_threads(2);
        }

        Attention(1, 200);
        Attention(2, 200);
        foreach (int rows in new[] { 8, 16 })
        {
            var xr = randn(rows, 1, 896).to(ScalarType.BFloat16);
            var wide = randn(rows, 1, 4864).to(ScalarType.BFloat16);
            void Layers(Func<Tensor, Tensor, Tensor> linear) { foreach (var w in lin) { linear(w.shape[1] == 896 ? xr : wide, w).Dispose(); } }
            set_num_threads(1);
            var down = ps["model.layers.0.mlp.down_proj.weight"];
            o.WriteLine($"[{rows} rows] gate ManagedLinear: {T(() => ManagedLinear.Linear(xr, wq, null).Dispose(), 20):F3} ms; down: {T(() => ManagedLinear.Linear(wide, down, null).Dispose(), 20):F3} ms; libtorch gate {T(() => F.linear(xr, wq).Dispose(), 20):F3} ms");
            o.WriteLine($"[{rows} rows] all layer products, ManagedLinear: {T(() => Layers((a, w) => ManagedLinear.Linear(a, w, null)), 3):F1} ms; lm_head: {T(() => ManagedLinear.Linear(xr, emb, null).Dispose(), 3):F1} ms");
            set_num_threads(2);
            o.WriteLine($"[{rows} rows] all layer products, libtorch: {T(() => Layers((a, w) => F.linear(a, w)), 3):F1} ms; lm_head: {T(() => F.linear(xr, emb).Dispose(), 3):F1} ms");
            Attention(rows, 50);
            using var c16 = model.NewCache(rows, 256);
            var ids16 = tensor(Enumerable.Range(0, 128 * rows).Select(i => (long)(i % 1000)).ToArray()).view(rows, 128);
            model.Forward(model.Embed(ids16), arange(128).view(1, 128).expand(rows, 128), ones(rows, 128, dtype: ScalarType.Bool), c16, true).Dispose();
            long q = 128;
            o.WriteLine($"[{rows} rows] full step: {T(() => { using var s = NewDisposeScope(); var id = full(rows, 1, 5L); model.Forward(model.Embed(id), full(rows, 1, q++), ones(rows, 1, dtype: ScalarType.Bool), c16, true); }, 10):F1} ms");
        }

        return 0;
    }
}
