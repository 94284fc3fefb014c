"""The pieces iapo's SAC updates are made of, written in PyTorch for the bench's side-by-side scripts
(pytorch_sac_update.py, model_based_torch.py): the bench's shapes and settings, the networks, the objective J
(Eq. 7, 12), the iterative optimizer's step (Eq. 10-11) and a random replay buffer.

Import it only after OPENBLAS_CORETYPE and OPENBLAS_NUM_THREADS are set (pytorch_sac_update.prepare_blas_env):
importing torch loads OpenBLAS, which reads them once.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

OBS = 17
ACT = 6
BATCH = 256
HIDDEN = 256
GAMMA = 0.99
TAU = 5e-3
LR = 3e-4
ITERATIONS = 5
LOG_STD_MIN = -20.0
LOG_STD_MAX = 2.0
# the soft clamp of log sigma (lib/policy/params.ts SOFT_LOG_STD_MIN/MAX), the paper preset's logStdBounds
SOFT_LOG_STD_MIN = -10.0
SOFT_LOG_STD_MAX = 0.5
INITIAL_STD = 1.0
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
LN2 = math.log(2.0)

# --- networks ---------------------------------------------------------------------------------------------------

def mlp(inputs, outputs, zero_output=False):
    """2 x 256 ReLU MLP. nn.Linear's default init is U(+-1/sqrt(fan_in)) for weights and biases, iapo's too."""
    net = nn.Sequential(nn.Linear(inputs, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                        nn.Linear(HIDDEN, outputs))
    if zero_output:  # the iterative optimizer's output layer starts at zero: delta = 0, gates 0.5
        nn.init.zeros_(net[4].weight)
        nn.init.zeros_(net[4].bias)
    return net


class QNetwork(nn.Module):
    """Q(s, a): 2 x 256 ReLU MLP on [s, a] (architecture A)."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(OBS + ACT, HIDDEN)
        self.l2 = nn.Linear(HIDDEN, HIDDEN)
        self.out = nn.Linear(HIDDEN, 1)

    def _rest(self, h1):
        return self.out(F.relu(self.l2(F.relu(h1)))).squeeze(-1)

    def forward(self, s, a):
        return self._rest(self.l1(torch.cat([s, a], -1)))

    def state_part(self, s):
        """s W_s + b of the first layer, [B, 256]. iapo computes it once per optimizer run (weights are fixed
        during a run) so that each J evaluation multiplies only the |A| action columns; so does this."""
        return F.linear(s, self.l1.weight[:, :OBS], self.l1.bias)

    def on_state_part(self, base, a):
        """Q for actions a [N, B, |A|] at the states whose state_part is base [B, 256] -> [N, B]."""
        return self._rest(base + F.linear(a, self.l1.weight[:, OBS:]))


def set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad_(flag)


class Critics:
    """The states' part of a pair of Q-networks for one optimizer run, or the states themselves (--full-first-layer)."""

    def __init__(self, qs, s, full_first_layer):
        self.qs = qs
        self.s = s
        self.full = full_first_layer
        if not full_first_layer:
            with torch.no_grad():
                self.bases = [q.state_part(s) for q in qs]

    def __call__(self, a):
        """a [N, B, |A|] -> (Q1, Q2), each [N, B]."""
        if self.full:
            n, b, _ = a.shape
            tiled = self.s.expand(n, b, OBS)  # a view; cat below makes the [N, B, obs + |A|] input
            return tuple(q(tiled, a) for q in self.qs)
        return tuple(q.on_state_part(base, a) for q, base in zip(self.qs, self.bases))


# --- the objective J (Eq. 7, 12) --------------------------------------------------------------------------------

def tanh_gaussian_log_prob(mean, log_std, u):
    """log pi(tanh u) = sum_i log N(u; mu, sigma) - 2 (log 2 - u - softplus(-2u)), as lib/policy/tanh-gaussian.ts."""
    z = (u - mean) / log_std.exp()
    log_normal = -(0.5 * z.square() + log_std + HALF_LOG_2PI)
    log_det = 2 * (LN2 - u - F.softplus(-2 * u))
    return (log_normal - log_det).sum(-1)


def evaluate(critics, mean, log_std, beta, alpha, samples, noise=None):
    """J(s, lambda) per state with N new reparameterised samples: E[Q_pess] - alpha KL(pi || U(-1, 1)^|A|).
    Returns (J, log pi estimate), each [B]."""
    eps = torch.randn(samples, *mean.shape) if noise is None else noise
    u = mean + log_std.exp() * eps
    a = torch.tanh(u)
    kl = (tanh_gaussian_log_prob(mean, log_std, u) + ACT * LN2).mean(0)
    q1, q2 = critics(a)
    q_pess = 0.5 * (q1 + q2) - 0.5 * beta * (q1 - q2).abs()  # mean - beta * population std of the two
    j = q_pess.mean(0) - alpha * kl
    return j, kl - ACT * LN2


