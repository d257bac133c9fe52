// AVX512-BF16 kernels for JudgeHost's CPU decode path. .NET 10 exposes no intrinsic for VDPBF16PS (two bf16 products
// added into each fp32 lane: twice the multiply-adds per instruction of an fp32 FMA), so these functions are compiled
// once by tools/native/build-kernels.sh into position-independent machine code with no relocations, committed as bytes
// in Bf16DotCode.g.cs, and mapped executable at run time by ExecutableCode.cs where the CPU has AVX512-BF16.
// Freestanding: no libc, no stack protector, no data outside .text (constants are immediates).
#include <immintrin.h>
#include <stdint.h>

#define INL static inline __attribute__((always_inline))

// The k range taken in one pass over the tile's rows: 4 weight rows + 4 activation rows of 1024 bf16 (16 KB) stay in
// L1 while the next activation rows are read; a down projection's 4864-long rows ran at two thirds of the rate without it.
#define KC 1024
#define MAXM 64

#define BLK(p, q, a, b) _mm512_add_ps(_mm512_shuffle_f32x4(p, q, a), _mm512_shuffle_f32x4(p, q, b))
#define LAN(p, q, a, b) _mm512_add_ps(_mm512_shuffle_ps(p, q, a), _mm512_shuffle_ps(p, q, b))

// Lane 4 * i + j of the result = the sum of the lanes of v[4 * j + i]: sixteen horizontal sums in 15 shuffle-add pairs.
INL __m512 reduce16(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512 v4, __m512 v5, __m512 v6, __m512 v7,
                    __m512 v8, __m512 v9, __m512 v10, __m512 v11, __m512 v12, __m512 v13, __m512 v14, __m512 v15) {
  __m512 q0 = BLK(BLK(v0, v1, 0x44, 0xEE), BLK(v2, v3, 0x44, 0xEE), 0x88, 0xDD);
  __m512 q1 = BLK(BLK(v4, v5, 0x44, 0xEE), BLK(v6, v7, 0x44, 0xEE), 0x88, 0xDD);
  __m512 q2 = BLK(BLK(v8, v9, 0x44, 0xEE), BLK(v10, v11, 0x44, 0xEE), 0x88, 0xDD);
  __m512 q3 = BLK(BLK(v12, v13, 0x44, 0xEE), BLK(v14, v15, 0x44, 0xEE), 0x88, 0xDD);
  return LAN(LAN(q0, q1, 0x44, 0xEE), LAN(q2, q3, 0x44, 0xEE), 0x88, 0xDD);
}

#define DP(a, x, w) a = _mm512_dpbf16_ps(a, (__m512bh)(x), (__m512bh)(w))

// Four weight rows (w0..w3) times R activation rows (x, row stride `stride`) over `len` columns: lane 4 * i + j of the
// result = activation row i . weight row j. `next`, when not null, is prefetched as four rows of stride `stride`.
INL __m512 dots(int R, const uint16_t* w0, const uint16_t* w1, const uint16_t* w2, const uint16_t* w3,
                const uint16_t* x, long stride, long len, const uint16_t* next) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  __m512 c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
  for (long i = 0; i < len; i += 32) {
    __m512i p0 = _mm512_loadu_si512(w0 + i), p1 = _mm512_loadu_si512(w1 + i);
    __m512i p2 = _mm512_loadu_si512(w2 + i), p3 = _mm512_loadu_si512(w3 + i);
    if (next) {
      // Each weight row is only a few dozen cache lines: too short a stream for the hardware prefetcher.
      _mm_prefetch((const char*)(next + i), _MM_HINT_T0);
      _mm_prefetch((const char*)(next + stride + i), _MM_HINT_T0);
      _mm_prefetch((const char*)(next + 2 * stride + i), _MM_HINT_T0);
      _mm_prefetch((const char*)(next + 3 * stride + i), _MM_HINT_T0);
    }
    __m512i xv = _mm512_loadu_si512(x + i);
    DP(a0, xv, p0); DP(a1, xv, p1); DP(a2, xv, p2); DP(a3, xv, p3);
    if (R > 1) { xv = _mm512_loadu_si512(x + stride + i); DP(b0, xv, p0); DP(b1, xv, p1); DP(b2, xv, p2); DP(b3, xv, p3); }
    if (R > 2) { xv = _mm512_loadu_si512(x + 2 * stride + i); DP(c0, xv, p0); DP(c1, xv, p1); DP(c2, xv, p2); DP(c3, xv, p3); }
    if (R > 3) { xv = _mm512_loadu_si512(x + 3 * stride + i); DP(d0, xv, p0); DP(d1, xv, p1); DP(d2, xv, p2); DP(d3, xv, p3); }
  }
  return reduce16(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3);
}

