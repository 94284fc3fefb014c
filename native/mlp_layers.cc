// Normalised and highway layers' row kernels (layer norm, its backward, the highway gate) and their block-level
// forward and backward.
#include "mlp_layers.h"

#include "dense_kernels.h"

namespace iapo_native {

// f = act(xhat·gain + bias) along a row, one loop per activation so each vectorises (ELU and sigmoid via ExpF).
IAPO_MULTIVERSION
void NormActivateRow(float* __restrict f, const float* __restrict xhat, const float* __restrict gain, const float* __restrict bias, int n,
                     int act, float alpha) {
  if (act == kElu) {
    for (int j = 0; j < n; j++) {
      const float u = xhat[j] * gain[j] + bias[j];
      const float e = ExpF(u) - 1.f;
      f[j] = u > 0.f ? u : e;
    }
  } else if (act == kRelu) {
    for (int j = 0; j < n; j++) f[j] = std::max(xhat[j] * gain[j] + bias[j], 0.f);
  } else {
    for (int j = 0; j < n; j++) f[j] = Activate(xhat[j] * gain[j] + bias[j], act, alpha);
  }
}

// A normalised layer's row: mean and population variance of z (as tf.moments), xhat = (z − mean)/sqrt(var + ε).
// Returns 1/sqrt(var + ε).
IAPO_MULTIVERSION
float NormalizeRow(float* __restrict xhat, const float* __restrict z, int n, float eps) {
  float part[16] = {0};
  for (int j = 0; j < n; j++) part[j % 16] += z[j];
  float sum = 0.f;
  for (int l = 0; l < 16; l++) sum += part[l];
  const float mu = sum / static_cast<float>(n);
  float sq[16] = {0};
  for (int j = 0; j < n; j++) {
    const float d = z[j] - mu;
    sq[j % 16] += d * d;
  }
  float var = 0.f;
  for (int l = 0; l < 16; l++) var += sq[l];
  const float sd = std::sqrt(var / static_cast<float>(n) + eps);
  for (int j = 0; j < n; j++) xhat[j] = (z[j] - mu) / sd;
  return 1.f / sd;
}

// out = g ⊙ x + (1 − g) ⊙ f along a row, g = sigmoid(gz + gate_b) (kept in g).
IAPO_MULTIVERSION
void HighwayRow(float* __restrict out, float* __restrict g, const float* __restrict gz, const float* __restrict gate_b, const float* __restrict x,
                const float* __restrict f, int n) {
  for (int j = 0; j < n; j++) {
    const float gv = Sigmoid(gz[j] + gate_b[j]);
    g[j] = gv;
    out[j] = gv * x[j] + (1.f - gv) * f[j];
  }
}

void RichForward(const PassLayer& L, const float* x, const float* z, int r0, int m, float alpha, float* gate_scratch) {
  const int n = L.n;
  for (int r = 0; L.gain && r < m; r++) {
    float* xr = L.xhat + static_cast<size_t>(r0 + r) * n;
    L.rstd[r0 + r] = NormalizeRow(xr, z + static_cast<size_t>(r) * n, n, L.eps);
    NormActivateRow(L.f + static_cast<size_t>(r0 + r) * n, xr, L.gain, L.nbias, n, L.act, alpha);
  }
  if (!L.gate_w) return;  // f is the output (the trace passes out as f)
  Sgemm(false, false, m, n, L.k, x, L.gate_w, 0.f, gate_scratch);
  for (int r = 0; r < m; r++) {
    const size_t row = static_cast<size_t>(r0 + r) * n;
    HighwayRow(L.out + row, L.g + row, gate_scratch + static_cast<size_t>(r) * n, L.gate_b, x + static_cast<size_t>(r) * L.k, L.f + row, n);
  }
}

// Gate backward along a row: dgz = dy ⊙ (x − f) ⊙ g(1 − g) (d of the gate's pre-activation), df = dy ⊙ (1 − g).
IAPO_MULTIVERSION
void GateBackRow(float* __restrict dgz, float* __restrict df, const float* __restrict dy, const float* __restrict x, const float* __restrict f,
                 const float* __restrict g, int n) {
  for (int j = 0; j < n; j++) {
    const float gv = g[j];
    dgz[j] = dy[j] * (x[j] - f[j]) * gv * (1.f - gv);
    df[j] = dy[j] * (1.f - gv);
  }
}

// Layer norm's backward along a row: dz = rstd·(dxh − mean(dxh) − xhat·mean(dxh ⊙ xhat)), dxh = du ⊙ gain; also
// adds du ⊙ xhat to the gain's sums.
IAPO_MULTIVERSION
void NormBackRow(float* __restrict dz, double* __restrict dgain, const float* __restrict du, const float* __restrict xh, const float* __restrict gain,
                 float rstd, int n) {
  float pa[16] = {0}, pc[16] = {0};
  for (int j = 0; j < n; j++) {
    const float dxh = du[j] * gain[j];
    pa[j % 16] += dxh;
    pc[j % 16] += dxh * xh[j];
  }
  float a = 0.f, c = 0.f;
  for (int l = 0; l < 16; l++) {
    a += pa[l];
    c += pc[l];
  }
  const float mean_dxh = a / static_cast<float>(n), mean_dxh_xh = c / static_cast<float>(n);
  for (int j = 0; j < n; j++) dz[j] = rstd * (du[j] * gain[j] - mean_dxh - xh[j] * mean_dxh_xh);
  if (dgain) {
    for (int j = 0; j < n; j++) dgain[j] += static_cast<double>(du[j]) * xh[j];
  }
}

const float* RichBackward(const PassLayer& L, int i, const float* x, const float* dy, int r0, int m, float alpha, Reduction* red,
                          ThreadScratch* s) {
  const int n = L.n;
  const size_t count = static_cast<size_t>(m) * n;
  float* d = s->d.data();
  const float* f = L.f + static_cast<size_t>(r0) * n;
  if (L.gate_w) {
    float* dgz = s->gg.data();
    for (int r = 0; r < m; r++) {
      const size_t e = static_cast<size_t>(r) * n;
      GateBackRow(dgz + e, d + e, dy + e, x + static_cast<size_t>(r) * L.k, f + e, L.g + static_cast<size_t>(r0) * n + e, n);
    }
    if (L.dgate_w) {
      Sgemm(true, false, L.k, n, m, x, dgz, red->fresh_gate[i] ? 0.f : 1.f, red->dgate_w[i]);
      red->fresh_gate[i] = false;
    }
    if (L.dgate_b) AddColumnSums(red->dgate_b[i].data(), dgz, m, n);
    Slope(d, d, f, count, L.act, alpha);  // du = df ⊙ act'(u), in place
  } else {
    Slope(d, dy, f, count, L.act, alpha);
  }
  if (!L.gain) return d;
  if (L.dnbias) AddColumnSums(red->dnbias[i].data(), d, m, n);
  float* dz = s->z.data();
  double* dgain = L.dgain ? red->dgain[i].data() : nullptr;
  for (int r = 0; r < m; r++) {
    const size_t e = static_cast<size_t>(r) * n;
    NormBackRow(dz + e, dgain, d + e, L.xhat + static_cast<size_t>(r0) * n + e, L.gain, L.rstd[r0 + r], n);
  }
  return dz;
}

void AddGatePaths(const PassLayer& L, const float* dy, int r0, int m, ThreadScratch* s, float* dx) {
  Sgemm(false, true, m, L.k, L.n, s->gg.data(), L.gate_w, 1.f, dx);
  for (int r = 0; r < m; r++) {
    const size_t row = static_cast<size_t>(r0 + r) * L.n;
    for (int j = 0; j < L.n; j++) dx[static_cast<size_t>(r) * L.k + j] += dy[static_cast<size_t>(r) * L.n + j] * L.g[row + j];
  }
}

}  // namespace iapo_native
