#include "quant/quantize_model.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/keys.h"
#include "quant/quant.h"
#include "util/thread_pool.h"

namespace pensieve {
namespace {

std::string type_name(GgmlType t) { return std::string(ggml_type_name(t)); }

// Refuses plans we cannot carry out before anything is written.
Status check_plan(const GgufFile& file, const std::vector<TensorPlan>& plan) {
  for (size_t i = 0; i < plan.size(); ++i) {
    const GgufTensorInfo& t = file.tensors()[i];
    if (!plan[i].convert) continue;
    if (!can_dequantize(t.type)) {
      return make_error(ErrorKind::invalid_request, file.path() + ": tensor '" + std::string(t.name) + "' has type " +
                                                        type_name(t.type) + ", which pensieve cannot dequantize");
    }
    if (!can_quantize(plan[i].type)) {
      return make_error(ErrorKind::internal, "no quantizer for type " + type_name(plan[i].type));
    }
  }
  return ok_status();
}

int block_count(const GgufFile& file) {
  const std::optional<std::string_view> arch = file.get_string(keys::kArchitecture);
  if (!arch) return 0;
  const std::optional<int64_t> n = file.get_int(keys::arch_key(keys::kBlockCount, *arch));
  return n && *n > 0 && *n < (1 << 20) ? static_cast<int>(*n) : 0;
}

// Query heads per KV head (1 when the file does not say): Q2_K's attn_v type depends on it.
int gqa_ratio(const GgufFile& file) {
  const std::optional<std::string_view> arch = file.get_string(keys::kArchitecture);
  if (!arch) return 1;
  const std::optional<int64_t> heads = file.get_int(keys::arch_key(keys::kHeadCount, *arch));
  const std::optional<int64_t> kv = file.get_int(keys::arch_key(keys::kHeadCountKv, *arch));
  if (!heads || !kv || *kv <= 0 || *heads <= 0) return 1;
  return static_cast<int>(*heads / *kv);
}

// Converts one tensor row by row: dequantize to float, quantize to the output type. Rows are
// independent, so threads take contiguous ranges of them. A row holding NaN or Inf is refused
// (the quantizers' scale searches have no meaningful answer for it).
Status convert_tensor(const GgufTensorInfo& src, GgmlType out_type, uint8_t* dst, ThreadPool& pool) {
  const int64_t ne0 = static_cast<int64_t>(src.ne[0]);
  const int64_t rows = static_cast<int64_t>(src.rows());
  const uint64_t src_row = ggml_row_size(src.type, src.ne[0]);
  const uint64_t dst_row = ggml_row_size(out_type, src.ne[0]);
  std::atomic<int64_t> bad_row{rows};
  pool.run([&](int ti, int nt) {
    const Range r = split_range(rows, ti, nt);
    if (r.begin == r.end) return;
    std::vector<float> buf(static_cast<size_t>(ne0));
    for (int64_t row = r.begin; row < r.end; ++row) {
      dequantize_row(src.type, src.data + row * src_row, buf.data(), ne0);
      for (float v : buf) {
        if (!std::isfinite(v)) {
          int64_t seen = bad_row.load();
          while (row < seen && !bad_row.compare_exchange_weak(seen, row)) {
          }
          return;
        }
      }
      quantize_row(out_type, buf.data(), dst + row * dst_row, ne0);
    }
  });
  if (bad_row.load() < rows) {
    return make_error(ErrorKind::invalid_request,
                      "row " + std::to_string(bad_row.load()) + " contains NaN or Inf values; refusing to quantize it");
  }
  return ok_status();
}

void copy_metadata(const GgufFile& file, QuantizeTarget target, GgufWriter& writer) {
  for (const GgufKV& kv : file.metadata()) writer.set_value(std::string(kv.key), kv.value);
  // Replaced in place when present (the key keeps its position), else appended.
  writer.set_u32(std::string(keys::kFileType), quantize_target_file_type(target));
  writer.set_u32(std::string(keys::kQuantizationVersion), 2);
}

Status check_paths(const std::string& in_path, const std::string& out_path) {
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec) && std::filesystem::equivalent(in_path, out_path, ec)) {
    return make_error(ErrorKind::invalid_request, out_path + ": output would overwrite the input model");
  }
  if (std::filesystem::is_directory(out_path, ec)) {
    return make_error(ErrorKind::invalid_request, out_path + ": is a directory");
  }
  return ok_status();
}

}  // namespace

Status quantize_model(const std::string& in_path, const std::string& out_path, QuantizeTarget target,
                      int n_threads, const QuantizeProgressFn& progress, QuantizeSummary* summary) {
  const auto t0 = std::chrono::steady_clock::now();
  PS_TRY(check_paths(in_path, out_path));
  Result<std::unique_ptr<GgufFile>> opened = GgufFile::open(in_path);
  if (!opened.ok()) return opened.error();
  const GgufFile& file = **opened;
  const std::vector<GgufTensorInfo>& tensors = file.tensors();
  const std::vector<TensorPlan> plan = plan_tensor_types(tensors, target, block_count(file), gqa_ratio(file));
  PS_TRY(check_plan(file, plan));
  file.prefetch();  // every byte is read once, front to back

  GgufWriter writer;
  copy_metadata(file, target, writer);
  ThreadPool pool(n_threads > 0 ? n_threads : ThreadPool::physical_cores());
  QuantizeSummary sum;
  sum.input_bytes = file.file_size();
  sum.n_tensors = tensors.size();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = tensors[i];
    const TensorPlan& p = plan[i];
    sum.input_tensor_bytes += t.n_bytes;
    sum.output_tensor_bytes += p.convert ? ggml_row_size(p.type, t.ne[0]) * t.rows() : t.n_bytes;
    sum.n_converted += p.convert ? 1 : 0;
    sum.n_fallback += p.fallback ? 1 : 0;
    if (!p.convert) {
      writer.add_tensor(std::string(t.name), t.type, t.ne, std::span<const uint8_t>(t.data, t.n_bytes));
      continue;
    }
    writer.add_tensor(std::string(t.name), p.type, t.ne,
                      [&t, &p, &pool](uint8_t* dst) { return convert_tensor(t, p.type, dst, pool); });
  }
  if (progress) {
    writer.on_tensor_written = [&](size_t index, size_t count, std::string_view name) {
      const GgufTensorInfo& t = tensors[index];
      const TensorPlan& p = plan[index];
      const uint64_t bytes = p.convert ? ggml_row_size(p.type, t.ne[0]) * t.rows() : t.n_bytes;
      progress(QuantizeProgress{index, count, name, t.type, p.type, bytes, p.convert});
    };
  }
  PS_TRY(writer.write(out_path));

  std::error_code ec;
  sum.output_bytes = std::filesystem::file_size(out_path, ec);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (summary != nullptr) *summary = sum;
  return ok_status();
}

}  // namespace pensieve