def objective_and_gradient(critics, mean, log_std, beta, alpha, samples):
    """J at detached copies of lambda and grad_lambda sum_s J (torch.autograd.grad, create_graph=False): the
    iterative network's input, and, in training, the upstream gradient of that iteration's loss term."""
    m = mean.detach().requires_grad_()
    ls = log_std.detach().requires_grad_()
    with torch.enable_grad():
        j, log_prob = evaluate(critics, m, ls, beta, alpha, samples)
        gm, gls = torch.autograd.grad(j.sum(), (m, ls))
    return j.detach(), log_prob.detach(), gm, gls


def layer_norm(x):
    """Per-example standardisation across the last dimension, as lib/policy/input-normalization.ts "layer":
    (x - mean) / (std + 1e-5), std = sqrt(population variance + 1e-10). Two passes (mean, then the mean square
    of x - mean): the same maths as Tensor.var(unbiased=False), which is several times slower in torch 1.13 on
    these short rows (6 or 17 features)."""
    d = x - x.mean(-1, keepdim=True)
    std = (d.square().mean(-1, keepdim=True) + 1e-10).sqrt()
    return d / (std + 1e-5)


def clip_log_std(log_std):
    """The hard clip of log sigma to [-20, 2] (lib/policy/params.ts "hard-clip")."""
    return torch.clamp(log_std, LOG_STD_MIN, LOG_STD_MAX)


def soft_clamp_log_std(x):
    """The soft clamp of log sigma, lo + softplus((hi - softplus(hi - x)) - lo) (lib/policy/params.ts "soft-clamp")."""
    upper = SOFT_LOG_STD_MAX - F.softplus(SOFT_LOG_STD_MAX - x)
    return SOFT_LOG_STD_MIN + F.softplus(upper - SOFT_LOG_STD_MIN)


def iterative_step(net, s, mean, log_std, grad_mean, grad_log_std, bound_log_std=clip_log_std):
    """Eq. 10-11: lambda' = omega lambda + (1 - omega) delta from the detached, normalised inputs."""
    # each of the four |A|-sized inputs is normalised on its own: one call on them stacked as [B, 4, |A|]
    parts = layer_norm(torch.stack((mean, log_std, grad_mean, grad_log_std), 1)).flatten(1)
    x = torch.cat((layer_norm(s), parts), -1)
    delta_mean, delta_log_std, gate_mean, gate_log_std = net(x).chunk(4, -1)
    wm = torch.sigmoid(gate_mean)
    ws = torch.sigmoid(gate_log_std)
    new_mean = wm * mean + (1 - wm) * delta_mean
    new_log_std = bound_log_std(ws * log_std + (1 - ws) * delta_log_std)
    return new_mean, new_log_std


def initial_lambda(batch):
    return torch.zeros(batch, ACT), torch.full((batch, ACT), math.log(INITIAL_STD))


def q_step(qs, optimizer, s, a, y):
    """One Adam step of the Q-networks on the mean squared TD error of each, summed; returns the metrics."""
    for q in qs:
        set_requires_grad(q, True)
    q1 = qs[0](s, a)
    q2 = qs[1](s, a)
    l1 = F.mse_loss(q1, y)
    l2 = F.mse_loss(q2, y)
    q_loss = l1 + l2
    if not math.isfinite(q_loss.item()):
        raise FloatingPointError(f"Q loss is {q_loss.item()}")
    optimizer.zero_grad()
    q_loss.backward()
    metrics = {"train/q1_loss": l1.item(), "train/q2_loss": l2.item(), "train/q1_value": q1.mean().item(),
               "train/q_target": y.mean().item(), "train/grad_norm_q": grad_norm(p for q in qs for p in q.parameters())}
    optimizer.step()
    for q in qs:
        set_requires_grad(q, False)
    return metrics


def polyak(targets, onlines):
    """Polyak averaging of each target network towards its online one (tau)."""
    with torch.no_grad():
        for t, q in zip(targets, onlines):
            for pt, p in zip(t.parameters(), q.parameters()):
                pt.mul_(1 - TAU).add_(p, alpha=TAU)


def check_finite(metrics):
    """The metrics, or FloatingPointError naming the first that is not finite."""
    for k, value in metrics.items():
        if not math.isfinite(value):
            raise FloatingPointError(f"{k} is {value}")
    return metrics


def grad_norm(params):
    return torch.sqrt(sum(p.grad.square().sum() for p in params)).item()


# --- data and timing ---------------------------------------------------------------------------------------------

def replay(size=4 * BATCH):
    """A replay buffer of random transitions, as lib/cli/bench/updates.ts fills one."""
    return (torch.randn(size, OBS), torch.rand(size, ACT) * 2 - 1, torch.randn(size), torch.randn(size, OBS),
            torch.zeros(size))


def sample(buffer, batch=BATCH):
    idx = torch.randint(0, buffer[0].shape[0], (batch,))
    return tuple(x[idx] for x in buffer)

