#!/usr/bin/env python3
"""PyTorch reference runs of the two seed experiments (docs/NETWORKS.md).

Runs the PRePU notebook (1-8-8-8-8-1, ReLU vs PRePU, Adam, batch 36, clip 100)
and the ExpoLU post (21 points, 30 layers of 512, per-sample SGD) the way the
seeds wrote them, times them, and prints one JSON object per run, the same
fields as examples/prepu_vs_relu and examples/expolu_deep print, so the two
can be tabulated side by side:

    python3 scripts/torch_train_compare.py --experiment prepu --seeds 0 1 --threads 1
    python3 scripts/torch_train_compare.py --experiment expolu --seeds 0 1 2 --threads 1
    python3 scripts/torch_train_compare.py --experiment both --csv out/   # loss histories as CSV

Needs torch (and nothing else; the split is done with torch.randperm instead
of sklearn). --device cuda runs on the GPU where there is one.
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- Experiment 1: the PRePU notebook ------------------------------------------

class PRePU(nn.Module):
    def __init__(self, num_features):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        return torch.pow(torch.relu(x), F.softsign(self.scale) + 1)


def mlp(act):
    layers = [nn.Linear(1, 8)]
    for i in range(4):
        layers.append(nn.ReLU() if act == "relu" else PRePU(8))
        layers.append(nn.Linear(8, 8) if i < 3 else nn.Linear(8, 1))
    return nn.Sequential(*layers)


def prepu_experiment(act, seed, epochs, device, csv_dir):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(10000, generator=g, dtype=torch.float64) * 2
    y = 1 + 0.5 * x ** 1 / 2 + 2 * x ** 2 - 3 * x ** 3  # the notebook's polynomial, 0.25 x
    perm = torch.randperm(10000, generator=g)
    val_idx, train_idx = perm[:2000], perm[2000:]
    xt, yt = x[train_idx].float().view(-1, 1).to(device), y[train_idx].float().view(-1, 1).to(device)
    xv, yv = x[val_idx].float().view(-1, 1).to(device), y[val_idx].float().view(-1, 1).to(device)
    torch.manual_seed(seed + 1)
    model = mlp(act).to(device)
    opt = torch.optim.Adam(model.parameters())
    crit = nn.MSELoss()
    history = []
    start = time.perf_counter()
    for epoch in range(epochs):
        e0 = time.perf_counter()
        order = torch.randperm(len(xt), generator=g).to(device)
        running, batches = 0.0, 0
        for b in range(0, len(xt), 36):
            idx = order[b:b + 36]
            opt.zero_grad()
            loss = crit(model(xt[idx]), yt[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=100)
            opt.step()
            running += loss.item()
            batches += 1
        with torch.no_grad():
            val = crit(model(xv), yv).item()
        history.append((epoch + 1, running / batches, val, time.perf_counter() - e0))
    seconds = time.perf_counter() - start
    if csv_dir:
        write_csv(os.path.join(csv_dir, f"torch_prepu_vs_relu_{act}_seed{seed}.csv"), history)
    return {"experiment": "prepu_vs_relu", "act": act, "seed": seed, "epochs": epochs,
            "train_loss": history[-1][1], "val_loss": history[-1][2], "seconds": seconds}


# ---- Experiment 2: the ExpoLU post ------------------------------------------------

def expolu(x, a=1, b=1, p=2):
    return torch.where(x < -b, torch.tensor(0.0, device=x.device),
                       torch.where(x < b, (1 / a) * (x + b) ** p, x + (1 / a) * (2 * b) ** p - b))


def norma(x):
    return (x - x.mean()) / x.std()


def expolu_experiment(act_name, seed, rounds, width, layers, device, csv_dir):
    act = expolu if act_name == "expolu" else torch.relu
    tdata = torch.tensor([[-10, 6], [-9, 3], [-8, 1], [-7, -2], [-6, -5], [-5, -2], [-4, 1], [-3, 3], [-2, 5], [-1, 2], [0, 0],
                          [10, 6], [9, 3], [8, 1], [7, -2], [6, -5], [5, -2], [4, 1], [3, 3], [2, 5], [1, 2]],
                         dtype=torch.float32, device=device)
    torch.manual_seed(seed)
    n = width
    W0 = torch.randn(1, n, device=device, requires_grad=True)
    B0 = torch.randn(1, n, device=device, requires_grad=True)
    Wh = torch.randn(layers - 1, n, n, device=device, requires_grad=True)
    Bh = torch.randn(layers - 1, 1, n, device=device, requires_grad=True)
    Wo = torch.randn(n, 1, device=device, requires_grad=True)
    Bo = torch.randn(1, 1, device=device, requires_grad=True)
    lr = 0.001 / n

    def forward(x):  # powerlist=[1]: sign(x) * abs(x ** 1) is x
        h = norma(act(norma(x @ W0 + B0)))
        for l in range(layers - 1):
            h = norma(act(norma(h @ Wh[l] + Bh[l])))
        return h @ Wo + Bo

    history = []
    start = time.perf_counter()
    for r in range(rounds):
        e0 = time.perf_counter()
        total = 0.0
        for item in tdata:
            x, y = item[:-1], item[-1:]
            loss = ((forward(x) - y) ** 2).mean()
            total += loss.item()
            loss.backward()
            with torch.no_grad():
                for w in (W0, B0, Wh, Bh, Wo, Bo):
                    w -= lr * w.grad
                    w.grad.zero_()
        history.append((r + 1, total / len(tdata), -1, time.perf_counter() - e0))
    seconds = time.perf_counter() - start
    losses = [h[1] for h in history]
    if csv_dir:
        write_csv(os.path.join(csv_dir, f"torch_expolu_deep_{act_name}_seed{seed}.csv"), history)
    return {"experiment": "expolu_deep", "act": act_name, "seed": seed, "rounds": rounds, "width": width, "layers": layers,
            "final_loss": losses[-1], "best_loss": min(losses), "seconds": seconds}


def write_csv(path, history):
    with open(path, "w") as f:
        f.write("epoch,train_loss,val_loss,seconds\n")
        for row in history:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experiment", choices=["prepu", "expolu", "both"], default="both")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=400)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--layers", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (the C++ runs use one core)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--csv", default="", help="directory for the loss histories")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.csv:
        os.makedirs(args.csv, exist_ok=True)
    env = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": args.device}
    for seed in args.seeds:
        if args.experiment in ("prepu", "both"):
            for act in ("relu", "prepu"):
                print(json.dumps({**prepu_experiment(act, seed, args.epochs, args.device, args.csv), **env}), flush=True)
        if args.experiment in ("expolu", "both"):
            for act in ("expolu", "relu"):
                print(json.dumps({**expolu_experiment(act, seed, args.rounds, args.width, args.layers, args.device, args.csv), **env}),
                      flush=True)


if __name__ == "__main__":
    main()
