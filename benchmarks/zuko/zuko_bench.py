"""zuko's side of the side-by-side speed comparison (benchmarks/zuko-compare.sh; issue 19 item 4).

Runs inside the Debian trixie root of ../shared/peer (python3-torch 2.6) with zuko's package copied next to this file
(zuko-compare.sh does that from a git checkout of probabilists/zuko). For one configuration FLOW-FEATURES, FLOW in
{nsf-coupling, nsf-autoregressive, maf} and FEATURES e.g. 2, 8 or 32, it builds zuko's preset with every setting written
out (the values are zuko 1.6's defaults), trains it by maximum likelihood on a fixed synthetic data set (Adam, lr 1e-3,
shuffled minibatches of 512, the last partial batch of each pass dropped, as the C# library's Fit.ToData does), then times
log q(x) of the 100 000 test rows and drawing 100 000 samples under torch.no_grad(), and prints one JSON line.

The data is generated bit for bit the same as `nflows-bench zuko-match` generates it (ZukoData.cs): a counter-based
splitmix64 stream, normals as the sum of 12 uniforms minus 6 (only additions, so no libm differs between the two sides),
features in pairs (a, b) -> (a, (a^2 - 1)/2 + b/2), a banana per pair, an odd last feature left Gaussian; rounded to
float32. `data_sha256` (of the float32 bytes, training rows then test rows) shows that both sides saw the same numbers.

    usage: python3 zuko_bench.py nsf-coupling-8 [--iterations 1000] [--threads 2] [--seed 0]
"""

import argparse, hashlib, json, os, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zuko  # noqa: E402

FLOWS = ("nsf-coupling", "nsf-autoregressive", "maf")
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def splitmix_uniform(stream, index):
    """Uniforms in [0, 1) from splitmix64 at counters index + 1 of the stream (index: uint64 array)."""
    z = np.uint64((stream * 0xD1B54A32D192ED03) & MASK) + (index + np.uint64(1)) * np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def dataset(rows, features, data_seed, part):
    """[rows, features] float32: part 0 = training rows, 1 = test rows (different streams)."""
    stream = data_seed * 2 + part + 1
    cell = np.arange(rows * features, dtype=np.uint64) * np.uint64(12)
    s = np.zeros(rows * features, dtype=np.float64)
    for j in range(12):
        s = s + splitmix_uniform(stream, cell + np.uint64(j))
    n = (s - 6.0).reshape(rows, features)
    x = n.copy()
    for k in range(features // 2):
        a, b = n[:, 2 * k], n[:, 2 * k + 1]
        x[:, 2 * k + 1] = 0.5 * (a * a - 1.0) + 0.5 * b
    return x.astype(np.float32)


def build(flow, features, transforms, hidden, bins):
    """zuko's preset with zuko 1.6's defaults written out."""
    common = dict(features=features, context=0, transforms=transforms, randperm=False,
                  hidden_features=tuple(hidden), activation=torch.nn.ReLU)
    if flow == "nsf-coupling":
        return zuko.flows.NSF(bins=bins, slope=1e-3, passes=2, **common)
    if flow == "nsf-autoregressive":
        return zuko.flows.NSF(bins=bins, slope=1e-3, passes=None, **common)
    return zuko.flows.MAF(passes=None, **common)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config", help="FLOW-FEATURES, FLOW in " + ", ".join(FLOWS))
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order")
    p.add_argument("--eval", type=int, default=100_000, help="test rows for log-prob and points sampled")
    p.add_argument("--train-rows", type=int, default=100_000)
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--transforms", type=int, default=3)
    p.add_argument("--hidden", default="64,64")
    p.add_argument("--bins", type=int, default=8)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    a = p.parse_args()
    flow_name, _, dim = a.config.rpartition("-")
    if flow_name not in FLOWS or not dim.isdigit() or int(dim) < 2:
        p.error(f"config: expected FLOW-FEATURES with FLOW in {', '.join(FLOWS)} and FEATURES >= 2; got {a.config!r}")
    features = int(dim)
    hidden = [int(h) for h in a.hidden.split(",")]

    torch.set_num_threads(a.threads)
    train_np = dataset(a.train_rows, features, a.data_seed, 0)
    test_np = dataset(a.eval, features, a.data_seed, 1)
    digest = hashlib.sha256(train_np.tobytes() + test_np.tobytes()).hexdigest()[:16]
    device = torch.device(a.device)
    train, test = torch.from_numpy(train_np).to(device), torch.from_numpy(test_np).to(device)
    wait = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    flow = build(flow_name, features, a.transforms, hidden, a.bins).to(device)
    parameters = sum(t.numel() for t in flow.parameters())
    optim = torch.optim.Adam(flow.parameters(), lr=1e-3)
    steps_per_epoch = max(1, a.train_rows // a.batch)
    skipped, order, loss = 0, None, torch.tensor(float("nan"))
    t0 = time.perf_counter()
    for step in range(a.iterations):
        position = step % steps_per_epoch
        if position == 0:
            order = torch.randperm(a.train_rows, generator=g).to(device)
        x = train.index_select(0, order[position * a.batch:(position + 1) * a.batch])
        optim.zero_grad(set_to_none=True)
        loss = -flow().log_prob(x).mean()
        if torch.isfinite(loss):
            loss.backward()
            optim.step()
        else:
            skipped += 1
    wait()
    train_s = time.perf_counter() - t0

    with torch.no_grad():
        t0 = time.perf_counter()
        lq = flow().log_prob(test)
        wait()
        logprob_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        flow().sample((a.eval,))
        wait()
        sample_s = time.perf_counter() - t0

    print(json.dumps(dict(
        config=a.config, library=f"zuko {zuko.__version__} (torch {torch.__version__})", flow=flow_name, features=features,
        transforms=a.transforms, hidden=hidden, bins=a.bins if flow_name != "maf" else None, parameters=parameters,
        device=str(device), threads=torch.get_num_threads(), iterations=a.iterations, batch=a.batch, train_rows=a.train_rows, skipped_steps=skipped,
        train_seconds=round(train_s, 3), iterations_per_second=round(a.iterations / train_s, 1),
        final_loss=round(loss.item(), 4), test_nll=round(-lq.double().mean().item(), 4),
        logprob_seconds=round(logprob_s, 4), sample_seconds=round(sample_s, 4), eval_points=a.eval, data_sha256=digest)))


if __name__ == "__main__":
    main()
