"""The SAC update with model-based values (Sec. 4.2.5, App. A.5, Tables 7-8) in PyTorch, doing the work iapo's
tfjs update does for it (lib/agents/sac/agent.ts with lib/agents/model-based/) at the bench's shapes: HalfCheetah
(obs 17, |A| 6), batch 256, Q architecture A, the paper preset (soft clamp of log sigma, temperature loss on alpha,
population std in Eq. 12, N = 1 action sample, beta 1 direct / 2.5 iterative, inputs "layer"), and

  - the learned model: reward and residual state-transition networks, each 2 x 256 Linear -> LayerNorm ->
    Leaky ReLU (0.01), output layer at zero, a separate learned log sigma per output clipped to [-10, 2]; one Adam
    step of the Gaussian negative log-likelihood per update, on the update's batch;
  - Q-hat of Eq. 13 with horizon 2 and Retrace lambda 0.9: unroll model and rollout policy (one reparameterised
    action per row), Q_pess on every state-action estimate, the (gamma lambda)^k-weighted temporal differences;
    used as the policy's J and, at the rollout policy's lambda(s'), as the Q-networks' target (Table 8);
  - the rollout policy: a direct 2 x 256 ReLU network; for a direct agent a copy of its policy network taken at
    the start of each update, for an iterative agent a network of its own with one Adam step of
    KL(pi_iterative || pi_direct) towards the final lambda per update.

The passes match the tfjs path's, which differentiates with autodiff: the iterative policy loss keeps every J_k
(k = 1..5) in the graph and back-propagates it once more after the inner gradients to lambda (5 inner backward
passes through Eq. 13 for the network's inputs, then 5 for the loss), as naive_iterative_loss in
pytorch_sac_update.py writes it; the model-free script's gradient reuse (one backward per J) is what a fused form
would do, and ModelBasedSac(gradient_reuse=True) times that too, as a separate figure. The remaining, unavoidable
differences: the noise is drawn by torch.randn here and by iapo's JavaScript Rng there (copied in); iapo reads its
metrics in one batch at the end of the update, Python with .item() as it goes.

Import after torch is loaded with its environment (see sac_torch).
"""
import math

import torch
import torch.nn as nn

from sac_torch import (ACT, GAMMA, HALF_LOG_2PI, HIDDEN, ITERATIONS, LN2, LR, OBS, QNetwork, check_finite, initial_lambda,
                       iterative_step, mlp, polyak, q_step, set_requires_grad, soft_clamp_log_std, tanh_gaussian_log_prob)

HORIZON = 2
RETRACE_LAMBDA = 0.9
MODEL_LOG_STD_MIN = -10.0
MODEL_LOG_STD_MAX = 2.0
LEAKY_SLOPE = 0.01


