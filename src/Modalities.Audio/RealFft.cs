namespace Modalities.Audio;

/// <summary>
/// Forward real FFT in float32 with the operation order of pocketfft's <c>rfftp</c> (FFTPACK's radix-2/3/4/5 passes,
/// factors taken as pocketfft factorizes, float twiddles), which is what PyTorch's CPU <c>torch.stft</c> runs when it
/// is built without MKL. Following the same order of float32 operations makes the spectrum agree with that reference
/// to the last bit instead of to ~1e-7 of the frame's energy, which matters for quiet bins once they pass through
/// log10. Lengths with a prime factor above 5 fall back to a float64 DFT.
/// Output is FFTPACK's half-complex order: <c>r0, r1, i1, r2, i2, …</c> (and <c>r_{n/2}</c> last for even n).
/// </summary>
internal sealed class RealFft
{
    private readonly int _n;
    private readonly List<(int Factor, float[] Twiddles)> _factors = [];
    private readonly bool _fallback;

    public RealFft(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 2);
        _n = n;
        var factors = new List<int>();
        int len = n;
        while (len % 4 == 0)
        {
            factors.Add(4);
            len >>= 2;
        }

        if (len % 2 == 0)
        {
            len >>= 1;
            factors.Add(2);
            (factors[0], factors[^1]) = (factors[^1], factors[0]); // factor 2 goes first
        }

        for (int divisor = 3; divisor * divisor <= len; divisor += 2)
        {
            while (len % divisor == 0)
            {
                factors.Add(divisor);
                len /= divisor;
            }
        }

        if (len > 1)
        {
            factors.Add(len);
        }

