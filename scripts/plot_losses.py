#!/usr/bin/env python3
"""Loss curves as a standalone SVG (no matplotlib needed): log-scale y axis.

    python3 scripts/plot_losses.py --out docs/img/prepu_vs_relu.svg --title "..." \
        --series "ReLU val=relu.csv:val_loss" --series "PRePU val=prepu.csv:val_loss"

Each --series is LABEL=CSV[:COLUMN] (COLUMN defaults to train_loss); the CSV
is what History::write_csv writes (epoch,train_loss,val_loss,seconds).
"""
import argparse
import csv
import math

COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def read_series(spec):
    label, _, rest = spec.partition("=")
    path, _, column = rest.partition(":")
    column = column or "train_loss"
    xs, ys = [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            y = float(row[column])
            if math.isfinite(y) and y > 0:
                xs.append(float(row["epoch"]))
                ys.append(y)
    return label, xs, ys


def nice_decades(lo, hi):
    return list(range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1))


def plot(series, title, xlabel, ylabel, out, width=720, height=420):
    left, right, top, bottom = 80, 170, 40, 50
    pw, ph = width - left - right, height - top - bottom
    all_x = [x for _, xs, _ in series for x in xs]
    all_y = [y for _, _, ys in series for y in ys]
    x0, x1 = min(all_x), max(all_x)
    decades = nice_decades(min(all_y), max(all_y))
    y0, y1 = decades[0], max(decades[-1], decades[0] + 1)

    def sx(x):
        return left + (x - x0) / ((x1 - x0) or 1) * pw

    def sy(y):
        return top + (y1 - math.log10(y)) / (y1 - y0) * ph

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
         'font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left + pw / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>']
    step = max(1, len(decades) // 8)
    for d in range(y0, y1 + 1, step):
        y = top + (y1 - d) / (y1 - y0) * ph
        o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">1e{d}</text>')
    for i in range(6):
        xv = x0 + (x1 - x0) * i / 5
        x = sx(xv)
        o.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
        o.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{xv:.0f}</text>')
    o.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    o.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">{xlabel}</text>')
    o.append(f'<text x="18" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 {top + ph / 2})">{ylabel}</text>')
    for i, (label, xs, ys) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
        o.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/>')
        ly = top + 14 + 18 * i
        o.append(f'<line x1="{left + pw + 12}" y1="{ly - 4}" x2="{left + pw + 32}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')
        o.append(f'<text x="{left + pw + 38}" y="{ly}">{label}</text>')
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="")
    ap.add_argument("--xlabel", default="epoch")
    ap.add_argument("--ylabel", default="MSE loss (log scale)")
    args = ap.parse_args()
    plot([read_series(s) for s in args.series], args.title, args.xlabel, args.ylabel, args.out)


if __name__ == "__main__":
    main()