class GaussianNetwork(nn.Module):
    """Table 7: the mean of a Gaussian from a 2 x 256 Leaky ReLU MLP with layer norm, and a separate log sigma."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(inputs, HIDDEN), nn.LayerNorm(HIDDEN, eps=1e-5), nn.LeakyReLU(LEAKY_SLOPE),
                                  nn.Linear(HIDDEN, HIDDEN), nn.LayerNorm(HIDDEN, eps=1e-5), nn.LeakyReLU(LEAKY_SLOPE),
                                  nn.Linear(HIDDEN, outputs))
        nn.init.zeros_(self.body[6].weight)  # Delta s = 0, r-hat = 0 until the model has seen data
        nn.init.zeros_(self.body[6].bias)
        self.log_std = nn.Parameter(torch.zeros(outputs))

    def forward(self, x):
        return self.body(x)

    def clipped_log_std(self):
        return torch.clamp(self.log_std, MODEL_LOG_STD_MIN, MODEL_LOG_STD_MAX)


def gaussian_nll(x, mean, log_std):
    """Mean over the batch of sum over dimensions of -log N(x; mean, exp(log_std)^2) (lib/agents/model-based/model.ts)."""
    z = (x - mean) / log_std.exp()
    return (0.5 * z.square() + log_std + HALF_LOG_2PI).sum(-1).mean()


class LearnedModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.reward = GaussianNetwork(OBS + ACT, 1)
        self.transition = GaussianNetwork(OBS + ACT, OBS)

    def predict(self, s, a):
        """Means of p(s'|s, a) = s + Delta s and of r(s, a): ([M, obs], [M])."""
        x = torch.cat((s, a), -1)
        return s + self.transition(x), self.reward(x).squeeze(-1)

    def loss(self, s, a, r, s2):
        x = torch.cat((s, a), -1)
        state = gaussian_nll(s2 - s, self.transition(x), self.transition.clipped_log_std())
        reward = gaussian_nll(r.unsqueeze(-1), self.reward(x), self.reward.clipped_log_std())
        return state, reward


def direct_lambda(net, s):
    """lambda = f(s) of a direct network: mean and soft-clamped log sigma, [B, |A|] each."""
    mean, raw = net(s).chunk(2, -1)
    return mean, soft_clamp_log_std(raw)


def pessimistic_value(qs, beta):
    """Q_pess of Eq. 12 (population std) on the pair qs: (s [M, obs], a [M, |A|]) -> [M], whole first layer."""
    def value(s, a):
        x = torch.cat((s, a), -1)
        q1, q2 = (q._rest(q.l1(x)) for q in qs)
        return 0.5 * (q1 + q2) - 0.5 * beta * (q1 - q2).abs()
    return value


def model_based_q(value, alpha, model, rollout, s, a, noise, horizon=HORIZON, lam=RETRACE_LAMBDA):
    """Q-hat of Eq. 13 per row: Q_0 + sum_k (gamma lambda)^k (r_k + gamma (Q_{k+1} - c_{k+1}) - Q_k), where
    c = alpha (log pi + |A| log 2) of the rollout policy's sampled action; noise [h, M, |A|]. [M]."""
    states, actions, rewards, costs = [s], [a], [], []
    for k in range(horizon):
        s, r = model.predict(s, a)
        mean, log_std = direct_lambda(rollout, s)
        u = mean + log_std.exp() * noise[k]
        a = torch.tanh(u)
        rewards.append(r)
        costs.append(alpha * (tanh_gaussian_log_prob(mean, log_std, u) + ACT * LN2))
        states.append(s)
        actions.append(a)
    q = [value(si, ai) for si, ai in zip(states, actions)]  # as rollout.ts: after the unroll
    estimate = q[0]
    for k in range(horizon):
        estimate = estimate + (GAMMA * lam) ** k * (rewards[k] + GAMMA * (q[k + 1] - costs[k]) - q[k])
    return estimate


def evaluate_model_based(value, alpha, model, rollout, s, mean, log_std, samples=1):
    """J (Eq. 7) on Q-hat: E[Q-hat(s, a)] - alpha KL(pi || U), N samples; returns (J, log pi estimate), [B] each.
    The rollout noise [h, N B, |A|] is drawn after the action noise, as objective.ts does."""
    b = s.shape[0]
    eps = torch.randn(samples, b, ACT)
    u = mean + log_std.exp() * eps
    a = torch.tanh(u)
    kl = (tanh_gaussian_log_prob(mean, log_std, u) + ACT * LN2).mean(0)
    tiled = s if samples == 1 else s.expand(samples, b, OBS).reshape(samples * b, OBS)
    noise = torch.randn(HORIZON, samples * b, ACT)
    q = model_based_q(value, alpha, model, rollout, tiled, a.reshape(samples * b, ACT), noise).reshape(samples, b).mean(0)
    return q - alpha * kl, kl - ACT * LN2


class ModelBasedSac:
    """One agent with model-based values; `gradient_reuse`: the iterative loss by one backward per J (fused form)."""

    def __init__(self, optimizer, gradient_reuse=False):
        self.optimizer = optimizer
        self.gradient_reuse = gradient_reuse
        self.beta = 1.0 if optimizer == "direct" else 2.5
        self.q = [QNetwork(), QNetwork()]
        self.q_target = [QNetwork(), QNetwork()]
        for t, q in zip(self.q_target, self.q):
            t.load_state_dict(q.state_dict())
            set_requires_grad(t, False)
        for q in self.q:
            set_requires_grad(q, False)
        self.net = mlp(OBS, 2 * ACT) if optimizer == "direct" else mlp(OBS + 4 * ACT, 4 * ACT, zero_output=True)
        self.model = LearnedModel()
        self.rollout = mlp(OBS, 2 * ACT)
        set_requires_grad(self.rollout, False)  # trained only in its distillation step
        self.log_alpha = torch.zeros((), requires_grad=True)
        self.q_params = [p for q in self.q for p in q.parameters()]
        self.q_opt = torch.optim.Adam(self.q_params, lr=LR)
        self.policy_opt = torch.optim.Adam(self.net.parameters(), lr=LR)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=LR)
        self.model_opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.rollout_opt = torch.optim.Adam(self.rollout.parameters(), lr=LR) if optimizer != "direct" else None

    def j(self, qs, alpha, s, mean, log_std):
        return evaluate_model_based(pessimistic_value(qs, self.beta), alpha, self.model, self.rollout, s, mean, log_std)

    def iterative_policy_loss(self, s, alpha):
        """The mean over k = 1..5 of -mean_s J(s, lambda_k) with every J_k kept in the graph (as the tfjs path):
        returns (loss, final lambda, log pi there); the caller back-propagates the loss."""
        mean, log_std = initial_lambda(s.shape[0])
        mean.requires_grad_()
        log_std.requires_grad_()
        js = []
        for k in range(ITERATIONS + 1):
            j, log_prob = self.j(self.q, alpha, s, mean, log_std)
            js.append(j)
            if k == ITERATIONS:  # the final lambda is evaluated, not differentiated in the inner loop
                break
            gm, gls = torch.autograd.grad(j.sum(), (mean, log_std), retain_graph=True)
            mean, log_std = iterative_step(self.net, s, mean.detach(), log_std.detach(), gm, gls, soft_clamp_log_std)
        loss = -torch.stack([x.mean() for x in js[1:]]).mean()
        return loss, (mean.detach(), log_std.detach()), log_prob.detach()

    def iterative_policy_gradient_reuse(self, s, alpha):
        """The same loss's gradient with one backward per J (what a fused form does, pytorch_sac_update.Sac's
        policy_step): d loss / d lambda_k is the already computed grad_lambda J / (-K B), pushed through step k's
        network pass. Accumulates into the network's .grad; returns the loss (detached), final lambda, log pi."""
        batch = s.shape[0]
        scale = -1.0 / (ITERATIONS * batch)
        mean, log_std = initial_lambda(batch)
        js = []
        for k in range(ITERATIONS + 1):
            m = mean.detach().requires_grad_()
            ls = log_std.detach().requires_grad_()
            j, log_prob = self.j(self.q, alpha, s, m, ls)
            gm, gls = torch.autograd.grad(j.sum(), (m, ls))
            js.append(j.detach())
            if k > 0:
                torch.autograd.backward((mean, log_std), (gm * scale, gls * scale))
            if k == ITERATIONS:
                break
            mean, log_std = iterative_step(self.net, s, m.detach(), ls.detach(), gm, gls, soft_clamp_log_std)
        loss = -torch.stack([x.mean() for x in js[1:]]).mean()
        return loss, (mean.detach(), log_std.detach()), log_prob.detach()

    def update(self, batch):
        s, a, r, s2, done = batch
        metrics = {}
        alpha = self.log_alpha.detach().exp().item()
        if self.optimizer == "direct":  # the rollout policy is the policy network as it stands (value.ts sync)
            with torch.no_grad():
                for pr, p in zip(self.rollout.parameters(), self.net.parameters()):
                    pr.copy_(p)

        # Model-based Q targets (Table 8): V(s') = J on Q-hat with the target Q-networks at lambda_rollout(s').
        with torch.no_grad():
            mean2, log_std2 = direct_lambda(self.rollout, s2)
            v, _ = self.j(self.q_target, alpha, s2, mean2, log_std2)
            y = r + GAMMA * (1 - done) * v

        metrics.update(q_step(self.q, self.q_opt, s, a, y))

        # The policy on J with Q-hat (online Q-networks); gradients reach only the policy's weights.
        set_requires_grad(self.model, False)
        self.policy_opt.zero_grad()
        if self.optimizer == "direct":
            mean, log_std = direct_lambda(self.net, s)
            j, log_prob = self.j(self.q, alpha, s, mean, log_std)
            loss = -j.mean()
            loss.backward()
            lam = (mean.detach(), log_std.detach())
            log_prob = log_prob.detach()
        elif self.gradient_reuse:
            loss, lam, log_prob = self.iterative_policy_gradient_reuse(s, alpha)
        else:
            loss, lam, log_prob = self.iterative_policy_loss(s, alpha)
            loss.backward()
        metrics["train/policy_loss"] = loss.item()
        self.policy_opt.step()
        set_requires_grad(self.model, True)

        # The model's maximum-likelihood step and, for an iterative agent, the rollout policy's distillation.
        state_nll, reward_nll = self.model.loss(s, a, r, s2)
        self.model_opt.zero_grad()
        (state_nll + reward_nll).backward()
        self.model_opt.step()
        metrics["train/model_state_nll"] = state_nll.item()
        metrics["train/model_reward_nll"] = reward_nll.item()
        if self.rollout_opt is not None:
            set_requires_grad(self.rollout, True)
            own_mean, own_log_std = direct_lambda(self.rollout, s)
            kl = gaussian_kl(lam[0], lam[1], own_mean, own_log_std).mean()
            self.rollout_opt.zero_grad()
            kl.backward()
            self.rollout_opt.step()
            set_requires_grad(self.rollout, False)
            metrics["train/rollout_kl"] = kl.item()

        # Temperature, the paper preset's form: L = -alpha (E log pi + H_target).
        mean_log_prob = log_prob.mean()
        alpha_loss = -(self.log_alpha.exp() * (mean_log_prob - ACT))
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()
        metrics["train/alpha"] = self.log_alpha.detach().exp().item()

        polyak(self.q_target, self.q)
        return check_finite(metrics)


