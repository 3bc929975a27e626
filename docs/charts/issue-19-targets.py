# Issue 19: before and after against the targets, one sitting (docs/benchmarks.md).
# Run: python3 docs/charts/issue-19-targets.py (needs matplotlib).
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

measures = [
    ("durable submissions\nvs bare baseline\n(conc. 64)", 0.13, 0.19, 0.5, True),
    ("one reporter\nvs raw flush\n(conc. 1)", 0.18, 0.28, 0.5, True),
    ("a million stored\nvs empty store\n(after: vs load run)", 0.49, 0.80, 0.8, True),
    ("1 GiB up\nvs raw age", 0.25, 0.36, 0.5, True),
    ("1 GiB down\nvs raw age", 0.32, 0.36, 0.5, True),
    ("store on disk\nvs sealed reports", 2.19, 1.34, 1.3, False),
    ("store on disk\nvs attachment", 2.00, 1.00, 1.3, False),
    ("relay memory serving\n1 GiB (× 64 MiB)", 139.4 / 64, 45.9 / 64, 1.0, False),
]
fig, ax = plt.subplots(figsize=(12, 4.8))
width = 0.36
for index, (name, before, after, target, higher) in enumerate(measures):
    ax.bar(index - width / 2, before, width, color="#b0b0b0", label="before (0931a7d)" if index == 0 else None)
    met = after >= target if higher else after <= target
    ax.bar(index + width / 2, after, width, color="#2e7d32" if met else "#c62828",
           label="after (852d5d9): green met, red not met" if index == 0 else None)
    ax.plot([index - 0.45, index + 0.45], [target, target], color="black", linewidth=1.5,
            label="target" if index == 0 else None)
    ax.text(index + width / 2, after + 0.03, f"{after:.2f}", ha="center", fontsize=8)
    ax.text(index - width / 2, before + 0.03, f"{before:.2f}", ha="center", fontsize=8, color="#555")
ax.set_xticks(range(len(measures)))
ax.set_xticklabels([m[0] for m in measures], fontsize=8)
ax.set_ylabel("ratio (higher is better for the first five,\nlower for the last three)", fontsize=9)
ax.set_title("Issue 19: the relay before and after, one sitting on the 2-core machine (2026-12-03)", fontsize=10)
ax.legend(fontsize=8, loc="upper center")
ax.set_ylim(0, 2.5)
fig.tight_layout()
fig.savefig(__file__.replace(".py", ".png"), dpi=110)
