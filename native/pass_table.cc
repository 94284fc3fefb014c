// Reading mlpPasses's tables (pass_layout.h) into Pass structs, with every region checked against the heap, and
// the layout as the addon exports it.
#include "pass_layout.h"

#include "napi_args.h"

#include <algorithm>

namespace iapo_native {

namespace PF = pass_field;
namespace LF = layer_field;

bool ReadPasses(napi_env env, uint8_t* heap, size_t heap_len, const double* t, size_t length, int count, bool backward,
                std::vector<Pass>* out) {
  auto fail = [env](const char* why) {
    napi_throw_range_error(env, nullptr, why);
    return false;
  };
  auto ptr = [heap](double off) { return off < 0 ? nullptr : reinterpret_cast<float*>(heap + static_cast<size_t>(off)); };
  size_t at = 0;
  for (int p = 0; p < count; p++) {
    if (at + kPassHead > length) return fail("iapo_native: mlpPasses table shorter than its count");
    Pass pass{};
    pass.rows = static_cast<int>(t[at + PF::rows]);
    pass.depth = static_cast<int>(t[at + PF::depth]);
    pass.split = static_cast<int>(t[at + PF::split]);
    pass.base_rows = static_cast<int>(t[at + PF::baseRows]);
    pass.accumulate = t[at + PF::accumulate] != 0;
    if (pass.rows < 0 || pass.depth < 1 || pass.depth > kMaxDepth) return fail("iapo_native: mlpPasses needs rows >= 0 and 1..8 layers");
    if (at + kPassHead + static_cast<size_t>(kPassLayer) * pass.depth > length) return fail("iapo_native: mlpPasses table too short");
    const double* head = t + at;
    at += kPassHead;
    pass.max_width = 0;
    for (int i = 0; i < pass.depth; i++, at += kPassLayer) {
      const double* l = t + at;
      PassLayer& L = pass.layers[i];
      L.k = static_cast<int>(l[LF::k]);
      L.n = static_cast<int>(l[LF::n]);
      L.act = static_cast<int>(l[LF::act]);
      if (L.k < 1 || L.n < 1) return fail("iapo_native: mlpPasses layer with an empty side");
      if (i > 0 && L.k != pass.layers[i - 1].n) return fail("iapo_native: mlpPasses layers do not chain");
      if (!InHeap(env, heap_len, l[LF::w], 4.0 * L.k * L.n) || (l[LF::b] >= 0 && !InHeap(env, heap_len, l[LF::b], 4.0 * L.n)) ||
          !InHeap(env, heap_len, l[LF::out], 4.0 * pass.rows * L.n)) {
        return false;
      }
      L.w = ptr(l[LF::w]);
      L.b = ptr(l[LF::b]);
      L.out = ptr(l[LF::out]);
      L.dw = nullptr;
      L.db = nullptr;
      if (backward) {
        if ((l[LF::dw] >= 0 && !InHeap(env, heap_len, l[LF::dw], 4.0 * L.k * L.n)) || (l[LF::db] >= 0 && !InHeap(env, heap_len, l[LF::db], 4.0 * L.n))) return false;
        L.dw = ptr(l[LF::dw]);
        L.db = ptr(l[LF::db]);
      }
      if (l[LF::gain] >= 0 || l[LF::gateW] >= 0) {
        const double rows_n = 4.0 * pass.rows * L.n;
        const bool norm = l[LF::gain] >= 0, gate = l[LF::gateW] >= 0;
        if (gate && (L.k != L.n || i == 0)) return fail("iapo_native: mlpPasses: a highway gate needs a later layer with as many inputs as outputs");
        if ((norm && (!InHeap(env, heap_len, l[LF::gain], 4.0 * L.n) || !InHeap(env, heap_len, l[LF::normBias], 4.0 * L.n) ||
                      !InHeap(env, heap_len, l[LF::xhat], rows_n) || !InHeap(env, heap_len, l[LF::rstd], 4.0 * pass.rows))) ||
            (gate && (!InHeap(env, heap_len, l[LF::gateW], 4.0 * L.k * L.n) || !InHeap(env, heap_len, l[LF::gateB], 4.0 * L.n) ||
                      !InHeap(env, heap_len, l[LF::g], rows_n))) ||
            !InHeap(env, heap_len, l[LF::f], rows_n)) {
          return false;
        }
        if (norm) {
          L.gain = ptr(l[LF::gain]);
          L.nbias = ptr(l[LF::normBias]);
          L.eps = static_cast<float>(l[LF::epsilon]);
          L.xhat = ptr(l[LF::xhat]);
          L.rstd = ptr(l[LF::rstd]);
        }
        if (gate) {
          L.gate_w = ptr(l[LF::gateW]);
          L.gate_b = ptr(l[LF::gateB]);
          L.g = ptr(l[LF::g]);
        }
        L.f = ptr(l[LF::f]);
        if (backward) {
          if ((l[LF::dGain] >= 0 && !InHeap(env, heap_len, l[LF::dGain], 4.0 * L.n)) || (l[LF::dNormBias] >= 0 && !InHeap(env, heap_len, l[LF::dNormBias], 4.0 * L.n)) ||
              (l[LF::dGateW] >= 0 && !InHeap(env, heap_len, l[LF::dGateW], 4.0 * L.k * L.n)) || (l[LF::dGateB] >= 0 && !InHeap(env, heap_len, l[LF::dGateB], 4.0 * L.n))) {
            return false;
          }
          L.dgain = ptr(l[LF::dGain]);
          L.dnbias = ptr(l[LF::dNormBias]);
          L.dgate_w = ptr(l[LF::dGateW]);
          L.dgate_b = ptr(l[LF::dGateB]);
        }
      }
      pass.max_width = std::max({pass.max_width, L.k, L.n});
    }
    const PassLayer& first = pass.layers[0];
    if (pass.split < 0 || pass.split >= first.k) return fail("iapo_native: mlpPasses split must be in [0, k of the first layer)");
    if (pass.split > 0 && first.dw) return fail("iapo_native: mlpPasses: weight gradients need the whole input (split 0)");
    const int kx = first.k - pass.split;
    if (!InHeap(env, heap_len, head[PF::input], 4.0 * pass.rows * kx)) return false;
    pass.input = ptr(head[PF::input]);
    pass.base = nullptr;
    if (head[PF::base] >= 0) {
      if (pass.base_rows < 1 || !InHeap(env, heap_len, head[PF::base], 4.0 * pass.base_rows * first.n)) return fail("iapo_native: mlpPasses base outside the heap or baseRows < 1");
      pass.base = ptr(head[PF::base]);
    } else if (pass.split > 0) {
      return fail("iapo_native: mlpPasses: a split first layer needs its base");
    }
    pass.d_out = nullptr;
    pass.d_input = nullptr;
    if (backward) {
      if (!InHeap(env, heap_len, head[PF::dOut], 4.0 * pass.rows * pass.layers[pass.depth - 1].n)) return false;
      pass.d_out = ptr(head[PF::dOut]);
      if (head[PF::dInput] >= 0) {
        if (!InHeap(env, heap_len, head[PF::dInput], 4.0 * pass.rows * kx)) return false;
        pass.d_input = ptr(head[PF::dInput]);
      }
    }
    out->push_back(pass);
  }
  return true;
}

namespace {

// Sets obj[name] = index for each field of a list; false if N-API fails.
bool AddFields(napi_env env, napi_value obj, const char* const* names, int count) {
  for (int i = 0; i < count; i++) {
    napi_value v;
    if (napi_create_int32(env, i, &v) != napi_ok || napi_set_named_property(env, obj, names[i], v) != napi_ok) return false;
  }
  return true;
}

bool SetInt(napi_env env, napi_value obj, const char* name, int value) {
  napi_value v;
  return napi_create_int32(env, value, &v) == napi_ok && napi_set_named_property(env, obj, name, v) == napi_ok;
}

}  // namespace

napi_value PassLayoutObject(napi_env env) {
#define IAPO_FIELD_NAME(name) #name,
  static const char* const pass_names[] = {IAPO_PASS_FIELDS(IAPO_FIELD_NAME)};
  static const char* const layer_names[] = {IAPO_LAYER_FIELDS(IAPO_FIELD_NAME)};
#undef IAPO_FIELD_NAME
  static_assert(sizeof(pass_names) / sizeof(pass_names[0]) == kPassHead, "one name per pass field");
  static_assert(sizeof(layer_names) / sizeof(layer_names[0]) == kPassLayer, "one name per layer field");
  napi_value out, pass, layer, widths;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_object(env, &pass));
  CHECK(napi_create_object(env, &layer));
  CHECK(napi_create_object(env, &widths));
  if (!AddFields(env, pass, pass_names, kPassHead) || !AddFields(env, layer, layer_names, kPassLayer) ||
      !SetInt(env, widths, "pass", kPassHead) || !SetInt(env, widths, "layer", kPassLayer) || !SetInt(env, out, "maxDepth", kMaxDepth) ||
      !SetInt(env, out, "maxPasses", kMaxPasses)) {
    napi_throw_error(env, nullptr, "iapo_native: could not build passLayout");
    return nullptr;
  }
  CHECK(napi_set_named_property(env, out, "pass", pass));
  CHECK(napi_set_named_property(env, out, "layer", layer));
  CHECK(napi_set_named_property(env, out, "widths", widths));
  return out;
}

}  // namespace iapo_native