def gaussian_kl(mean1, log_std1, mean2, log_std2):
    """KL(N1 || N2) summed over action dimensions, per state (lib/agents/model-based/maths.ts gaussianKl)."""
    ratio = (2 * (log_std1 - log_std2)).exp()
    d = (mean1 - mean2) / log_std2.exp()
    return (log_std2 - log_std1 + 0.5 * (ratio + d.square()) - 0.5).sum(-1)


def selftest_model_based(check, close):
    """Checks Eq. 13's limits, the likelihood and KL against torch.distributions, the iterative loss's two
    gradient forms against each other, and one update of each agent. Returns nothing; `check` raises."""
    torch.manual_seed(11)
    model, rollout = LearnedModel(), mlp(OBS, 2 * ACT)
    with torch.no_grad():  # a model that predicts something
        for net in (model.reward, model.transition):
            net.body[6].weight.normal_(0, 0.1)
            net.body[6].bias.normal_(0, 0.1)
    q1, q2 = QNetwork(), QNetwork()
    value = pessimistic_value((q1, q2), 1.0)
    s = torch.randn(5, OBS, dtype=torch.float64)
    a = torch.rand(5, ACT, dtype=torch.float64) * 2 - 1
    noise = torch.randn(HORIZON, 5, ACT, dtype=torch.float64)
    for m in (model, rollout, q1, q2):
        m.double()
    alpha = 0.3
    with torch.no_grad():
        # the pieces by hand: states, actions, rewards and KL costs along the rollout
        states, actions, rewards, costs = [s], [a], [], []
        for k in range(HORIZON):
            s_next, r = model.predict(states[-1], actions[-1])
            mean, log_std = direct_lambda(rollout, s_next)
            u = mean + log_std.exp() * noise[k]
            logpi = (torch.distributions.Normal(mean, log_std.exp()).log_prob(u) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
            states.append(s_next)
            actions.append(torch.tanh(u))
            rewards.append(r)
            costs.append(alpha * (logpi + ACT * LN2))
        q = [torch.minimum(q1(si, ai), q2(si, ai)) for si, ai in zip(states, actions)]
        at = lambda h, lam: model_based_q(value, alpha, model, rollout, s, a, noise, h, lam)  # noqa: E731
        check("Eq. 13, h = 0: model-free Q", close(at(0, 0.9), q[0], 1e-9))
        check("Eq. 13, lambda = 0: r_0 + gamma V_1", close(at(HORIZON, 0.0), rewards[0] + GAMMA * (q[1] - costs[0]), 1e-9))
        full = sum(GAMMA ** k * (rewards[k] - GAMMA * costs[k]) for k in range(HORIZON)) + GAMMA ** HORIZON * q[HORIZON]
        check("Eq. 13, lambda = 1: h-step return", close(at(HORIZON, 1.0), full, 1e-9))
        mixed = q[0] + sum((GAMMA * 0.9) ** k * (rewards[k] + GAMMA * (q[k + 1] - costs[k]) - q[k]) for k in range(HORIZON))
        check("Eq. 13, lambda = 0.9", close(at(HORIZON, 0.9), mixed, 1e-9))
        x, mu, ls = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
        ref = -torch.distributions.Normal(mu, ls.exp()).log_prob(x).sum(-1).mean()
        check("Gaussian NLL", close(gaussian_nll(x, mu, ls), ref, 1e-12))
        m2, ls2 = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
        kl_ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu, ls.exp()), torch.distributions.Normal(m2, ls2.exp())).sum(-1)
        check("Gaussian KL", close(gaussian_kl(mu, ls.expand(4, 3), m2, ls2), kl_ref, 1e-12))
        check("soft clamp", abs(float(soft_clamp_log_std(torch.zeros(1))) + 0.474) < 1e-3)

    # the iterative loss: loss.backward() through every kept J equals the gradient-reuse form
    agent = ModelBasedSac("iterative")
    with torch.no_grad():
        agent.net[4].weight.normal_(0, 0.05)
        agent.net[4].bias.normal_(0, 0.05)
    s = torch.randn(32, OBS)
    grads = []
    for reuse in (False, True):
        agent.gradient_reuse = reuse
        torch.manual_seed(12)
        agent.policy_opt.zero_grad()
        if reuse:
            loss, lam, _ = agent.iterative_policy_gradient_reuse(s, 0.3)
        else:
            loss, lam, _ = agent.iterative_policy_loss(s, 0.3)
            loss.backward()
        grads.append(([p.grad.clone() for p in agent.net.parameters()], float(loss), lam))
    (g0, l0, lam0), (g1, l1, lam1) = grads
    check("model-based iterative: same loss both ways", abs(l0 - l1) <= 1e-5 * (1 + abs(l0)))
    check("model-based iterative: same final lambda", close(lam0[0], lam1[0], 1e-6) and close(lam0[1], lam1[1], 1e-6))
    check("model-based iterative: same gradient both ways", all(close(x, y, 1e-4) for x, y in zip(g0, g1)),
          str([float((x - y).abs().max()) for x, y in zip(g0, g1)]))
    check("model-based iterative: gradient non-zero", all(float(x.abs().max()) > 0 for x in g0))

    for optimizer, reuse in (("direct", False), ("iterative", False), ("iterative", True)):
        torch.manual_seed(13)
        agent = ModelBasedSac(optimizer, reuse)
        batch = tuple(x[:64] for x in (torch.randn(64, OBS), torch.rand(64, ACT) * 2 - 1, torch.randn(64),
                                       torch.randn(64, OBS), torch.zeros(64)))
        policy_before = [p.detach().clone() for p in agent.net.parameters()]
        model_before = [p.detach().clone() for p in agent.model.parameters()]
        m = agent.update(batch)
        what = f"model-based {optimizer}{' (reuse)' if reuse else ''}"
        check(f"{what}: finite metrics", all(math.isfinite(v) for v in m.values()))
        check(f"{what}: model trained", any(not torch.equal(p, b) for p, b in zip(agent.model.parameters(), model_before)))
        if optimizer == "direct":
            check(f"{what}: rollout = the policy before the update",
                  all(torch.equal(r, b) for r, b in zip(agent.rollout.parameters(), policy_before)))
        else:
            check(f"{what}: rollout distilled", "train/rollout_kl" in m)
