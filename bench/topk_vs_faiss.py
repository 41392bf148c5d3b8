"""Exact top-10 both signs: pyshape.top_partners against faiss IndexFlatIP in one run.

    python bench/topk_vs_faiss.py [--n 100000] [--T 1440]

make_shapes (seed 2024); faiss gets unit-norm centred rows and searches U (k + 1, the row
itself included) and -U; both on 2 threads.
"""
from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

import pyshape
from pyshape.synthetic import make_shapes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--T", type=int, default=1440)
    args = ap.parse_args()
    faiss.omp_set_num_threads(2)
    X, _ = make_shapes(args.n, args.T, random_state=2024, step_seconds=60)
    U = X - X.mean(axis=1, keepdims=True)
    U = np.ascontiguousarray(U / np.linalg.norm(U, axis=1, keepdims=True), dtype=np.float32)

    t = time.perf_counter()
    pyshape.top_partners(X, 10, which="both", n_threads=2)
    ps = time.perf_counter() - t
    print(f"pyshape {ps:.1f} s", flush=True)
    index = faiss.IndexFlatIP(U.shape[1])
    index.add(U)
    t = time.perf_counter()
    index.search(U, 11)
    index.search(-U, 10)
    fs = time.perf_counter() - t
    print(f"faiss {fs:.1f} s; faiss / pyshape {fs / ps:.2f}")


if __name__ == "__main__":
    main()
