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
    parser.add_argument(
        "--cv",
        action="store_true",
        help="choose C by 3-fold stratified cross-validation over routec's grid (GridSearchCV)",
    )
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

    started, cpu_started = time.perf_counter(), time.process_time()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = vectorizer.fit_transform(text.iloc[train])
    if args.cv:
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        search = GridSearchCV(
            LogisticRegression(max_iter=1000),
            {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]},
            cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=42),
        )
        search.fit(x_train, labels.iloc[train])
        model = search.best_estimator_
        print(f"C chosen by cross-validation: {search.best_params_['C']}")
    else:
        model = LogisticRegression(C=args.C, max_iter=1000)
        model.fit(x_train, labels.iloc[train])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    predicted = model.predict(vectorizer.transform(text.iloc[test]))
    gold = labels.iloc[test]
    print(f"rows: train {len(train)}, test {len(test)}; features {x_train.shape[1]}; fit {seconds:.2f} s wall, {cpu_seconds:.2f} s CPU")
    print(f"accuracy {accuracy_score(gold, predicted) * 100:.2f} %")
    print(f"macro-F1 {f1_score(gold, predicted, average='macro') * 100:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
