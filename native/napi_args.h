// N-API argument helpers shared by every entry point: the heap (an ArrayBuffer addressed by byte offsets),
// numbers, typed arrays, per-tensor tables and the bounds check every region goes through.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace iapo_native {

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, nullptr, "iapo_native: " #call);     \
      return nullptr;                                            \
    }                                                            \
  } while (0)

struct Args {
  napi_env env;
  napi_value argv[20];
  size_t argc = 20;
};

inline bool GetArgs(napi_env env, napi_callback_info info, Args* a, size_t needed) {
  a->env = env;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, nullptr, nullptr) != napi_ok) return false;
  if (a->argc < needed) {
    napi_throw_type_error(env, nullptr, "iapo_native: too few arguments");
    return false;
  }
  return true;
}

// Base pointer and length of an ArrayBuffer (the heap), or nullptr with a JS error thrown.
inline uint8_t* Heap(napi_env env, napi_value v, size_t* length) {
  void* data = nullptr;
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (!is_ab || napi_get_arraybuffer_info(env, v, &data, length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "iapo_native: the heap must be an ArrayBuffer");
    return nullptr;
  }
  return static_cast<uint8_t*>(data);
}

// The arguments of a kernel call whose first argument is the heap: its base pointer and length, or nullptr with
// a JS error thrown (too few arguments, or no ArrayBuffer).
inline uint8_t* HeapCall(napi_env env, napi_callback_info info, Args* a, size_t needed, size_t* heap_len) {
  if (!GetArgs(env, info, a, needed)) return nullptr;
  return Heap(env, a->argv[0], heap_len);
}

inline double Num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

// Bounds check: [offset, offset + bytes) must lie inside the heap.
inline bool InHeap(napi_env env, size_t heap_len, double offset, double bytes) {
  if (offset < 0 || bytes < 0 || offset + bytes > static_cast<double>(heap_len)) {
    napi_throw_range_error(env, nullptr, "iapo_native: tensor lies outside the heap");
    return false;
  }
  return true;
}

// A call's per-tensor table: argument 1, a Uint32Array of `width` values per row, and argument 2, the number of
// rows; nullptr with a JS error naming `what` when the table is not a Uint32Array or is shorter than that.
inline const uint32_t* TableArg(napi_env env, const Args& a, const char* what, size_t width, size_t* count) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, a.argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_uint32_array) {
    const std::string why = std::string("iapo_native: ") + what + "'s table must be a Uint32Array";
    napi_throw_type_error(env, nullptr, why.c_str());
    return nullptr;
  }
  *count = static_cast<size_t>(Num(env, a.argv[2]));
  if (*count * width > length) {
    const std::string why = std::string("iapo_native: ") + what + "'s table is shorter than its count";
    napi_throw_range_error(env, nullptr, why.c_str());
    return nullptr;
  }
  return static_cast<const uint32_t*>(data);
}

// A typed array argument of the given type and at least `count` elements, or nullptr with a JS error.
template <typename T>
T* TypedArg(napi_env env, napi_value v, napi_typedarray_type want, size_t count, const char* what) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != want || length < count) {
    const std::string why = std::string("iapo_native: ") + what + " must be a typed array of the right type with at least " + std::to_string(count) + " elements";
    napi_throw_type_error(env, nullptr, why.c_str());
    return nullptr;
  }
  return static_cast<T*>(data);
}


}  // namespace iapo_native