        _fallback = factors.Any(f => f > 5);
        int l1 = 1;
        for (int k = 0; k < factors.Count; k++)
        {
            int ip = factors[k];
            int ido = n / (l1 * ip);
            var tw = new float[Math.Max(0, (ip - 1) * (ido - 1))];
            if (k < factors.Count - 1)
            {
                for (int j = 1; j < ip; j++)
                {
                    for (int i = 1; i <= (ido - 1) / 2; i++)
                    {
                        long m = (long)j * l1 * i;
                        double angle = 2.0 * Math.PI * m / n;
                        tw[((j - 1) * (ido - 1)) + (2 * i) - 2] = (float)Math.Cos(angle);
                        tw[((j - 1) * (ido - 1)) + (2 * i) - 1] = (float)Math.Sin(angle);
                    }
                }
            }

            _factors.Add((ip, tw));
            l1 *= ip;
        }
    }

    public int Length => _n;

    /// <summary>Transforms <paramref name="c"/> (length n) in place; <paramref name="scratch"/> is n floats of work space.</summary>
    public void Forward(float[] c, float[] scratch)
    {
        if (_fallback)
        {
            DftFallback(c);
            return;
        }

        float[] p1 = c, p2 = scratch;
        int l1 = _n;
        for (int k = _factors.Count - 1; k >= 0; k--)
        {
            var (ip, tw) = _factors[k];
            int ido = _n / l1;
            l1 /= ip;
            switch (ip)
            {
                case 4:
                    Radf4(ido, l1, p1, p2, tw);
                    break;
                case 2:
                    Radf2(ido, l1, p1, p2, tw);
                    break;
                case 3:
                    Radf3(ido, l1, p1, p2, tw);
                    break;
                default:
                    Radf5(ido, l1, p1, p2, tw);
                    break;
            }

            (p1, p2) = (p2, p1);
        }

        if (!ReferenceEquals(p1, c))
        {
            Array.Copy(p1, c, _n);
        }
    }

    private static void Radf2(int ido, int l1, float[] cc, float[] ch, float[] wa)
    {
        const int cdim = 2;
        for (int k = 0; k < l1; k++)
        {
            float a = cc[ido * k], b = cc[ido * (k + l1)];
            ch[ido * cdim * k] = a + b;
            ch[(ido - 1) + (ido * (1 + (cdim * k)))] = a - b;
        }

        if ((ido & 1) == 0)
        {
            for (int k = 0; k < l1; k++)
            {
                ch[ido * (1 + (cdim * k))] = -cc[(ido - 1) + (ido * (k + l1))];
                ch[(ido - 1) + (ido * cdim * k)] = cc[(ido - 1) + (ido * k)];
            }
        }

        if (ido <= 2)
        {
            return;
        }

        for (int k = 0; k < l1; k++)
        {
            for (int i = 2; i < ido; i += 2)
            {
                int ic = ido - i;
                float wr = wa[i - 2], wi = wa[i - 1];
                float cr = cc[(i - 1) + (ido * (k + l1))], ci = cc[i + (ido * (k + l1))];
                float tr2 = (wr * cr) + (wi * ci), ti2 = (wr * ci) - (wi * cr);
                float c0r = cc[(i - 1) + (ido * k)], c0i = cc[i + (ido * k)];
                ch[(i - 1) + (ido * cdim * k)] = c0r + tr2;
                ch[(ic - 1) + (ido * (1 + (cdim * k)))] = c0r - tr2;
                ch[i + (ido * cdim * k)] = ti2 + c0i;
                ch[ic + (ido * (1 + (cdim * k)))] = ti2 - c0i;
            }
        }
    }

    private static void Radf3(int ido, int l1, float[] cc, float[] ch, float[] wa)
    {
        const int cdim = 3;
        const float taur = -0.5f, taui = 0.8660254037844386467637f;
        float CC(int a, int b, int c) => cc[a + (ido * (b + (l1 * c)))];
        void SetCh(int a, int b, int c, float v) => ch[a + (ido * (b + (cdim * c)))] = v;
        float Wa(int x, int i) => wa[i + (x * (ido - 1))];
        for (int k = 0; k < l1; k++)
        {
            float cr2 = CC(0, k, 1) + CC(0, k, 2);
            SetCh(0, 0, k, CC(0, k, 0) + cr2);
            SetCh(0, 2, k, taui * (CC(0, k, 2) - CC(0, k, 1)));
            SetCh(ido - 1, 1, k, CC(0, k, 0) + (taur * cr2));
        }

        if (ido == 1)
        {
            return;
        }

        for (int k = 0; k < l1; k++)
        {
            for (int i = 2; i < ido; i += 2)
            {
                int ic = ido - i;
                float dr2 = (Wa(0, i - 2) * CC(i - 1, k, 1)) + (Wa(0, i - 1) * CC(i, k, 1));
                float di2 = (Wa(0, i - 2) * CC(i, k, 1)) - (Wa(0, i - 1) * CC(i - 1, k, 1));
                float dr3 = (Wa(1, i - 2) * CC(i - 1, k, 2)) + (Wa(1, i - 1) * CC(i, k, 2));
                float di3 = (Wa(1, i - 2) * CC(i, k, 2)) - (Wa(1, i - 1) * CC(i - 1, k, 2));
                Rearrange(ref dr2, ref di2, ref dr3, ref di3);
                SetCh(i - 1, 0, k, CC(i - 1, k, 0) + dr2);
                SetCh(i, 0, k, CC(i, k, 0) + di2);
                float tr2 = CC(i - 1, k, 0) + (taur * dr2);
                float ti2 = CC(i, k, 0) + (taur * di2);
                float tr3 = taui * dr3;
                float ti3 = taui * di3;
                SetCh(i - 1, 2, k, tr2 + tr3);
                SetCh(ic - 1, 1, k, tr2 - tr3);
                SetCh(i, 2, k, ti3 + ti2);
                SetCh(ic, 1, k, ti3 - ti2);
            }
        }
    }

    private static void Radf4(int ido, int l1, float[] cc, float[] ch, float[] wa)
    {
        const int cdim = 4;
        const float hsqt2 = 0.70710678118654752440f;
        float CC(int a, int b, int c) => cc[a + (ido * (b + (l1 * c)))];
        void SetCh(int a, int b, int c, float v) => ch[a + (ido * (b + (cdim * c)))] = v;
        float Wa(int x, int i) => wa[i + (x * (ido - 1))];
        for (int k = 0; k < l1; k++)
        {
            float tr1 = CC(0, k, 3) + CC(0, k, 1);
            SetCh(0, 2, k, CC(0, k, 3) - CC(0, k, 1));
            float tr2 = CC(0, k, 0) + CC(0, k, 2);
            SetCh(ido - 1, 1, k, CC(0, k, 0) - CC(0, k, 2));
            SetCh(0, 0, k, tr2 + tr1);
            SetCh(ido - 1, 3, k, tr2 - tr1);
        }

        if ((ido & 1) == 0)
        {
            for (int k = 0; k < l1; k++)
            {
                float ti1 = -hsqt2 * (CC(ido - 1, k, 1) + CC(ido - 1, k, 3));
                float tr1 = hsqt2 * (CC(ido - 1, k, 1) - CC(ido - 1, k, 3));
                SetCh(ido - 1, 0, k, CC(ido - 1, k, 0) + tr1);
                SetCh(ido - 1, 2, k, CC(ido - 1, k, 0) - tr1);
                SetCh(0, 3, k, ti1 + CC(ido - 1, k, 2));
                SetCh(0, 1, k, ti1 - CC(ido - 1, k, 2));
            }
        }

        if (ido <= 2)
        {
            return;
        }

        for (int k = 0; k < l1; k++)
        {
            for (int i = 2; i < ido; i += 2)
            {
                int ic = ido - i;
                float cr2 = (Wa(0, i - 2) * CC(i - 1, k, 1)) + (Wa(0, i - 1) * CC(i, k, 1));
                float ci2 = (Wa(0, i - 2) * CC(i, k, 1)) - (Wa(0, i - 1) * CC(i - 1, k, 1));
                float cr3 = (Wa(1, i - 2) * CC(i - 1, k, 2)) + (Wa(1, i - 1) * CC(i, k, 2));
                float ci3 = (Wa(1, i - 2) * CC(i, k, 2)) - (Wa(1, i - 1) * CC(i - 1, k, 2));
                float cr4 = (Wa(2, i - 2) * CC(i - 1, k, 3)) + (Wa(2, i - 1) * CC(i, k, 3));
                float ci4 = (Wa(2, i - 2) * CC(i, k, 3)) - (Wa(2, i - 1) * CC(i - 1, k, 3));
                float tr1 = cr4 + cr2, tr4 = cr4 - cr2;
                float ti1 = ci2 + ci4, ti4 = ci2 - ci4;
                float tr2 = CC(i - 1, k, 0) + cr3, tr3 = CC(i - 1, k, 0) - cr3;
                float ti2 = CC(i, k, 0) + ci3, ti3 = CC(i, k, 0) - ci3;
                SetCh(i - 1, 0, k, tr2 + tr1);
                SetCh(ic - 1, 3, k, tr2 - tr1);
                SetCh(i, 0, k, ti1 + ti2);
                SetCh(ic, 3, k, ti1 - ti2);
                SetCh(i - 1, 2, k, tr3 + ti4);
                SetCh(ic - 1, 1, k, tr3 - ti4);
                SetCh(i, 2, k, tr4 + ti3);
                SetCh(ic, 1, k, tr4 - ti3);
            }
        }
    }

    private static void Radf5(int ido, int l1, float[] cc, float[] ch, float[] wa)
    {
        const int cdim = 5;
        const float tr11 = 0.3090169943749474241f, ti11 = 0.95105651629515357212f,
            tr12 = -0.8090169943749474241f, ti12 = 0.58778525229247312917f;
        float CC(int a, int b, int c) => cc[a + (ido * (b + (l1 * c)))];
        void SetCh(int a, int b, int c, float v) => ch[a + (ido * (b + (cdim * c)))] = v;
        float Wa(int x, int i) => wa[i + (x * (ido - 1))];
        for (int k = 0; k < l1; k++)
        {
            float cr2 = CC(0, k, 4) + CC(0, k, 1), ci5 = CC(0, k, 4) - CC(0, k, 1);
            float cr3 = CC(0, k, 3) + CC(0, k, 2), ci4 = CC(0, k, 3) - CC(0, k, 2);
            SetCh(0, 0, k, CC(0, k, 0) + cr2 + cr3);
            SetCh(ido - 1, 1, k, CC(0, k, 0) + (tr11 * cr2) + (tr12 * cr3));
            SetCh(0, 2, k, (ti11 * ci5) + (ti12 * ci4));
            SetCh(ido - 1, 3, k, CC(0, k, 0) + (tr12 * cr2) + (tr11 * cr3));
            SetCh(0, 4, k, (ti12 * ci5) - (ti11 * ci4));
        }

        if (ido == 1)
        {
            return;
        }

        for (int k = 0; k < l1; k++)
        {
            for (int i = 2, ic = ido - 2; i < ido; i += 2, ic -= 2)
            {
                float dr2 = (Wa(0, i - 2) * CC(i - 1, k, 1)) + (Wa(0, i - 1) * CC(i, k, 1));
                float di2 = (Wa(0, i - 2) * CC(i, k, 1)) - (Wa(0, i - 1) * CC(i - 1, k, 1));
                float dr3 = (Wa(1, i - 2) * CC(i - 1, k, 2)) + (Wa(1, i - 1) * CC(i, k, 2));
                float di3 = (Wa(1, i - 2) * CC(i, k, 2)) - (Wa(1, i - 1) * CC(i - 1, k, 2));
                float dr4 = (Wa(2, i - 2) * CC(i - 1, k, 3)) + (Wa(2, i - 1) * CC(i, k, 3));
                float di4 = (Wa(2, i - 2) * CC(i, k, 3)) - (Wa(2, i - 1) * CC(i - 1, k, 3));
                float dr5 = (Wa(3, i - 2) * CC(i - 1, k, 4)) + (Wa(3, i - 1) * CC(i, k, 4));
                float di5 = (Wa(3, i - 2) * CC(i, k, 4)) - (Wa(3, i - 1) * CC(i - 1, k, 4));
                Rearrange(ref dr2, ref di2, ref dr5, ref di5);
                Rearrange(ref dr3, ref di3, ref dr4, ref di4);
                SetCh(i - 1, 0, k, CC(i - 1, k, 0) + dr2 + dr3);
                SetCh(i, 0, k, CC(i, k, 0) + di2 + di3);
                float tr2 = CC(i - 1, k, 0) + (tr11 * dr2) + (tr12 * dr3);
                float ti2 = CC(i, k, 0) + (tr11 * di2) + (tr12 * di3);
                float tr3 = CC(i - 1, k, 0) + (tr12 * dr2) + (tr11 * dr3);
                float ti3 = CC(i, k, 0) + (tr12 * di2) + (tr11 * di3);
                float tr5 = (ti11 * dr5) + (ti12 * dr4);
                float ti5 = (ti11 * di5) + (ti12 * di4);
                float tr4 = (ti12 * dr5) - (ti11 * dr4);
                float ti4 = (ti12 * di5) - (ti11 * di4);
                SetCh(i - 1, 2, k, tr2 + tr5);
                SetCh(ic - 1, 1, k, tr2 - tr5);
                SetCh(i, 2, k, ti5 + ti2);
                SetCh(ic, 1, k, ti5 - ti2);
                SetCh(i - 1, 4, k, tr3 + tr4);
                SetCh(ic - 1, 3, k, tr3 - tr4);
                SetCh(i, 4, k, ti4 + ti3);
                SetCh(ic, 3, k, ti4 - ti3);
            }
        }
    }

    // a2 = a + b; b2 = i*(b - a) on the pairs (rx, ix), (ry, iy).
    private static void Rearrange(ref float rx, ref float ix, ref float ry, ref float iy)
    {
        float t1 = rx + ry, t2 = ry - rx, t3 = ix + iy, t4 = ix - iy;
        rx = t1;
        ix = t3;
        ry = t4;
        iy = t2;
    }

    private void DftFallback(float[] c)
    {
        int n = _n;
        var result = new float[n];
        for (int k = 0; k <= n / 2; k++)
        {
            double re = 0, im = 0;
            for (int t = 0; t < n; t++)
            {
                double angle = 2.0 * Math.PI * ((long)k * t % n) / n;
                re += c[t] * Math.Cos(angle);
                im -= c[t] * Math.Sin(angle);
            }

            if (k == 0)
            {
                result[0] = (float)re;
            }
            else if (2 * k == n)
            {
                result[n - 1] = (float)re;
            }
            else
            {
                result[(2 * k) - 1] = (float)re;
                result[2 * k] = (float)im;
            }
        }

        Array.Copy(result, c, n);
    }
}
