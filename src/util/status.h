// Errors are values with a kind (DESIGN.md "Interfaces worth keeping stable").
// Load and IO paths return Result<T> / Status; invariants use PS_ASSERT.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pensieve {

enum class ErrorKind {
  invalid_request,
  not_found,
  unauthorized,
  model_load_failed,
  platform_unsupported,
  resource_exhausted,
  timeout,
  cancelled,
  overloaded,
  internal,
};

std::string_view error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

// A value or an Error. Deliberately small: no monadic helpers beyond what call sites need.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);

}  // namespace pensieve

// Always-on invariant check (cheap conditions only).
#define PS_ASSERT(cond, ...)                                                               \
  do {                                                                                     \
    if (!(cond)) ::pensieve::assert_fail(#cond, __FILE__, __LINE__, "" __VA_ARGS__);       \
  } while (0)

#ifdef NDEBUG
#define PS_DASSERT(cond, ...) ((void)0)
#else
#define PS_DASSERT(cond, ...) PS_ASSERT(cond, __VA_ARGS__)
#endif

// Propagate an error from an expression returning Status or Result<T>.
#define PS_TRY(expr)                                   \
  do {                                                 \
    auto&& ps_try_r_ = (expr);                         \
    if (!ps_try_r_.ok()) return ps_try_r_.error();     \
  } while (0)
