#!/usr/bin/env python3
"""PyTorch side of `npm run bench` (lib/cli/bench/pytorch.ts): ms per full SAC update, written idiomatically in
PyTorch, doing the same work as iapo's update (lib/agents/sac/agent.ts and its fused form
lib/agents/sac/fused-update.ts) at the shapes of lib/cli/bench/updates.ts:

  obs 17, |A| 6 (HalfCheetah), batch 256; Q architecture A (2 x 256 ReLU on [s, a] -> 1), two Q-networks and their
  Polyak targets (tau 0.005); policy / iterative networks 2 x 256 ReLU; Adam lr 3e-4 everywhere; gamma 0.99;
  automatic temperature (target entropy -|A|, log alpha starts at 0); the paper's HalfCheetah beta (Eq. 12) in
  training: 1 direct, 2.5 iterative; iterative optimizer: 5 iterations (training and target run), lambda0 = (0, log 1),
  inputs layer-normalised per example ("layer"), gated update with log sigma clipped to [-20, 2].

Four variants: "direct SAC update" (N=1), "direct SAC update (N=10)" (J on 10 samples, the authors' code's setting
for every optimizer), "iterative update (5 it., N=1)", "iterative update (5 it., N=10)". After 2 s of
warm-up updates (as the TypeScript side), the median of --repeats timed updates (each on its own pre-sampled batch) is reported as one JSON
document on stdout. --selftest checks the maths instead (see selftest()). --serve times the updates with
model-based values (model_based_torch.py) in rounds the bench asks for on stdin, alternating with iapo's (serve()).
The pieces both share are in sac_torch.py.

OPENBLAS_CORETYPE is set from /proc/cpuinfo before torch loads, as lib/backend/blas-env.ts does (a value already set
is kept); Debian's OpenBLAS 0.3.21 otherwise falls back to SSE3 kernels on newer CPUs. --threads T sets both
torch.set_num_threads(T) and OPENBLAS_NUM_THREADS=T (Debian's torch calls OpenBLAS, whose own thread pool
torch.set_num_threads does not control); OMP_WAIT_POLICY defaults to PASSIVE (see prepare_blas_env).

Only torch and the standard library are used.
"""
import argparse
import json
import math
import os
import sys
import time

SCRIPT = "scripts/bench/pytorch_sac_update.py"


# --- OpenBLAS environment (mirrors lib/backend/blas-env.ts) -------------------------------------------------------

