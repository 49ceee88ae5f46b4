#include "backend/cuda/dequant.cuh"
#include "backend/cuda/dequant8.cuh"
#include "backend/cuda/dequant_rows.cuh"

namespace pensieve::cuda {

namespace {

// One thread per 32-element chunk.
template <GgmlType T>
__global__ void dequant_f16_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_chunks,
                                   int64_t n_rows, __half* __restrict__ out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * n_chunks) return;
  const int64_t r = i / n_chunks, c = i % n_chunks;
  float v[32];
  Dq<T>::chunk(w + r * row_bytes, c, v);
  __half2 h[16];
#pragma unroll
  for (int j = 0; j < 16; ++j) h[j] = __floats2half2_rn(v[2 * j], v[2 * j + 1]);
  uint4* dst = reinterpret_cast<uint4*>(out + r * n_chunks * 32 + 32 * c);
  const uint4* src = reinterpret_cast<const uint4*>(h);
#pragma unroll
  for (int j = 0; j < 4; ++j) dst[j] = src[j];
}

// One thread per 8-element group: coalesced reads and 16-byte stores (types of dequant8.cuh).
template <GgmlType T>
__global__ void dequant8_f16_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_groups,
                                    int64_t n_rows, __half* __restrict__ out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * n_groups) return;
  const int64_t r = i / n_groups, g = i % n_groups;
  float v[8];
  Dq8<T>::part(w + r * row_bytes, g, v);
  __half2 h[4];
#pragma unroll
  for (int j = 0; j < 4; ++j) h[j] = __floats2half2_rn(v[2 * j], v[2 * j + 1]);
  *reinterpret_cast<uint4*>(out + r * n_groups * 8 + 8 * g) = *reinterpret_cast<const uint4*>(h);
}

template <GgmlType T>
__global__ void get_rows_kernel(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t n_chunks,
                                int64_t n_table_rows, const int32_t* __restrict__ ids, int64_t n,
                                float* __restrict__ out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * n_chunks) return;
  const int64_t t = i / n_chunks, c = i % n_chunks;
  const int64_t id = ids[t];
  float v[32];
  if (id >= 0 && id < n_table_rows) {
    Dq<T>::chunk(w + id * row_bytes, c, v);
  } else {
#pragma unroll
    for (int j = 0; j < 32; ++j) v[j] = 0.0f;
  }
  float4* dst = reinterpret_cast<float4*>(out + t * n_chunks * 32 + 32 * c);
#pragma unroll
  for (int j = 0; j < 8; ++j) dst[j] = make_float4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
}

// Float tables of any width: one thread per element.
__global__ void get_rows_float_any_kernel(const void* __restrict__ w, int type, int64_t n_cols, int64_t n_table_rows,
                                          const int32_t* __restrict__ ids, int64_t n, float* __restrict__ out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * n_cols) return;
  const int64_t t = i / n_cols, k = i % n_cols;
  const int64_t id = ids[t];
  float v = 0.0f;
  if (id >= 0 && id < n_table_rows) {
    const int64_t e = id * n_cols + k;
    if (type == int(GgmlType::F32)) v = static_cast<const float*>(w)[e];
    else if (type == int(GgmlType::F16)) v = half_bits_to_float(static_cast<const uint16_t*>(w)[e]);
    else v = bf16_bits_to_float(static_cast<const uint16_t*>(w)[e]);
  }
  out[i] = v;
}

__global__ void f32_to_f16_kernel(const float* __restrict__ x, int64_t n, __half* __restrict__ out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2half_rn(x[i]);
}

__global__ void f32_to_bf16_kernel(const float* __restrict__ x, int64_t n, __nv_bfloat16* __restrict__ out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16_rn(x[i]);
}

bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

}  // namespace

bool dequant_supported(GgmlType type, int64_t n_cols) {
  switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16:
      return true;
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0:
      return n_cols % 32 == 0;
    case GgmlType::Q2_K: case GgmlType::Q3_K: case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
      return n_cols % 256 == 0;
    default:
      return false;
  }
}

bool dequant_rows_f16(GgmlType type, const void* w, int64_t n_cols, int64_t row0, int64_t n_rows, uint16_t* out,
                      cudaStream_t stream) {
  if (!dequant_supported(type, n_cols) || n_cols % 32 != 0) return false;
  if (n_rows == 0) return true;
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(type, n_cols));
  const int64_t n_chunks = n_cols / 32;
  const uint8_t* base = static_cast<const uint8_t*>(w) + row0 * row_bytes;
  const int threads = 256;
  const dim3 grid(ceil_div(n_rows * n_chunks, threads));
  __half* o = reinterpret_cast<__half*>(out);
  const int64_t n_groups = n_cols / 8;
  const dim3 grid8(ceil_div(n_rows * n_groups, threads));
#define PS_LAUNCH8(TT) dequant8_f16_kernel<TT><<<grid8, threads, 0, stream>>>(base, row_bytes, n_groups, n_rows, o)
  switch (type) {
    case GgmlType::Q4_0: PS_LAUNCH8(GgmlType::Q4_0); return true;
    case GgmlType::Q8_0: PS_LAUNCH8(GgmlType::Q8_0); return true;
    case GgmlType::Q4_K: PS_LAUNCH8(GgmlType::Q4_K); return true;
    case GgmlType::Q5_K: PS_LAUNCH8(GgmlType::Q5_K); return true;
    case GgmlType::Q6_K: PS_LAUNCH8(GgmlType::Q6_K); return true;
    default: break;
  }
#undef PS_LAUNCH8
#define PS_LAUNCH(TT) dequant_f16_kernel<TT><<<grid, threads, 0, stream>>>(base, row_bytes, n_chunks, n_rows, o)
  PS_CUDA_DISPATCH_TYPE(type, PS_LAUNCH)
#undef PS_LAUNCH
  return true;
}

bool get_rows_f32(GgmlType type, const void* w, int64_t n_cols, int64_t n_table_rows, const int32_t* ids, int64_t n,
                  float* out, cudaStream_t stream) {
  if (!dequant_supported(type, n_cols)) return false;
  if (n == 0) return true;
  const int threads = 256;
  if (is_float_type(type) && (n_cols % 32 != 0 || reinterpret_cast<uintptr_t>(out) % 16 != 0)) {
    get_rows_float_any_kernel<<<ceil_div(n * n_cols, threads), threads, 0, stream>>>(w, int(type), n_cols,
                                                                                     n_table_rows, ids, n, out);
    return true;
  }
  const int64_t row_bytes = static_cast<int64_t>(ggml_row_size(type, n_cols));
  const int64_t n_chunks = n_cols / 32;
  const dim3 grid(ceil_div(n * n_chunks, threads));
  const uint8_t* base = static_cast<const uint8_t*>(w);
#define PS_LAUNCH(TT) \
  get_rows_kernel<TT><<<grid, threads, 0, stream>>>(base, row_bytes, n_chunks, n_table_rows, ids, n, out)
  PS_CUDA_DISPATCH_TYPE(type, PS_LAUNCH)
#undef PS_LAUNCH
  return true;
}

void convert_f32_to_f16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream) {
  if (n == 0) return;
  f32_to_f16_kernel<<<ceil_div(n, 256), 256, 0, stream>>>(x, n, reinterpret_cast<__half*>(out));
}

void convert_f32_to_bf16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream) {
  if (n == 0) return;
  f32_to_bf16_kernel<<<ceil_div(n, 256), 256, 0, stream>>>(x, n, reinterpret_cast<__nv_bfloat16*>(out));
}

}  // namespace pensieve::cuda
