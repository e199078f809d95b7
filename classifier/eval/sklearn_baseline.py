#!/usr/bin/env python3
"""scikit-learn baseline for `routec train` on the same split.

Reads a labelled CSV and a split exported by `routec train --export-split`,
fits TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True) +
LogisticRegression on the `train` rows, and prints accuracy and macro-F1 on
the `test` rows, so the two tools are compared on identical rows.

    pip install scikit-learn pandas
    routec train ../shared/data/support-tickets.csv --text subject,body \
        --label queue --holdout 0.2 --seed 42 --out /tmp/st.model \
        --export-split /tmp/st-split.json
    python3 classifier/eval/sklearn_baseline.py ../shared/data/support-tickets.csv \
        /tmp/st-split.json --text subject,body --label queue

Skips cleanly (exit 0, with a message) when the data file is absent.
"""

import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("split")
    parser.add_argument("--text", default="subject,body")
    parser.add_argument("--label", default="queue")
    parser.add_argument("--C", type=float, default=1.0)
    args = parser.parse_args()
    if not os.path.exists(args.data):
        print(f"skipped: {args.data} is absent")
        return 0

    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    # keep_default_na=False: empty cells stay "" as in the Rust reader.
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    with open(args.split) as handle:
        split = json.load(handle)
    fields = args.text.split(",")
    text = frame[fields].agg("\n".join, axis=1)
    labels = frame[args.label].str.strip()
    train, test = split["train"], split["test"]

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = vectorizer.fit_transform(text.iloc[train])
    model = LogisticRegression(C=args.C, max_iter=1000)
    model.fit(x_train, labels.iloc[train])
    seconds = time.perf_counter() - started
    predicted = model.predict(vectorizer.transform(text.iloc[test]))
    gold = labels.iloc[test]
    print(f"rows: train {len(train)}, test {len(test)}; features {x_train.shape[1]}; fit {seconds:.2f} s")
    print(f"accuracy {accuracy_score(gold, predicted) * 100:.2f} %")
    print(f"macro-F1 {f1_score(gold, predicted, average='macro') * 100:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