def cpu_flags(path="/proc/cpuinfo"):
    """The CPU flags of the first processor in /proc/cpuinfo (empty where that file does not exist)."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags") and ":" in line:
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def core_type_for_flags(flags):
    """The OpenBLAS core type whose kernels this CPU can run; None: let OpenBLAS decide."""
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    return None


def prepare_blas_env(threads):
    """Sets OPENBLAS_CORETYPE (unless set) and OPENBLAS_NUM_THREADS; call before importing torch."""
    source = "already set"
    if not os.environ.get("OPENBLAS_CORETYPE"):
        chosen = core_type_for_flags(cpu_flags())
        if chosen:
            os.environ["OPENBLAS_CORETYPE"] = chosen
            source = "from cpu flags"
        else:
            source = "left to OpenBLAS"
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    # libgomp's default (active) wait spins between parallel regions without yielding; on a 2-core machine with
    # another busy process that made 2-thread updates 5-40x slower than 1-thread ones (docs/backend.md). Passive
    # waiting, a documented OpenMP setting, sleeps instead, as iapo's own worker thread does after a short yield.
    # A value already set (e.g. OMP_WAIT_POLICY=ACTIVE) is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.environ.get("OPENBLAS_CORETYPE"), source


def parse_args(argv):
    p = argparse.ArgumentParser(prog=SCRIPT, description="ms per full SAC update in PyTorch at iapo's bench shapes")
    p.add_argument("--threads", type=int, default=1, help="torch and OpenBLAS threads (default 1)")
    p.add_argument("--repeats", type=int, default=None, help="timed updates per variant, median reported (default 30)")
    p.add_argument("--quick", action="store_true", help="3 timed updates per variant")
    p.add_argument("--only", choices=["direct", "direct10", "iterative1", "iterative10"], action="append",
                   help="measure only these variants (repeatable)")
    p.add_argument("--full-first-layer", action="store_true",
                   help="J evaluations run the whole first Q layer on tiled [s, a] instead of s*W_s once per run")
    p.add_argument("--selftest", action="store_true", help="check the maths and exit (no timing)")
    p.add_argument("--serve", action="store_true",
                   help="time the model-based updates in rounds asked for on stdin (see serve())")
    a = p.parse_args(argv)
    if a.threads < 1:
        p.error("--threads must be >= 1")
    if a.repeats is None:
        a.repeats = 3 if a.quick else 30
    if a.repeats < 1:
        p.error("--repeats must be >= 1")
    return a


ARGS = parse_args(sys.argv[1:])
CORE_TYPE, CORE_TYPE_SOURCE = prepare_blas_env(ARGS.threads)

try:
    import torch
except ImportError as err:
    print(f"{SCRIPT}: PyTorch is not installed for {sys.executable} ({err}); install Debian's python3-torch "
          "with `bash scripts/setup.sh --with-pytorch` (or `apt-get install python3-torch`)", file=sys.stderr)
    sys.exit(3)

# after torch: the environment above is in place (see sac_torch's docstring)
from sac_torch import (ACT, GAMMA, ITERATIONS, LN2, LOG_STD_MAX, LOG_STD_MIN, LR, OBS, TAU, Critics, QNetwork,  # noqa: E402
                       check_finite, evaluate, grad_norm, q_step, initial_lambda, iterative_step, layer_norm, mlp, objective_and_gradient,
                       polyak, replay, sample, set_requires_grad, tanh_gaussian_log_prob)
from model_based_torch import ModelBasedSac, selftest_model_based  # noqa: E402


# --- the agent ---------------------------------------------------------------------------------------------------

class Sac:
    def __init__(self, optimizer, samples, full_first_layer=False):
        self.optimizer = optimizer
        self.samples = samples
        self.beta = 1.0 if optimizer == "direct" else 2.5  # paperBetaTrain("HalfCheetah-v2", optimizer)
        self.full_first_layer = full_first_layer
        self.q = [QNetwork(), QNetwork()]
        self.q_target = [QNetwork(), QNetwork()]
        for t, q in zip(self.q_target, self.q):
            t.load_state_dict(q.state_dict())
            set_requires_grad(t, False)
        for q in self.q:  # trained only in the Q step; elsewhere only gradients to the actions are needed
            set_requires_grad(q, False)
        if optimizer == "direct":
            self.net = mlp(OBS, 2 * ACT)
        else:
            self.net = mlp(OBS + 4 * ACT, 4 * ACT, zero_output=True)
        self.log_alpha = torch.zeros((), requires_grad=True)
        self.target_entropy = -float(ACT)
        self.q_params = [p for q in self.q for p in q.parameters()]
        self.q_opt = torch.optim.Adam(self.q_params, lr=LR)
        self.policy_opt = torch.optim.Adam(self.net.parameters(), lr=LR)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=LR)

    def critics(self, qs, s):
        return Critics(qs, s, self.full_first_layer)

    # lambda for the target: the optimizer's run on s' with the online Q-networks, no training gradient
    def next_lambda(self, s2, alpha):
        if self.optimizer == "direct":
            mean, raw = self.net(s2).chunk(2, -1)
            return mean, torch.clamp(raw, LOG_STD_MIN, LOG_STD_MAX)
        critics = self.critics(self.q, s2)
        mean, log_std = initial_lambda(s2.shape[0])
        for _ in range(ITERATIONS):  # acting-style run: no J at the final lambda
            _, _, gm, gls = objective_and_gradient(critics, mean, log_std, self.beta, alpha, self.samples)
            mean, log_std = iterative_step(self.net, s2, mean, log_std, gm, gls)
        return mean, log_std

    def policy_step(self, s, alpha):
        """Accumulates d loss / d phi into the network's .grad; returns (loss, J per evaluation, log pi at the end,
        final lambda)."""
        critics = self.critics(self.q, s)
        if self.optimizer == "direct":
            mean, raw = self.net(s).chunk(2, -1)
            log_std = torch.clamp(raw, LOG_STD_MIN, LOG_STD_MAX)
            j, log_prob = evaluate(critics, mean, log_std, self.beta, alpha, self.samples)
            loss = -j.mean()
            loss.backward()
            return loss.detach(), [j.detach()], log_prob.detach(), (mean.detach(), log_std.detach())
        # Iterative: loss = mean over k = 1..K of -mean_s J(s, lambda_k). Inputs are detached, so lambda_k depends on
        # phi only through step k-1, and d loss / d lambda_k = -grad_lambda sum_s J(s, lambda_k) / (K B): exactly the
        # gradient already computed for step k's input. So each step back-propagates that, once, through its own
        # network pass (lambda_k.backward(gradient=...)), as iapo's fused update does. Writing loss.backward() on
        # the summed J terms instead would back-propagate every J evaluation through both Q-networks a second time
        # (what iapo's tfjs autodiff path does); see the selftest, which checks the two give the same gradient.
        batch = s.shape[0]
        scale = -1.0 / (ITERATIONS * batch)
        mean, log_std = initial_lambda(batch)
        js = []
        log_prob = None
        for k in range(ITERATIONS + 1):
            j, log_prob, gm, gls = objective_and_gradient(critics, mean, log_std, self.beta, alpha, self.samples)
            js.append(j)
            if k > 0:
                torch.autograd.backward((mean, log_std), (gm * scale, gls * scale))
            if k == ITERATIONS:
                break
            mean, log_std = iterative_step(self.net, s, mean.detach(), log_std.detach(), gm, gls)
        loss = -torch.stack([j.mean() for j in js[1:]]).mean()
        return loss, js, log_prob, (mean.detach(), log_std.detach())

    def update(self, batch):
        s, a, r, s2, done = batch
        metrics = {}
        alpha = self.log_alpha.detach().exp().item()  # a constant for the Q and policy losses

        # Soft Q target y = r + gamma (1 - d) J_target(s', lambda') (Eq. 12, 14): iapo's V(s') is J itself, i.e. it
        # includes the prior's constant |A| log 2 in the KL (same work as "- alpha log pi").
        with torch.no_grad():
            mean2, log_std2 = self.next_lambda(s2, alpha)
            v, _ = evaluate(self.critics(self.q_target, s2), mean2, log_std2, self.beta, alpha, self.samples)
            y = r + GAMMA * (1 - done) * v

        metrics.update(q_step(self.q, self.q_opt, s, a, y))

        # Policy optimizer on the updated Q-networks.
        self.policy_opt.zero_grad()
        loss, js, log_prob, (mean, log_std) = self.policy_step(s, alpha)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"policy loss is {loss.item()}")
        metrics["train/policy_loss"] = loss.item()
        metrics["train/grad_norm_policy"] = grad_norm(self.net.parameters())
        self.policy_opt.step()
        mean_log_prob = log_prob.mean()
        metrics["train/entropy"] = -mean_log_prob.item()
        metrics["train/kl_prior"] = mean_log_prob.item() + ACT * LN2
        metrics["train/policy_mean_abs"] = mean.abs().mean().item()
        metrics["train/policy_scale"] = log_std.exp().mean().item()
        metrics["train/objective"] = js[-1].mean().item()
        for k in range(1, len(js)):
            metrics[f"train/j_improvement_iter{k}"] = (js[k].mean() - js[k - 1].mean()).item()

        # Temperature: L(log alpha) = -log alpha (E log pi + H_target).
        alpha_loss = -(self.log_alpha * (mean_log_prob + self.target_entropy))
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()
        metrics["train/alpha_loss"] = alpha_loss.item()
        metrics["train/alpha"] = self.log_alpha.detach().exp().item()

        # Polyak averaging of the targets.
        polyak(self.q_target, self.q)
        return check_finite(metrics)


VARIANTS = [
    ("direct", "direct SAC update", "direct", 1),
    ("direct10", "direct SAC update (N=10)", "direct", 10),
    ("iterative1", "iterative update (5 it., N=1)", "iterative", 1),
    ("iterative10", "iterative update (5 it., N=10)", "iterative", 10),
]


def warm_up(agent, batch, quick):
    """Warm-up as the TypeScript side's (lib/cli/bench/updates.ts): allocator, Adam state, and whatever settles over
    the first updates, for 2 s (0.5 s with --quick; at least one update, at most 500)."""
    warm_start = time.perf_counter()
    for n in range(500):
        if n > 0 and time.perf_counter() - warm_start > (0.5 if quick else 2.0):
            break
        agent.update(batch)


def timed_updates(agent, batches):
    """ms of each update, one per batch."""
    times = []
    for b in batches:
        t0 = time.perf_counter()
        agent.update(b)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def measure(repeats, only, full_first_layer, quick):
    torch.manual_seed(0)
    buffer = replay()
    figures = []
    for key, name, optimizer, samples in VARIANTS:
        if only and key not in only:
            continue
        agent = Sac(optimizer, samples, full_first_layer)
        batches = [sample(buffer) for _ in range(repeats + 1)]
        warm_up(agent, batches[0], quick)
        times = sorted(timed_updates(agent, batches[1:]))
        figures.append({"name": name, "ms": times[len(times) // 2]})
    return figures


# The model-based updates (model_based_torch.py), timed in rounds that alternate with iapo's (--serve).
SERVED = {
    "mb-direct": lambda: ModelBasedSac("direct"),
    "mb-iterative": lambda: ModelBasedSac("iterative"),
    "mb-iterative-reuse": lambda: ModelBasedSac("iterative", gradient_reuse=True),
}


def serve(lines, write):
    """Line protocol on stdin/stdout for rounds that alternate with the TypeScript side (lib/cli/bench/
    pytorch-model-based.ts), so both see the same moments of a shared machine. Prints the versions first, then
    answers each line with one JSON line: "start KEY" builds that agent and warms it up -> {"ready": KEY};
    "time KEY N" times N of its updates on new batches -> {"ms": [...]}; "quit" or the end of input ends."""
    write({"torch": torch.__version__, "threads": ARGS.threads, "coreType": CORE_TYPE, "served": sorted(SERVED)})
    torch.manual_seed(0)
    buffer = replay()
    agents = {}
    for line in lines:
        words = line.split()
        if words == ["quit"]:
            return
        if len(words) == 2 and words[0] == "start" and words[1] in SERVED:
            agents[words[1]] = SERVED[words[1]]()
            warm_up(agents[words[1]], sample(buffer), ARGS.quick)
            write({"ready": words[1]})
        elif len(words) == 3 and words[0] == "time" and words[1] in agents and words[2].isdigit() and int(words[2]) > 0:
            write({"ms": timed_updates(agents[words[1]], [sample(buffer) for _ in range(int(words[2]))])})
        else:
            write({"error": f"cannot answer {line.strip()!r}: want 'start KEY' (KEY in {sorted(SERVED)}), then "
                            "'time KEY N' (N > 0)"})


# --- self-test -----------------------------------------------------------------------------------------------------

def selftest():
    """Checks, at small and full shapes, that the pieces compute what iapo's update computes."""
    torch.manual_seed(1)
    checks = []

    def check(what, ok, detail=""):
        checks.append(what)
        if not ok:
            raise AssertionError(f"selftest: {what} failed {detail}")

    def close(a, b, tol):
        return float((a - b).abs().max()) <= tol * (1 + float(b.abs().max()))

    # log pi of the tanh-Gaussian against torch.distributions and the plain log(1 - tanh^2 u), in float64
    mean = torch.randn(5, ACT, dtype=torch.float64)
    log_std = torch.randn(5, ACT, dtype=torch.float64) * 0.5
    u = mean + log_std.exp() * torch.randn(3, 5, ACT, dtype=torch.float64)
    ref = (torch.distributions.Normal(mean, log_std.exp()).log_prob(u) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
    check("tanh-Gaussian log pi", close(tanh_gaussian_log_prob(mean, log_std, u), ref, 1e-10))

    # layer norm: zero mean, unit population std per row
    x = torch.randn(4, 9) * 3 + 2
    n = layer_norm(x)
    check("layer norm", close(n.mean(-1), torch.zeros(4), 1e-5) and close(n.std(-1, unbiased=False), torch.ones(4), 1e-4))

    # the split first layer gives the same Q as the whole network on tiled [s, a]
    q = QNetwork()
    s = torch.randn(7, OBS)
    a = torch.rand(3, 7, ACT) * 2 - 1
    whole = q(s.expand(3, 7, OBS), a)
    check("Q on the states' part", whole.shape == (3, 7) and close(q.on_state_part(q.state_part(s), a), whole, 1e-5))
    check("Critics, both forms", close(Critics([q, q], s, False)(a)[0], Critics([q, q], s, True)(a)[0], 1e-5))

    # beta = 1: the pessimistic value is min(Q1, Q2); J by hand for one state with fixed noise
    q1, q2 = QNetwork(), QNetwork()
    critics = Critics([q1, q2], s, False)
    mean, log_std = torch.randn(7, ACT) * 0.3, torch.randn(7, ACT) * 0.3 - 0.5
    eps = torch.randn(2, 7, ACT)
    with torch.no_grad():
        j, log_prob = evaluate(critics, mean, log_std, 1.0, 0.2, 2, noise=eps)
        acts = torch.tanh(mean + log_std.exp() * eps)
        qmin = torch.minimum(q1(s.expand(2, 7, OBS), acts), q2(s.expand(2, 7, OBS), acts))
        logpi = (torch.distributions.Normal(mean.double(), log_std.double().exp()).log_prob((mean + log_std.exp() * eps).double())
                 - torch.log(1 - acts.double() ** 2)).sum(-1)
        j_hand = qmin.double().mean(0) - 0.2 * (logpi + ACT * LN2).mean(0)
    check("J by hand (beta = 1 is min Q)", close(j.double(), j_hand, 1e-4), f"{j[:3]} vs {j_hand[:3]}")
    check("log pi estimate", close(log_prob.double(), logpi.mean(0), 1e-4))

    # direct update: one update by hand-sized checks on targets, temperature and Polyak
    for optimizer, samples in (("direct", 1), ("direct", 10), ("iterative", 1), ("iterative", 10)):
        torch.manual_seed(2)
        agent = Sac(optimizer, samples)
        batch = sample(replay())
        before = [p.detach().clone() for t in agent.q_target for p in t.parameters()]
        m = agent.update(batch)
        after_online = [p.detach() for q in agent.q for p in q.parameters()]
        after_target = [p.detach() for t in agent.q_target for p in t.parameters()]
        check(f"{optimizer} N={samples}: Polyak", all(close(t, (1 - TAU) * b + TAU * o, 1e-6)
                                                      for t, b, o in zip(after_target, before, after_online)))
        # Adam's first step moves log alpha by lr * sign(E log pi + H_target)
        step = math.log(m["train/alpha"])
        want = LR * math.copysign(1.0, -m["train/entropy"] + agent.target_entropy)
        check(f"{optimizer} N={samples}: temperature step", abs(step - want) < 1e-6, f"{step} vs {want}")
        check(f"{optimizer} N={samples}: finite metrics", all(math.isfinite(v) for v in m.values()))
        check(f"{optimizer} N={samples}: J improvements logged",
              sum(k.startswith("train/j_improvement_iter") for k in m) == (0 if optimizer == "direct" else ITERATIONS))

    # direct: the Q target by hand with beta = 1 (min of the target Q-networks), same noise
    torch.manual_seed(3)
    agent = Sac("direct", 1)
    s, a, r, s2, done = sample(replay(), 16)
    done[:4] = 1
    with torch.no_grad():
        torch.manual_seed(4)
        mean2, log_std2 = agent.next_lambda(s2, 1.0)
        v, _ = evaluate(agent.critics(agent.q_target, s2), mean2, log_std2, 1.0, 1.0, 1)
        torch.manual_seed(4)
        out = agent.net(s2)
        mu, ls = out[:, :ACT], out[:, ACT:].clamp(LOG_STD_MIN, LOG_STD_MAX)
        u2 = mu + ls.exp() * torch.randn(1, 16, ACT)
        a2 = torch.tanh(u2)
        qt = torch.minimum(*[qq(s2.expand(1, 16, OBS), a2) for qq in agent.q_target])[0]
        logpi = (torch.distributions.Normal(mu, ls.exp()).log_prob(u2[0]) - torch.log(1 - a2[0] ** 2)).sum(-1)
        y_hand = r + GAMMA * (1 - done) * (qt - (logpi + ACT * LN2))
        y = r + GAMMA * (1 - done) * v
    check("direct: Q target by hand", close(y, y_hand, 1e-3), f"{y[:3]} vs {y_hand[:3]}")
    check("direct: terminal targets are r", close(y[:4], r[:4], 0))

    # iterative: the per-step backward of the reused grad_lambda J equals loss.backward() through every J
    for samples in (1, 3):
        agent = Sac("iterative", samples)
        with torch.no_grad():  # a non-zero output layer, so every weight gets a gradient
            agent.net[4].weight.normal_(0, 0.05)
            agent.net[4].bias.normal_(0, 0.05)
        s = torch.randn(32, OBS)
        torch.manual_seed(5)
        agent.policy_opt.zero_grad()
        loss, _, _, lam = agent.policy_step(s, 0.3)
        fast = [p.grad.clone() for p in agent.net.parameters()]
        torch.manual_seed(5)
        agent.policy_opt.zero_grad()
        naive_loss, naive_lam = naive_iterative_loss(agent, s, 0.3)
        naive_loss.backward()
        naive = [p.grad.clone() for p in agent.net.parameters()]
        check(f"iterative N={samples}: loss", close(loss, naive_loss.detach(), 1e-5))
        check(f"iterative N={samples}: final lambda", close(lam[0], naive_lam[0], 1e-6) and close(lam[1], naive_lam[1], 1e-6))
        check(f"iterative N={samples}: gradient = loss.backward()'s",
              all(close(f, n, 1e-4) for f, n in zip(fast, naive)), str([float((f - n).abs().max()) for f, n in zip(fast, naive)]))
        check(f"iterative N={samples}: gradient non-zero", all(float(f.abs().max()) > 0 for f in fast))
    selftest_model_based(check, close)
    return checks


def naive_iterative_loss(agent, s, alpha):
    """The iterative loss written the obvious way (J_k kept in the graph, loss.backward() later): the reference."""
    critics = agent.critics(agent.q, s)
    mean, log_std = initial_lambda(s.shape[0])
    mean.requires_grad_()
    log_std.requires_grad_()
    js = []
    for k in range(ITERATIONS + 1):
        j, _ = evaluate(critics, mean, log_std, agent.beta, alpha, agent.samples)
        js.append(j)
        if k == ITERATIONS:
            break
        gm, gls = torch.autograd.grad(j.sum(), (mean, log_std), retain_graph=True)
        mean, log_std = iterative_step(agent.net, s, mean.detach(), log_std.detach(), gm, gls)
    return -torch.stack([j.mean() for j in js[1:]]).mean(), (mean.detach(), log_std.detach())


def main():
    torch.set_num_threads(ARGS.threads)
    if ARGS.selftest:
        checks = selftest()
        print(json.dumps({"torch": torch.__version__, "selftest": "passed", "checks": len(checks)}))
        return
    if ARGS.serve:
        serve(sys.stdin, lambda doc: print(json.dumps(doc), flush=True))
        return
    figures = measure(ARGS.repeats, ARGS.only, ARGS.full_first_layer, ARGS.quick)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": ARGS.threads,
        "coreType": CORE_TYPE,
        "coreTypeSource": CORE_TYPE_SOURCE,
        "ompWaitPolicy": os.environ["OMP_WAIT_POLICY"],
        "repeats": ARGS.repeats,
        "firstLayer": "whole" if ARGS.full_first_layer else "states' part once per run",
        "figures": figures,
    }))


if __name__ == "__main__":
    main()
