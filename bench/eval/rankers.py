#!/usr/bin/env python3
"""Would a non-linear ranker beat kinship's conditional logit on the same evidence?

Reads the per-query dump of `kinship eval --only reports --dump FILE` (each query's candidates with
their first-stage features, `features[].x`, and its cross-validation fold) and, on the same
folds, fits (1) the conditional logit (softmax over a query's candidates, L2 0.01: what
`attrib::FitRankingModel` fits) and (2) gradient-boosted trees (XGBoost: pairwise, NDCG and
pointwise logistic objectives), each trained on four folds and tested on the fifth. Prints top-1
and top-3 over the known-actor queries, never abstaining, and the ceiling: the share of queries
whose actor is among the candidates at all.

Needs numpy and xgboost (Debian: python3-numpy python3-xgboost; not installed by
scripts/setup-deps.sh, as this is an offline study, not part of the build or tests).

Usage: python3 bench/eval/rankers.py queries.jsonl
"""
import json
import sys

import numpy as np
import xgboost as xgb

rows = [json.loads(line) for line in open(sys.argv[1])]
known = [r for r in rows if r["known"]]


def features(r):
    return np.array([c["x"][1:] for c in r["features"]])  # x[0] is the bias


def evaluate(score):
    top1 = top3 = 0
    for r in known:
        if not r["features"]:
            continue
        order = np.argsort(-score(r["fold"], features(r)), kind="stable")
        ranked = [r["features"][i]["actor"] for i in order]
        top1 += ranked[0] == r["actor"]
        top3 += r["actor"] in ranked[:3]
    return f"top-1 {top1 / len(known):.3f}  top-3 {top3 / len(known):.3f}"


def conditional_logit(train, l2=0.01, iters=500, rate=0.5):
    groups = [(features(r), np.array([c["actor"] == r["actor"] for c in r["features"]], float))
              for r in train if r["features"] and any(c["actor"] == r["actor"] for c in r["features"])]
    w = np.zeros(groups[0][0].shape[1])
    for _ in range(iters):
        grad = l2 * w
        for x, y in groups:
            z = x @ w
            p = np.exp(z - z.max())
            grad += x.T @ (p / p.sum() - y) / len(groups)
        w -= rate * grad
    return w


def boosted(train, objective, depth, rounds):
    x = np.vstack([features(r) for r in train if r["features"]])
    y = np.concatenate([[c["actor"] == r["actor"] for c in r["features"]] for r in train
                        if r["features"]]).astype(float)
    d = xgb.DMatrix(x, label=y)
    d.set_group([len(r["features"]) for r in train if r["features"]])
    params = {"objective": objective, "eta": 0.05, "max_depth": depth, "min_child_weight": 5,
              "subsample": 0.8, "colsample_bytree": 0.8, "seed": 1, "nthread": 2}
    return xgb.train(params, d, rounds)


folds = sorted({r["fold"] for r in rows})
train = {f: [r for r in known if r["fold"] != f] for f in folds}
reachable = sum(any(c["actor"] == r["actor"] for c in r["features"]) for r in known)
print(f"{len(known)} known-actor queries; actor among the candidates: {reachable} "
      f"({reachable / len(known):.3f}, the ceiling of top-1 and top-3)")
w = {f: conditional_logit(train[f]) for f in folds}
print(f"{'conditional logit (kinship)':34s} {evaluate(lambda f, x: x @ w[f])}")
for objective in ["rank:pairwise", "rank:ndcg", "binary:logistic"]:
    for depth, rounds in [(3, 200), (4, 300), (6, 300)]:
        m = {f: boosted(train[f], objective, depth, rounds) for f in folds}
        print(f"{'xgboost ' + objective + f' depth {depth} x{rounds}':34s} "
              f"{evaluate(lambda f, x: m[f].predict(xgb.DMatrix(x)))}")