// fp32 -> the bf16 bit pattern in each 32-bit lane: round to nearest even, NaN kept NaN (as torch's conversion).
INL __m512i bf16bits(__m512 f) {
  __m512i u = _mm512_castps_si512(f);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb), 16);
  return _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(f, f, _CMP_EQ_OQ), _mm512_set1_epi32(0x7FC0), r);
}

// s: lane 4 * i + j = activation row i, output column j. Adds the bias, rounds to bf16 and writes R rows of `count` columns.
INL void store(int R, __m512 s, uint16_t* y, long n, const uint16_t* bias, int count) {
  if (bias) {
    uint32_t t[4] = {0, 0, 0, 0};
    for (int j = 0; j < count; j++) t[j] = (uint32_t)bias[j] << 16;   // bf16 -> fp32
    s = _mm512_add_ps(s, _mm512_broadcast_f32x4(_mm_castsi128_ps(_mm_loadu_si128((const __m128i*)t))));
  }
  uint64_t lanes[4];
  _mm256_storeu_si256((__m256i*)lanes, _mm512_cvtepi32_epi16(bf16bits(s)));   // row i's four columns in lane i
  for (int i = 0; i < R; i++) {
    uint16_t* yi = y + i * n;
    if (count == 4) { __builtin_memcpy(yi, &lanes[i], 8); continue; }
    for (int j = 0; j < count; j++) yi[j] = (uint16_t)(lanes[i] >> (16 * j));
  }
}

#define DOTS(R, k0, len, nx) dots(R, w0 + (k0), w1 + (k0), w2 + (k0), w3 + (k0), x + row * k + (k0), k, len, nx)

// Output columns [from, to) of y (m x n bf16) = x (m x k bf16) W^T (W: n x k bf16) + bias (n bf16, or null).
// k a multiple of 32, 1 <= m <= 64. Each fp32 lane sums products in the order VDPBF16PS adds them; one rounding at the end.
void judgehost_bf16_gemm(const uint16_t* w, const uint16_t* x, uint16_t* y, const uint16_t* bias,
                         long m, long n, long k, long from, long to) {
  __m512 acc[MAXM / 4];
  for (long r = from; r < to; r += 4) {
    int count = (int)(to - r < 4 ? to - r : 4);
    const uint16_t* w0 = w + r * k;
    const uint16_t* w1 = count > 1 ? w0 + k : w0;   // rows past the end repeat the first; they are not written
    const uint16_t* w2 = count > 2 ? w0 + 2 * k : w0;
    const uint16_t* w3 = count > 3 ? w0 + 3 * k : w0;
    const uint16_t* next = r + 4 < to ? w0 + 4 * k : 0;
    const uint16_t* b = bias ? bias + r : 0;
    for (long k0 = 0; k0 < k; k0 += KC) {
      long len = k - k0 < KC ? k - k0 : KC;
      const uint16_t* nx = next ? next + k0 : 0;   // prefetched by the first tile of each pass only
      long row = 0;
      int g = 0;
      for (; row + 4 <= m; row += 4, g++, nx = 0) {
        __m512 d = DOTS(4, k0, len, nx);
        acc[g] = k0 == 0 ? d : _mm512_add_ps(acc[g], d);
      }
      if (row < m) {
        __m512 d = m - row == 3 ? DOTS(3, k0, len, nx) : m - row == 2 ? DOTS(2, k0, len, nx) : DOTS(1, k0, len, nx);
        acc[g] = k0 == 0 ? d : _mm512_add_ps(acc[g], d);
      }
    }
    long row = 0;
    int g = 0;
    for (; row + 4 <= m; row += 4, g++) store(4, acc[g], y + row * n + r, n, b, count);
    if (m - row == 3) store(3, acc[g], y + row * n + r, n, b, count);
    else if (m - row == 2) store(2, acc[g], y + row * n + r, n, b, count);
    else if (m - row == 1) store(1, acc[g], y + row * n + r, n, b, count);
  }
}
